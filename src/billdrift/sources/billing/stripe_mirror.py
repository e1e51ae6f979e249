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
from billdrift.sources.billing.layouts import LAYOUTS
from billdrift.sources.billing.layouts.base import find_sync, with_sync_state
from billdrift.sources.billing.stripe_mirror_query import SYNC_ENGINE, MirrorQuery
from billdrift.sources.billing.stripe_mirror_rows import read_mirror

#: Where a layout installed in several schemas is read from (Django's default schema).
_DJ_SCHEMA = "public"
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
            data = read_mirror(conn, query, self.kind)
            return with_sync_state(conn, query, data)


def find_layouts(conn: ReadOnlyConnection, tables: Sequence[Table]) -> dict[str, Table]:
    """Every layout present, by name, with its subscriptions table. A table is claimed by
    the first layout whose markers it has (:data:`~billdrift.sources.billing.layouts.
    LAYOUTS`); a layout found in several schemas is read from ``public`` or refused."""
    claimed: dict[str, list[Table]] = {}
    for table in tables:
        layout = next((lay for lay in LAYOUTS if lay.claims(conn, table)), None)
        if layout is not None:
            claimed.setdefault(layout.name, []).append(table)
    found: dict[str, Table] = {}
    for layout in LAYOUTS:
        candidates = claimed.get(layout.name, [])
        if len(candidates) > 1:
            preferred = [t for t in candidates if t.schema.lower() == _DJ_SCHEMA]
            if len(preferred) != 1:
                raise SourceError(
                    f"{conn.url.shown} holds {layout.title} in several schemas "
                    f"({', '.join(sorted(t.qualified for t in candidates))}); point the URL "
                    "at a database holding one installation"
                )
            candidates = preferred
        if candidates:
            found[layout.name] = candidates[0]
    return found


def plan_query(conn: ReadOnlyConnection, mirror: str) -> MirrorQuery:
    """Pick the layout (`mirror` is billing.mirror) and build the SELECT for it."""
    tables = conn.tables()
    found = find_layouts(conn, tables)
    by_name = {layout.name: layout for layout in LAYOUTS}
    if mirror == "auto":
        if len(found) > 1:
            present = [f"{by_name[name].title} ({t.qualified})" for name, t in found.items()]
            choices = [f'"{name}"' for name in found]
            raise ConfigError(
                f"{conn.url.shown} holds {_both(present)}; choose one with billing.mirror = "
                f"{' or '.join([', '.join(choices[:-1]), choices[-1]])} in the config file"
            )
        if not found:
            looked_for = [layout.looked_for for layout in LAYOUTS]
            raise SourceError(
                f"no Stripe mirror found in {conn.url.shown}: looked for "
                f"{', '.join(looked_for[:-1])} and {looked_for[-1]}; tables found: "
                f"{_listing(tables)}"
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
            wanted = by_name[layout].looked_for
            raise SourceError(
                f'billing.mirror = "{layout}" but {conn.url.shown} has no {wanted}; '
                f"tables found: {_listing(tables)}"
            )
        table = found[layout]
    query = by_name[layout].build(conn, table, tables)
    find_sync(query)
    return query


def _both(present: list[str]) -> str:
    if len(present) == 2:
        return f"both {present[0]} and {present[1]}"
    return f"several Stripe layouts: {', '.join(present)}"


def _listing(tables: Sequence[Table]) -> str:
    names = sorted(table.qualified for table in tables)
    if not names:
        return "none (is this the right database, and may this user read its tables?)"
    shown = ", ".join(names[:_LIST_MAX])
    more = len(names) - _LIST_MAX
    return f"{shown} and {more} more" if more > 0 else shown
