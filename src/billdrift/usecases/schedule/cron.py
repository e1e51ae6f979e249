"""Cron expressions for `billdrift schedule cron|github`, and the crontab line.

Expressions are read by croniter (names such as ``MON-FRI`` and ``JAN``, ranges,
lists, steps, and the nicknames ``@hourly`` ... ``@yearly``), restricted to what
cron itself and GitHub Actions accept: five fields, no croniter extensions (``L``,
``#``, ``W``, ``?``, ``H``, seconds or years), no range that runs backwards, and
no day that never comes (``0 6 31 2 *``). ``@reboot`` is refused: it runs once at
boot, which is no schedule for a check (``billdrift watch`` is the long-running
form). GitHub Actions does not take the nicknames, so its workflow gets them
spelled out as five fields.

Cron reads the expression in the machine's local time; GitHub Actions reads it in
UTC. :meth:`CronSchedule.next_run` says when the next run would be, in whatever
zone the caller gives, so the front-end can show it in the right one.

``flock -n`` keeps a crontab run from overlapping the previous one (a slow run is
skipped, not queued behind); output goes to a log beside the history store.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from croniter import CroniterError, croniter

from billdrift.errors import ConfigError

#: The nicknames cron and croniter both read (``@reboot`` is refused: see above).
NICKNAMES = ("@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually")
#: One comma-separated element of a field in standard cron syntax: ``*`` or a number or
#: name, optionally a range, optionally a step. Anything else is a croniter extension.
_VALUE = r"(?:\d+|[a-z]{3})"
_ELEMENT = re.compile(rf"^(?:\*|{_VALUE}(?:-{_VALUE})?)(?:/\d+)?$")
_NUMERIC_RANGE = re.compile(r"^(\d+)-(\d+)")
#: Each field's name and the values cron takes in it.
_FIELDS = (
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 or SUN-SAT; 0 and 7 are Sunday"),
)
_ANY = ("*",) * len(_FIELDS)
_SYNTAX = (
    "expected five fields (minute hour day-of-month month day-of-week) of numbers, names "
    '(JAN-DEC, SUN-SAT), *, ranges a-b, lists a,b and steps /n, e.g. "0 6 * * MON-FRI", '
    "or one of " + " ".join(NICKNAMES)
)


@dataclass(frozen=True)
class CronSchedule:
    """A checked cron expression: as given (whitespace normalized) and as five fields."""

    expression: str
    five_fields: str

    def next_run(self, after: datetime) -> datetime:
        """The first run strictly after `after` (an aware datetime, in the zone the
        schedule is read in: local time for cron, UTC for GitHub Actions)."""
        found: datetime = croniter(self.expression, after).get_next(datetime)
        return found


def _refuse(expression: str, why: str) -> ConfigError:
    return ConfigError(f"cron expression {expression!r}: {why}; {_SYNTAX}")


def _check_fields(expression: str, fields: list[str]) -> None:
    """Standard cron syntax only, field by field (croniter reads more than cron does)."""
    if len(fields) != len(_FIELDS):
        raise _refuse(expression, f"{len(fields)} field{'s' if len(fields) != 1 else ''}")
    for (name, _values), field in zip(_FIELDS, fields, strict=True):
        for element in field.split(","):
            if not _ELEMENT.match(element.lower()):
                raise _refuse(expression, f"{element!r} in the {name} field is not cron syntax")
            numbers = _NUMERIC_RANGE.match(element)
            if numbers and int(numbers.group(1)) > int(numbers.group(2)):
                raise _refuse(
                    expression, f"the range {numbers.group(0)} in the {name} field runs backwards"
                )


def _why(expression: str, error: CroniterError) -> str:
    """croniter's reason, naming the field at fault and the values it takes when one
    field alone fails (croniter's own message names neither)."""
    fields = expression.split()
    if len(fields) == len(_FIELDS):
        for index, ((name, values), field) in enumerate(zip(_FIELDS, fields, strict=True)):
            alone = " ".join((*_ANY[:index], field, *_ANY[index + 1 :]))
            if not croniter.is_valid(alone):
                return f"the {name} field {field!r} is not valid (it takes {values})"
    # croniter repeats the expression first: "[0 0 30 2 *] is not acceptable. Day(s) ..."
    return re.sub(r"^\[[^\]]*\]\s*(is not acceptable[.,]?\s*)?", "", str(error))


def parse_cron(text: str) -> CronSchedule:
    """`text` checked as a cron expression both cron and GitHub Actions run, or a
    :class:`~billdrift.errors.ConfigError` saying what is wrong with it."""
    expression = " ".join(text.split())
    if expression.lower() == "@reboot":
        raise ConfigError(
            "cron expression '@reboot': runs once at boot, not on a schedule; give a cron "
            'expression such as "0 6 * * *", or run `billdrift watch --every 1d`'
        )
    nickname = expression.lower() in NICKNAMES
    if not nickname:
        _check_fields(expression, expression.split())
    try:
        expanded, _nth = croniter.expand(expression, strict=True)
        schedule = CronSchedule(expression, expression)
        schedule.next_run(datetime(2000, 1, 1).astimezone())  # a day that never comes
    except CroniterError as error:
        raise ConfigError(f"cron expression {expression!r}: {_why(expression, error)}") from None
    if nickname:  # GitHub Actions reads five fields only: croniter's own expansion
        five = " ".join(",".join(str(value) for value in field) for field in expanded)
        schedule = CronSchedule(expression, five)
    return schedule


def crontab_line(cron: str, executable: str, config: str, directory: Path) -> str:
    base = directory.resolve()
    state = base / ".billdrift"
    command = " ".join(
        shlex.quote(part)
        for part in (
            executable,
            "check",
            "--config",
            str((base / config).resolve()),
            "--history",
            str(state / "history.sqlite"),
            "--format",
            "json",
            "--output",
            str(state / "last-report.json"),
        )
    )
    lock = shlex.quote(str(state / "cron.lock"))
    log = shlex.quote(str(state / "cron.log"))
    return (
        f"{cron} mkdir -p {shlex.quote(str(state))} && cd {shlex.quote(str(base))} && "
        f"flock -n {lock} {command} >> {log} 2>&1"
    )
