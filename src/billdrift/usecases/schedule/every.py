"""Intervals (``--every 1h``), checked before anything runs (cron expressions: cron.py)."""

from __future__ import annotations

import re

from billdrift.errors import ConfigError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_every(text: str) -> int:
    """Seconds in ``30s``, ``15m``, ``1h`` or ``1d``; at least one second."""
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ConfigError(f"--every {text!r}: expected a positive duration like 30m, 1h or 1d")
    return int(match.group(1)) * _UNITS[match.group(2)]
