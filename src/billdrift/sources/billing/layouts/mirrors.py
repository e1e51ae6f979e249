"""The two mirrors an app keeps itself: stripe sync-engine (``stripe.subscriptions``, in
PostgreSQL only) and dj-stripe (``djstripe_subscription`` in any schema, PostgreSQL or
MySQL/MariaDB). Their SELECTs are built in
:mod:`~billdrift.sources.billing.stripe_mirror_query`."""

from __future__ import annotations

from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import Layout
from billdrift.sources.billing.stripe_mirror_query import (
    DJ_STRIPE,
    SYNC_ENGINE,
    dj_stripe_query,
    sync_engine_query,
)


def _sync_engine(conn: ReadOnlyConnection, table: Table) -> bool:
    return (
        conn.dialect == "postgresql"  # the sync engine writes to PostgreSQL only
        and table.name.lower() == "subscriptions"
        and table.schema.lower() == "stripe"
    )


def _dj_stripe(conn: ReadOnlyConnection, table: Table) -> bool:
    return table.name.lower() == "djstripe_subscription"


SYNC_ENGINE_LAYOUT = Layout(
    name=SYNC_ENGINE,
    title="a stripe sync-engine mirror",
    looked_for="stripe.subscriptions (stripe sync-engine)",
    claims=_sync_engine,
    build=sync_engine_query,
)
DJ_STRIPE_LAYOUT = Layout(
    name=DJ_STRIPE,
    title="a dj-stripe mirror",
    looked_for="djstripe_subscription in any schema (dj-stripe)",
    claims=_dj_stripe,
    build=dj_stripe_query,
)
