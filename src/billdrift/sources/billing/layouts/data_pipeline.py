"""Stripe Data Pipeline (and Sigma's table names): ``subscriptions`` with ``customer_id``,
``subscription_items`` (``price_id``, item-level periods), ``prices`` and ``customers``.

Data Pipeline shares these tables into warehouses and refreshes them about every 3 h;
a load into PostgreSQL keeps the same names. Its load time (``batch_timestamp``) gives
freshness when the copy kept it.
"""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import Layout, names
from billdrift.sources.billing.layouts.relational import Shape, relational_query
from billdrift.sources.billing.stripe_mirror_query import DATA_PIPELINE, MirrorQuery

SHAPE = Shape(
    layout=DATA_PIPELINE,
    what="Stripe Data Pipeline tables",
    items=("subscription_items",),
    prices=("prices", "plans"),
    customers=("customers",),
)


def _claims(conn: ReadOnlyConnection, table: Table) -> bool:
    """``subscriptions`` keyed to customers by ``customer_id`` (an API-shaped copy, like
    the sync engine's, has ``customer`` instead)."""
    columns = names(table)
    return (
        conn.dialect == "postgresql"
        and table.name.lower() == "subscriptions"
        and "customer_id" in columns
        and "customer" not in columns
    )


def _build(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> MirrorQuery:
    return relational_query(conn, table, tables, SHAPE)


LAYOUT = Layout(
    name=DATA_PIPELINE,
    title="Stripe Data Pipeline tables",
    looked_for="subscriptions with customer_id (Stripe Data Pipeline / Sigma)",
    claims=_claims,
    build=_build,
)
