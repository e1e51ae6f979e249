"""What every Stripe layout in a database has in common: how it is recognized, and the
two things a synced copy must say beside its rows (issue 17).

A layout is recognized by its subscriptions table (a name, and marker columns only that
layout writes), never assumed. Once recognized, its rows are kept or left out by the
deletion markers its loader writes (Fivetran's ``_fivetran_deleted``/``_fivetran_active``,
Airbyte's ``is_deleted``/``_ab_cdc_deleted_at``), each left-out subscription reported as
a skip; and its sync-time column (:mod:`billdrift.sources.pushdown.freshness`) says how
old the copy is. Both run as small queries beside the main SELECT, in-process and pushed
down alike, so the two report the same skips and the same age.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from billdrift.core.model import BillingData, Skip, SyncTime
from billdrift.errors import SourceError
from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table
from billdrift.sources.billing.common import skip
from billdrift.sources.billing.stripe_mirror_query import MirrorQuery, sibling
from billdrift.sources.pushdown.freshness import sync_column

Build = Callable[[ReadOnlyConnection, Table, Sequence[Table]], MirrorQuery]


@dataclass(frozen=True)
class Layout:
    """One way Stripe's subscriptions land in a database."""

    #: Its ``billing.mirror`` value.
    name: str
    #: How messages name an installation of it ("a Fivetran Stripe schema").
    title: str
    #: What recognizing it looks for, as messages say it.
    looked_for: str
    #: Whether `table` is this layout's subscriptions table.
    claims: Callable[[ReadOnlyConnection, Table], bool]
    #: The SELECT reading it, from its subscriptions table and the tables beside it.
    build: Build


def names(table: Table) -> set[str]:
    return {column.name.lower() for column in table.columns}


def find_sync(query: MirrorQuery) -> None:
    """The sync-time column among the subscriptions table's columns, if any."""
    found = sync_column(c.name for c in query.table.columns)
    if found is not None:
        column = next(c for c in query.table.columns if c.name.lower() == found[0])
        query.sync = (column, found[1])


def deleted_skips(conn: ReadOnlyConnection, query: MirrorQuery) -> tuple[Skip, ...]:
    """One skip per subscription deleted at the source: never left out silently."""
    if query.deleted is None:
        return ()
    where = conn.url.shown
    table = query.table.qualified
    return tuple(
        replace(skip(where, f"{table} id={ident}", query.deleted_reason), left_out=True)
        for (ident,) in conn.fetch(query.deleted)
    )


_TIMES = ("timestamp", "date", "datetime")
_NUMBERS = ("int", "numeric", "decimal", "real", "double", "float")


def newest_sync(conn: ReadOnlyConnection, query: MirrorQuery) -> SyncTime | None:
    """When the table was last synced: the newest value of its sync column (timestamps,
    or unix seconds), as UTC. None when it has no sync column (said in a note)."""
    if query.sync is None:
        return None
    column, layout = query.sync
    ref = f"max({conn.quote(column.name)})"
    kind = column.type.lower()
    if not any(word in kind for word in (*_TIMES, *_NUMBERS)):
        raise SourceError(
            f"{query.table.qualified}.{column.name} in {conn.url.shown} is {column.type}, "
            "not a timestamp: cannot tell how old the billing data is"
        )
    value = conn.fetch(f"SELECT {ref} FROM {conn.qualify(query.table.qualified)}")[0][0]
    newest = _instant(value)
    return SyncTime(query.table.qualified, column.name, layout, newest)


def _instant(value: object) -> datetime | None:
    """A sync time as read (timestamp, naive meaning UTC; date; unix seconds) in UTC."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float | Decimal):
        return datetime.fromtimestamp(float(value), UTC)
    return None


def with_sync_state(conn: ReadOnlyConnection, query: MirrorQuery, data: BillingData) -> BillingData:
    """`data` with the subscriptions deleted at the source as skips and the newest sync
    (or a note that no sync column says it): in-process and pushed down alike."""
    synced = newest_sync(conn, query)
    notes = data.notes if query.sync is not None else (*data.notes, _no_sync_note(query))
    deleted = deleted_skips(conn, query)
    description = data.description
    if deleted:
        description += f", {len(deleted)} deleted at the source (skipped)"
    return replace(
        data, skips=(*data.skips, *deleted), notes=notes, synced=synced, description=description
    )


def _no_sync_note(query: MirrorQuery) -> str:
    return (
        f"{query.table.qualified}: no sync-time column found (looked for "
        "_fivetran_synced, _airbyte_extracted_at, _updated_at, batch_timestamp, "
        "djstripe_updated, updated_at), so how old this copy is cannot be told"
    )


def required_sibling(
    conn: ReadOnlyConnection, of: Table, tables: Sequence[Table], wanted: Sequence[str], what: str
) -> Table:
    """The first of the tables `wanted` beside `of` (same schema); a SourceError naming
    them when none is there."""
    for name in wanted:
        found = sibling(tables, of, name)
        if found is not None:
            return found
    beside = sorted(t.name for t in tables if t.schema == of.schema)
    raise SourceError(
        f"{of.qualified} in {conn.url.shown} looks like {what}, but there is no "
        f"{' or '.join(of.schema + '.' + n for n in wanted)} table beside it; tables in "
        f"{of.schema}: {', '.join(beside) or 'none'}"
    )


def column(table: Table, *candidates: str) -> Column | None:
    """The first of `candidates` that `table` has."""
    by_name = {c.name.lower(): c for c in table.columns}
    return next((by_name[n] for n in candidates if n in by_name), None)
