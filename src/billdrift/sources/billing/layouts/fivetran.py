"""Fivetran's Stripe connector: one table per object, every row stamped ``_fivetran_synced``.

Tables (as fivetran/dbt_stripe's staging models read them): ``subscription`` (or, in
history mode, ``subscription_history`` whose current versions have ``_fivetran_active``),
``subscription_item`` (``plan_id`` is the price id), ``price`` (or the legacy ``plan``)
and ``customer``. Rows Fivetran marks ``_fivetran_deleted`` are left out and reported.
"""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import Layout, names
from billdrift.sources.billing.layouts.relational import Shape, relational_query
from billdrift.sources.billing.stripe_mirror_query import FIVETRAN, MirrorQuery

_TABLES = ("subscription", "subscription_history")
SHAPE = Shape(
    layout=FIVETRAN,
    what="a Fivetran Stripe schema",
    items=("subscription_item", "subscription_item_history"),
    prices=("price", "plan"),
    customers=("customer",),
)


def _claims(conn: ReadOnlyConnection, table: Table) -> bool:
    return (
        conn.dialect == "postgresql"
        and table.name.lower() in _TABLES
        and "_fivetran_synced" in names(table)
    )


def _build(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> MirrorQuery:
    return relational_query(conn, table, tables, SHAPE)


LAYOUT = Layout(
    name=FIVETRAN,
    title="a Fivetran Stripe schema",
    looked_for="subscription or subscription_history with _fivetran_synced (Fivetran)",
    claims=_claims,
    build=_build,
)
