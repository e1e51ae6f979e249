"""Stripe mirrored into the app's own database: stripe sync-engine or dj-stripe tables.

Apps that copy Stripe into their database can name it as the billing input
(``postgresql://...``, ``env:DATABASE_URL`` or ``stripe-mirror:URL``). Which
layout the database holds is found by introspection, never by assumed columns:

* stripe sync-engine (supabase/stripe-sync-engine): ``stripe.subscriptions``
  with one column per Stripe field (``items`` and ``discount`` as jsonb;
  timestamps as unix seconds, jsonb numbers or timestamptz, all accepted).
  Newer versions add the whole object as ``_raw_data``, which then wins over
  the columns. Emails come from ``stripe.customers`` when that table exists.
* dj-stripe 2.10+: ``djstripe_subscription.stripe_data`` holds the whole
  subscription object; emails come from ``djstripe_customer`` (its ``email``
  column, else its ``stripe_data``), joined on the subscription's customer key.

``billing.mirror`` picks a layout; ``"auto"`` reads the one present and refuses
to guess when both are. Only columns that exist are selected. JSON arrives as
text, is parsed per row with orjson and goes through the same Stripe parser as
a JSON export, so a mirror and an export of one account read the same. A row
whose JSON is broken or whose fields do not parse is a Skip naming the table
and the subscription id; rows stream in Arrow batches, so memory stays bounded.

The sync-engine layout is read from PostgreSQL only (the engine writes to
nothing else); dj-stripe's tables are read from PostgreSQL, MySQL and MariaDB.

This module finds the layout; the SELECT for it is built in
:mod:`~billdrift.sources.billing.stripe_mirror_query` and its rows are turned
into Stripe objects in :mod:`~billdrift.sources.billing.stripe_mirror_rows`.
The whole read, connect to last row, ends by ``billing.mirror_timeout_seconds``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Timeouts, bounded
from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.infra.db.urls import resolve
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.stripe_mirror_query import (
    DJ_STRIPE,
    SYNC_ENGINE,
    MirrorQuery,
    dj_stripe_query,
    sync_engine_query,
)
from billdrift.sources.billing.stripe_mirror_rows import read_mirror

_SYNC_SCHEMA = "stripe"
_SYNC_TABLE = "subscriptions"
_DJ_TABLE = "djstripe_subscription"
_DJ_SCHEMA = "public"
#: What auto-detection looks for, as error messages name it.
_LOOKED_FOR = (
    f"{_SYNC_SCHEMA}.{_SYNC_TABLE} (stripe sync-engine) and {_DJ_TABLE} in any schema (dj-stripe)"
)
_LIST_MAX = 25


class StripeMirrorSource(BillingSource):
    kind = "stripe-mirror"

    def __init__(self, location: str, options: BillingConfig) -> None:
        super().__init__(location, options)
        # Parsed now so a bad URL or an unset env:NAME fails before any input is read.
        self.url = resolve(location)
        if self.url.dialect not in ("postgresql", "mysql"):
            raise SourceError(
                f"{self.url.shown}: a Stripe mirror is read from PostgreSQL (or dj-stripe's "
                f"tables from MySQL/MariaDB), not from {self.url.dialect}"
            )

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False  # a database, never a file: chosen by URL in the registry

    def read(self) -> BillingData:
        limits = Timeouts(self.options.mirror_timeout_seconds, "billing.mirror_timeout_seconds")
        with bounded(self.url.shown, limits) as deadline, connect(self.url, deadline) as conn:
            query = plan_query(conn, self.options.mirror)
            return read_mirror(conn, query, self.kind)


def find_layouts(conn: ReadOnlyConnection, tables: Sequence[Table]) -> dict[str, Table]:
    """Every mirror layout present, by name, with its subscriptions table."""
    found: dict[str, Table] = {}
    if conn.dialect == "postgresql":  # the sync engine writes to PostgreSQL only
        sync = [t for t in tables if _is(t, _SYNC_SCHEMA, _SYNC_TABLE)]
        if sync:
            found[SYNC_ENGINE] = sync[0]
    dj = [t for t in tables if t.name.lower() == _DJ_TABLE]
    if len(dj) > 1:
        preferred = [t for t in dj if t.schema.lower() == _DJ_SCHEMA]
        if len(preferred) != 1:
            raise SourceError(
                f"{conn.url.shown} holds {_DJ_TABLE} in several schemas "
                f"({', '.join(sorted(t.qualified for t in dj))}); point the URL at a "
                "database holding one dj-stripe installation"
            )
        dj = preferred
    if dj:
        found[DJ_STRIPE] = dj[0]
    return found


def plan_query(conn: ReadOnlyConnection, mirror: str) -> MirrorQuery:
    """Pick the layout (`mirror` is billing.mirror) and build the SELECT for it."""
    tables = conn.tables()
    found = find_layouts(conn, tables)
    if mirror == "auto":
        if len(found) > 1:
            raise ConfigError(
                f"{conn.url.shown} holds both a stripe sync-engine mirror "
                f"({found[SYNC_ENGINE].qualified}) and a dj-stripe mirror "
                f"({found[DJ_STRIPE].qualified}); choose one with billing.mirror = "
                '"sync-engine" or "dj-stripe" in the config file'
            )
        if not found:
            raise SourceError(
                f"no Stripe mirror found in {conn.url.shown}: looked for {_LOOKED_FOR}; "
                f"tables found: {_listing(tables)}"
            )
        layout, table = next(iter(found.items()))
    else:
        layout = mirror
        if layout == SYNC_ENGINE and conn.dialect != "postgresql":
            raise SourceError(
                f"{conn.url.shown}: the stripe sync-engine mirror is read from PostgreSQL "
                "only (the sync engine writes nowhere else)"
            )
        if layout not in found:
            wanted = f"{_SYNC_SCHEMA}.{_SYNC_TABLE}" if layout == SYNC_ENGINE else _DJ_TABLE
            raise SourceError(
                f'billing.mirror = "{layout}" but {conn.url.shown} has no {wanted} table; '
                f"tables found: {_listing(tables)}"
            )
        table = found[layout]
    if layout == SYNC_ENGINE:
        return sync_engine_query(conn, table, tables)
    return dj_stripe_query(conn, table, tables)


def _is(table: Table, schema: str, name: str) -> bool:
    return table.name.lower() == name and table.schema.lower() == schema


def _listing(tables: Sequence[Table]) -> str:
    names = sorted(table.qualified for table in tables)
    if not names:
        return "none (is this the right database, and may this user read its tables?)"
    shown = ", ".join(names[:_LIST_MAX])
    more = len(names) - _LIST_MAX
    return f"{shown} and {more} more" if more > 0 else shown
