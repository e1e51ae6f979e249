"""Freshness: the sync column is found among a table's columns, and a sync older than
the bound is an ERROR (exit 2), on both sides of the bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest

from billdrift.config import load_config
from billdrift.errors import EXIT_ERROR, SourceError
from billdrift.sources.pushdown.freshness import newest_sync_sql, require_fresh, sync_column

AS_OF = datetime(2026, 11, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["id", "status", "_FIVETRAN_SYNCED", "_fivetran_active"], "_fivetran_synced"),
        (["id", "is_deleted", "_airbyte_extracted_at"], "_airbyte_extracted_at"),
        (["id", "_account_id", "_updated_at", "_raw_data"], "_updated_at"),
        (["id", "batch_timestamp"], "batch_timestamp"),
        (["id", "status"], None),
    ],
)
def test_the_sync_column_is_found_among_the_columns(
    columns: list[str], expected: str | None
) -> None:
    found = sync_column(columns)
    assert (found[0] if found else None) == expected


def test_a_sync_just_within_the_bound_passes_and_just_past_it_is_an_error() -> None:
    bound = load_config(None).billing.max_sync_age_hours
    assert bound == 24.0  # the documented default
    within = AS_OF - timedelta(hours=24)
    assert require_fresh(within, AS_OF, bound, "warehouse") == pytest.approx(24.0)
    with pytest.raises(
        SourceError, match=r"24\.0 h old, more than billing.max_sync_age_hours = 24"
    ) as error:
        require_fresh(within - timedelta(seconds=1), AS_OF, bound, "warehouse")
    assert error.value.exit_code == EXIT_ERROR


def test_no_sync_time_is_an_error_not_a_guess() -> None:
    with pytest.raises(SourceError, match="no sync time found"):
        require_fresh(None, AS_OF, 24, "warehouse")


def test_the_newest_sync_is_read_by_sql() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE subscription (id VARCHAR, _fivetran_synced TIMESTAMPTZ)")
    con.execute(
        "INSERT INTO subscription VALUES ('sub_1', '2026-11-20 00:00:00+00'), "
        "('sub_2', '2026-11-21 12:00:00+00')"
    )
    row = con.execute(newest_sync_sql("subscription", "_fivetran_synced")).fetchone()
    assert row is not None
    newest = row[0].astimezone(UTC)
    assert require_fresh(newest, AS_OF, 12, "fivetran") == pytest.approx(12.0)
    with pytest.raises(SourceError):
        require_fresh(newest, AS_OF, 11.9, "fivetran")
