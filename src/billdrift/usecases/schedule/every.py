"""Intervals (``--every 1h``) and cron expressions, checked before anything is written."""

from __future__ import annotations

import re

from billdrift.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_CRON_FIELD = re.compile(r"^[\d*/,\-]+$")
_CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def parse_every(text: str) -> int:
    """Seconds in ``30s``, ``15m``, ``1h`` or ``1d``; at least one second."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"--every {text!r}: expected a positive duration like 30m, 1h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]


def check_cron(expression: str) -> str:
    """A standard five-field cron expression (minute hour day month weekday), as given.

    GitHub Actions and cron both take this form; numbers are range-checked so a
    typo fails here rather than silently never running.
    """
    fields = expression.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(field) for field in fields):
        raise ConfigError(
            f"cron expression {expression!r}: expected five fields (minute hour day month "
            'weekday), e.g. "0 6 * * *" for 06:00 UTC daily'
        )
    for field, (low, high) in zip(fields, _CRON_RANGES, strict=True):
        for number in re.findall(r"\d+", field.split("/")[0]):
            if not low <= int(number) <= high:
                raise ConfigError(
                    f"cron expression {expression!r}: {number} is outside {low}-{high}"
                )
    return " ".join(fields)
