"""Stripe's own hosted read-only Postgres (and its real-time sync to Postgres, preview):
API-shaped columns plus ``_account_id``, ``_updated_at`` (the sync time) and the whole
object as ``_raw_data``, which wins over the columns as in the newer sync engine.
"""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import Layout, names
from billdrift.sources.billing.stripe_mirror_query import (
    STRIPE_POSTGRES,
    MirrorQuery,
    sync_engine_query,
)


def _claims(conn: ReadOnlyConnection, table: Table) -> bool:
    columns = names(table)
    return (
        conn.dialect == "postgresql"
        and table.name.lower() == "subscriptions"
        and {"_account_id", "_updated_at"} <= columns
    )


def _build(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> MirrorQuery:
    return sync_engine_query(conn, table, tables, STRIPE_POSTGRES, "Stripe's hosted Postgres")


LAYOUT = Layout(
    name=STRIPE_POSTGRES,
    title="Stripe's hosted Postgres",
    looked_for="subscriptions with _account_id and _updated_at (Stripe's hosted Postgres)",
    claims=_claims,
    build=_build,
)
