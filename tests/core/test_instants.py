"""One definition of an acceptable instant: 1970..9999 UTC, offsets within ±18:00."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pytest

from billdrift.core.instants import InstantError, acceptable, from_unix, parse_instant, sql_in_range
from billdrift.errors import ConfigError


@pytest.mark.parametrize(
    "value",
    [
        datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=18, minutes=1))),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-23))),
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),  # year 10000 in UTC
    ],
)
def test_instants_outside_the_range_or_with_absurd_offsets_are_refused(value: datetime) -> None:
    with pytest.raises(InstantError):
        acceptable(value)


def test_acceptable_instants_come_back_in_utc() -> None:
    east = datetime(2026, 1, 1, 5, tzinfo=timezone(timedelta(hours=5)))
    assert acceptable(east) == datetime(2026, 1, 1, tzinfo=UTC)
    assert acceptable(datetime(2026, 1, 1)) == datetime(2026, 1, 1, tzinfo=UTC)
    assert acceptable(datetime(9999, 12, 31, 23, 59, tzinfo=UTC)).year == 9999
    assert acceptable(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-18)))).day == 1


@pytest.mark.parametrize(
    "seconds", [-1, float("nan"), float("inf"), float("-inf"), 1e308, 10**30, 253_402_300_800]
)
def test_unix_seconds_outside_the_range_are_refused(seconds: float) -> None:
    with pytest.raises(InstantError, match="accepted range"):
        from_unix(seconds)


@pytest.mark.parametrize(
    "text",
    ["infinity", "-infinity", "epoch", "0000-01-01", "10000-01-01", "1969-12-31",
     "2026-11-22T00:00:00+19:00", "9999-12-31T23:00:00-05:00"],
)  # fmt: skip
def test_a_typed_instant_that_is_no_date_names_the_option(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^--as-of: "):
        parse_instant(text, "--as-of", "a date")


def test_the_sql_bounds_refuse_what_duckdb_reads_as_dates() -> None:
    con = duckdb.connect()
    refused = ["infinity", "-infinity", "0000-01-01", "10000-01-01", "1969-12-31 23:59:59"]
    kept = ["1970-01-01", "2026-11-22 09:30", "9999-12-31 23:59:59.999999"]
    for text, expected in [(t, False) for t in refused] + [(t, True) for t in kept]:
        row = con.execute(f"SELECT {sql_in_range('CAST(? AS TIMESTAMP)')}", [text]).fetchone()
        assert row == (expected,), text
