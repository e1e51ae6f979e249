"""Airbyte's Stripe source: API-shaped tables (``subscriptions`` with ``customer``,
``status``, the ``items`` list...), each row stamped ``_airbyte_extracted_at`` (older
destinations: ``_airbyte_emitted_at``), deleted objects flagged ``is_deleted``.

The columns are Stripe's own field names, so the table is read as the sync engine's
is (:func:`~billdrift.sources.billing.stripe_mirror_query.sync_engine_query`), emails
from ``customers`` beside it. Subscriptions sync incrementally through the Events API,
which keeps 30 days: freshness is what says a stalled connection has lost events.
"""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import Layout, names
from billdrift.sources.billing.stripe_mirror_query import AIRBYTE, MirrorQuery, sync_engine_query

_MARKERS = frozenset({"_airbyte_extracted_at", "_airbyte_emitted_at", "_airbyte_raw_id"})


def _claims(conn: ReadOnlyConnection, table: Table) -> bool:
    return (
        conn.dialect == "postgresql"
        and table.name.lower() == "subscriptions"
        and bool(_MARKERS & names(table))
    )


def _build(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> MirrorQuery:
    return sync_engine_query(conn, table, tables, AIRBYTE, "an Airbyte Stripe schema")


LAYOUT = Layout(
    name=AIRBYTE,
    title="an Airbyte Stripe schema",
    looked_for="subscriptions with _airbyte_extracted_at (Airbyte)",
    claims=_claims,
    build=_build,
)
