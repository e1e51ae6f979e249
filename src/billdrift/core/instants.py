"""What billdrift accepts as an instant, and reading one a person typed.

One definition for every input (``--as-of``, exception expiry dates, timestamps in
Stripe and Paddle JSON, API payloads and mirrors, dates in CSV exports): an instant
lies between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, and an offset
written with it is within ±18:00 (every real zone is within -12:00..+14:00).
Anything else is not a date: ``infinity``, ``epoch``, year 0 or 10000, an offset of
+99:00 are what databases and date libraries accept as placeholders or by accident,
and a subscription paid "until infinity" would be judged entitled forever. Sources
turn such a value into a skipped row naming its field; a person's typed instant
into a ConfigError naming the option. The CSV reader applies the same definition in SQL
(:func:`sql_instant`, :func:`sql_not_acceptable`), so a million dates are read and
checked without Python per row.

A typed date means midnight UTC that day, no zone means UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from billdrift.errors import ConfigError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=18)
#: Unix seconds of 10000-01-01T00:00:00Z, the first instant past LATEST.
_END_SECONDS = 253_402_300_800
#: How messages state the bounds.
RANGE = "the accepted range, 1970-01-01 to 9999-12-31 UTC"


class InstantError(ValueError):
    """A value that reads as a date but is not an acceptable instant."""


def acceptable(value: datetime) -> datetime:
    """`value` in UTC (naive means UTC) when it is an acceptable instant, else InstantError."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise InstantError(f"UTC offset {_offset_text(offset)} is beyond ±18:00")
    try:
        utc = value.replace(tzinfo=UTC) if offset is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:00-05:00 is past year 9999 in UTC
        raise InstantError(f"{value.isoformat()} is outside {RANGE}") from None
    if not EARLIEST <= utc <= LATEST:
        raise InstantError(f"{value.isoformat()} is outside {RANGE}")
    return utc


def utc_text(moment: datetime | None) -> str | None:
    """An instant as billdrift writes one in its documents and records: ISO 8601, ``Z``
    for UTC (an offset written as given); None for none."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def from_unix(seconds: float) -> datetime:
    """Unix seconds as an acceptable instant, else InstantError (NaN, infinities too)."""
    try:
        if not 0 <= seconds < _END_SECONDS:  # False for NaN
            raise ValueError
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (ValueError, OverflowError, OSError):  # also a fraction rounding up to year 10000
        raise InstantError(f"unix timestamp {seconds!r} is outside {RANGE}") from None


def sql_in_range(column: str) -> str:
    """SQL true when the naive UTC TIMESTAMP `column` is within the bounds (false for
    DuckDB's infinities and BC dates)."""
    low = EARLIEST.strftime("%Y-%m-%d %H:%M:%S")
    high = LATEST.strftime("%Y-%m-%d %H:%M:%S.%f")
    return f"{column} BETWEEN TIMESTAMP '{low}' AND TIMESTAMP '{high}'"


#: DuckDB text that may carry a UTC offset or zone ("...12:00+05", "...12:00:00Z");
#: shorter text, or text ending in seconds, takes the cheap naive cast, which would
#: silently drop an offset.
_MAY_HAVE_OFFSET = "strlen({raw}) > 19 OR (strlen({raw}) > 16 AND {raw} NOT LIKE '%:__')"


def sql_instant(raw: str) -> str:
    """DuckDB SQL reading the text column `raw` as a naive UTC TIMESTAMP (NULL when it
    does not parse); check the result with :func:`sql_not_acceptable`."""
    return (
        f"CASE WHEN {_MAY_HAVE_OFFSET.format(raw=raw)} "
        f"THEN TRY_CAST({raw} AS TIMESTAMPTZ)::TIMESTAMP ELSE TRY_CAST({raw} AS TIMESTAMP) END"
    )


def sql_not_acceptable(raw: str, parsed: str) -> str:
    """DuckDB SQL true when `parsed` (:func:`sql_instant` of `raw`) is no acceptable
    instant: out of range (DuckDB reads ``infinity`` and year 10000), not written with
    digits (DuckDB reads ``epoch`` as 1970-01-01) or with an offset beyond ±18:00.

    Vectorised, for millions of rows: comparisons first, as they cost next to nothing,
    and the offset is only worked out for text that may carry one (the naive cast
    ignores it, so the difference of the two casts is the offset)."""
    digits = f"ltrim({raw}) >= '0' AND ltrim({raw}) < ':'"
    offset = (
        f"({_MAY_HAVE_OFFSET.format(raw=raw)}) AND NOT suffix({raw}, 'Z') AND "
        f"abs(epoch(TRY_CAST({raw} AS TIMESTAMP)) - epoch({parsed})) "
        f"> {int(MAX_OFFSET.total_seconds())}"
    )
    return (
        f"NOT ({sql_in_range(parsed)}) OR {raw} >= ':' OR ({raw} < '0' AND NOT ({digits}))"
        f" OR ({offset})"
    )


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def parse_instant(text: str, option: str, expected: str) -> datetime:
    """A typed instant; anything else is a ConfigError naming `option` and `expected`."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{option}: expected {expected}; got {text!r}") from None
    try:
        return acceptable(parsed)
    except InstantError as error:
        raise ConfigError(f"{option}: {error}; got {text!r}") from None
