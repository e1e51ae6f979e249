"""How old a warehouse's or mirror's newest sync is, and refusing a verdict on stale data.

A mirror that stopped syncing reports yesterday's subscriptions as today's: a
confident PASS on it is wrong. Each layout stamps its rows with a sync time; which
column it is is found among the table's columns (introspected), never assumed, and
the newest one is compared with ``billing.max_sync_age_hours``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from billdrift.core.model import BillingData
from billdrift.errors import SourceError

#: Sync-time columns by layout, in the order they are preferred when several exist.
SYNC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_fivetran_synced", "Fivetran"),
    ("_airbyte_extracted_at", "Airbyte"),
    ("_airbyte_emitted_at", "Airbyte (v1 raw tables)"),
    ("_updated_at", "Stripe's hosted Postgres / sync"),
    ("batch_timestamp", "Stripe Data Pipeline"),
    ("djstripe_updated", "dj-stripe"),
    ("updated_at", "stripe sync-engine"),
)


def sync_column(columns: Iterable[str]) -> tuple[str, str] | None:
    """The sync-time column among `columns` (a table's, as introspected) and its layout."""
    present = {column.lower() for column in columns}
    return next(((c, layout) for c, layout in SYNC_COLUMNS if c in present), None)


def newest_sync_sql(relation: str, column: str) -> str:
    """The query reading the newest sync time of `relation` (one row, one instant)."""
    return f'SELECT max("{column}") FROM {relation}'


def require_fresh(newest: datetime | None, as_of: datetime, max_hours: float, where: str) -> float:
    """The age of the newest sync in hours; a SourceError (exit 2) when it is older than
    `max_hours`, or when nothing says when the data was synced."""
    if newest is None:
        raise SourceError(
            f"{where}: no sync time found (empty table or no sync column): cannot tell how "
            "old the billing data is"
        )
    age = (as_of - newest).total_seconds() / 3600
    if age > max_hours:
        raise SourceError(
            f"{where}: the newest sync is {age:.1f} h old, more than "
            f"billing.max_sync_age_hours = {max_hours:g}; the billing side may be stale, so "
            "no verdict is given. Fix the sync, or raise the bound if this age is expected"
        )
    return age


def checked(data: BillingData, as_of: datetime, max_hours: float) -> BillingData:
    """`data` with how old its newest sync is added to its description (the report's
    source info); a SourceError (exit 2) naming the table and its age when it is older
    than `max_hours`. Sources that are not synced copies pass unchanged."""
    synced = data.synced
    if synced is None:
        return data
    where = f"{synced.table} ({synced.layout}, {synced.column})"
    age = require_fresh(synced.newest, as_of, max_hours, where)
    if age >= 0:
        said = f"newest sync {age:.1f} h before --as-of ({synced.column})"
    else:
        said = f"newest sync {-age:.1f} h after --as-of ({synced.column})"
    return replace(data, description=f"{data.description}; {said}")
