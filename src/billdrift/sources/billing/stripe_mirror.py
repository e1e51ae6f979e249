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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import orjson

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData, Skip
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table
from billdrift.infra.db.urls import resolve
from billdrift.sources.billing.common import (
    RecordError,
    customer_in_text,
    describe,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.stripe_json import parse_subscription

SYNC_ENGINE: Final = "sync-engine"
DJ_STRIPE: Final = "dj-stripe"
LAYOUT_NAMES: Final = {SYNC_ENGINE: "stripe sync-engine", DJ_STRIPE: "dj-stripe"}

_SYNC_SCHEMA = "stripe"
_SYNC_TABLE = "subscriptions"
_SYNC_CUSTOMERS = "customers"
_DJ_TABLE = "djstripe_subscription"
_DJ_CUSTOMERS = "djstripe_customer"
_DJ_SCHEMA = "public"
#: What auto-detection looks for, as error messages name it.
_LOOKED_FOR = (
    f"{_SYNC_SCHEMA}.{_SYNC_TABLE} (stripe sync-engine) and {_DJ_TABLE} in any schema (dj-stripe)"
)

#: stripe.subscriptions columns read when present, each named as the Stripe field it mirrors.
_SYNC_FIELDS = (
    "id",
    "customer",
    "status",
    "items",
    "cancel_at_period_end",
    "cancel_at",
    "canceled_at",
    "current_period_start",
    "current_period_end",
    "ended_at",
    "trial_end",
    "created",
    "currency",
    "discount",
    "discounts",
)
_SYNC_REQUIRED = ("id", "customer", "status")
#: Absent from some sync-engine versions without loss: currency is on the prices, and
#: `discounts` is newer than `discount`.
_SYNC_QUIET = frozenset({"currency", "discounts"})
_RAW = "_raw_data"
_STRIPE_DATA = "stripe_data"
#: Columns parsed as JSON even when the database stores them as plain text.
_JSON_NAMES = frozenset({"items", "discount", "discounts", _RAW, _STRIPE_DATA})

# Result columns that are not Stripe fields; prefixed so no Stripe field can clash.
_OBJECT = "bd_object"
_EMAIL = "bd_email"
_CUSTOMER_OBJECT = "bd_customer_object"

_PG_INTEGERS = frozenset({"smallint", "integer", "bigint"})
_PG_NUMBERS = frozenset({"numeric", "real", "double precision"})
_LIST_MAX = 25


@dataclass
class _Query:
    """The SELECT for one mirror table and how to turn its rows into Stripe objects."""

    layout: str
    table: Table
    sql: str = ""
    #: Result columns named after the Stripe field they hold (``id``, ``customer``...),
    #: each with the database column it comes from (for messages).
    fields: dict[str, str] = field(default_factory=dict)
    #: Result columns holding JSON text, parsed per row.
    json: set[str] = field(default_factory=set)
    #: The database column holding the whole subscription object (selected as _OBJECT).
    object_column: str | None = None
    #: How the customer email arrives: None (not read), "text", or "json" (the customer
    #: object as JSON text, selected as _CUSTOMER_OBJECT).
    email: str | None = None
    customers: str | None = None  # the customers table joined, for messages
    notes: list[str] = field(default_factory=list)


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
        with connect(self.url) as conn:
            query = plan_query(conn, self.options.mirror)
            return _read(conn, query, self.kind)


# ------------------------------------------------------------------ layout detection


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


def plan_query(conn: ReadOnlyConnection, mirror: str) -> _Query:
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
        return _sync_engine(conn, table, tables)
    return _dj_stripe(conn, table, tables)


def _is(table: Table, schema: str, name: str) -> bool:
    return table.name.lower() == name and table.schema.lower() == schema


def _listing(tables: Sequence[Table]) -> str:
    names = sorted(table.qualified for table in tables)
    if not names:
        return "none (is this the right database, and may this user read its tables?)"
    shown = ", ".join(names[:_LIST_MAX])
    more = len(names) - _LIST_MAX
    return f"{shown} and {more} more" if more > 0 else shown


def _sibling(tables: Sequence[Table], of: Table, name: str) -> Table | None:
    """The table `name` in the same schema as `of`."""
    return next((t for t in tables if t.schema == of.schema and t.name.lower() == name), None)


# ------------------------------------------------------------------------ queries


def _sync_engine(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> _Query:
    query = _Query(SYNC_ENGINE, table)
    columns = {column.name: column for column in table.columns}
    raw = columns.get(_RAW)
    if raw is None:  # without the whole object, the columns must carry the essentials
        _require(conn, table, columns, _SYNC_REQUIRED, "a stripe sync-engine mirror")
    selects: list[str] = []
    for name in _SYNC_FIELDS:
        if name in columns:
            selects.append(_field(conn, query, name, f"s.{conn.quote(name)}", columns[name]))
    if raw is not None:
        selects.append(_object(conn, query, raw))
    else:
        missing = [n for n in _SYNC_FIELDS if n not in columns and n not in _SYNC_QUIET]
        if missing:
            query.notes.append(
                f"no {', '.join(missing)} column(s), so those fields are read as empty"
            )
    sub_key = None
    if "customer" in columns:
        sub_key = _text(conn, f"s.{conn.quote('customer')}")
    elif raw is not None and raw.type in ("json", "jsonb"):
        sub_key = f"s.{conn.quote(_RAW)}->>'customer'"
    customers = _sibling(tables, table, _SYNC_CUSTOMERS)
    link = ("id", sub_key) if sub_key is not None else None
    join = _join_customers(conn, query, selects, customers, link)
    query.sql = _select_sql(conn, query, selects, join)
    return query


def _dj_stripe(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> _Query:
    query = _Query(DJ_STRIPE, table)
    columns = {column.name: column for column in table.columns}
    _require(conn, table, columns, (_STRIPE_DATA,), "a dj-stripe 2.10+ mirror")
    selects = [_object(conn, query, columns[_STRIPE_DATA])]
    if "id" in columns:  # dj-stripe's `id` is the Stripe id (its own key is djstripe_id)
        selects.append(_field(conn, query, "id", f"s.{conn.quote('id')}", columns["id"]))
    fk = columns.get("customer_id")
    link: tuple[str, str] | None = None
    if fk is not None and _integer(fk):  # DJSTRIPE_FOREIGN_KEY_TO_FIELD = "djstripe_id"
        link = ("djstripe_id", f"s.{conn.quote(fk.name)}")
    elif fk is not None:  # the default since dj-stripe 2.4: the Stripe customer id
        selects.append(_field(conn, query, "customer", f"s.{conn.quote(fk.name)}", fk))
        link = ("id", _text(conn, f"s.{conn.quote(fk.name)}"))
    elif conn.dialect == "postgresql" and columns[_STRIPE_DATA].type in ("json", "jsonb"):
        link = ("id", f"s.{conn.quote(_STRIPE_DATA)}->>'customer'")
    customers = _sibling(tables, table, _DJ_CUSTOMERS)
    join = _join_customers(conn, query, selects, customers, link)
    query.sql = _select_sql(conn, query, selects, join)
    return query


def _require(
    conn: ReadOnlyConnection,
    table: Table,
    columns: Mapping[str, Column],
    required: Sequence[str],
    what: str,
) -> None:
    missing = [name for name in required if name not in columns]
    if missing:
        names = f"{', '.join(missing)} column" + ("s" if len(missing) > 1 else "")
        raise SourceError(
            f"{table.qualified} in {conn.url.shown} has no {names}, which {what} always "
            f"has; columns found: {', '.join(columns) or 'none'}"
        )


def _field(conn: ReadOnlyConnection, query: _Query, name: str, ref: str, column: Column) -> str:
    """Select `ref` as the Stripe field `name`, in a form the Stripe parser reads."""
    expression, is_json = _value(conn, ref, column)
    query.fields[name] = column.name
    if is_json:
        query.json.add(name)
    return f"{expression} AS {conn.quote(name)}"


def _object(conn: ReadOnlyConnection, query: _Query, column: Column) -> str:
    """Select the column holding the whole subscription object (always parsed as JSON)."""
    expression, _ = _value(conn, f"s.{conn.quote(column.name)}", column)
    query.object_column = column.name
    return f"{expression} AS {conn.quote(_OBJECT)}"


def _value(conn: ReadOnlyConnection, ref: str, column: Column) -> tuple[str, bool]:
    """SQL reading `column` as a value the Stripe parser takes, and whether it is JSON text.

    Timestamps become unix seconds, JSON becomes text parsed per row (so one broken
    value skips one row instead of failing the query), enums and the rest become text.
    """
    kind = column.type
    named_json = column.name in _JSON_NAMES
    if conn.dialect != "postgresql":  # MySQL: text arrives as bytes, decoded per row
        return ref, named_json or kind == "json"
    if kind in ("json", "jsonb"):
        return f"{ref}::text", True
    if kind == "array":
        return f"to_jsonb({ref})::text", True
    if kind.startswith("timestamp") or kind == "date":
        return f"extract(epoch from {ref})::float8", False
    if kind in _PG_INTEGERS or kind == "boolean":
        return ref, False
    if kind in _PG_NUMBERS:
        return f"{ref}::float8", False
    return f"{ref}::text", named_json


def _text(conn: ReadOnlyConnection, ref: str) -> str:
    return f"{ref}::text" if conn.dialect == "postgresql" else ref


def _integer(column: Column) -> bool:
    return "int" in column.type and "point" not in column.type


def _join_customers(
    conn: ReadOnlyConnection,
    query: _Query,
    selects: list[str],
    customers: Table | None,
    link: tuple[str, str] | None,
) -> str:
    """The LEFT JOIN bringing in each subscription's customer email (its select is added
    to `selects`); "" and a note saying why when there is no email to join.

    `link` is (the customers column to match, the SQL of the subscription's key).
    """
    if customers is None:
        query.notes.append(
            "no customers table beside it, so customer emails are left empty unless the "
            "subscriptions embed them"
        )
        return ""
    columns = {column.name: column for column in customers.columns}
    if link is None or link[0] not in columns:
        query.notes.append(
            f"no key links it to {customers.qualified}, so customer emails are left empty "
            "unless the subscriptions embed them"
        )
        return ""
    email = None
    if "email" in columns:
        email, query.email = _text(conn, f"c.{conn.quote('email')}"), "text"
    else:
        for name in (_STRIPE_DATA, _RAW):
            column = columns.get(name)
            if column is None:
                continue
            if conn.dialect == "postgresql" and column.type in ("json", "jsonb"):
                email, query.email = f"c.{conn.quote(name)}->>'email'", "text"
            else:  # JSON stored as text: parsed per row, so a broken one costs one email
                email, query.email = _value(conn, f"c.{conn.quote(name)}", column)[0], "json"
            break
    if email is None:
        query.notes.append(
            f"{customers.qualified} has no email, {_STRIPE_DATA} or {_RAW} column, so "
            "customer emails are left empty unless the subscriptions embed them"
        )
        return ""
    query.customers = customers.qualified
    alias = _EMAIL if query.email == "text" else _CUSTOMER_OBJECT
    selects.append(f"{email} AS {conn.quote(alias)}")
    key, sub_key = link
    customer_key = f"c.{conn.quote(key)}"
    if not _integer(columns[key]):
        customer_key = _text(conn, customer_key)
    table = conn.qualify(customers.qualified)
    return f" LEFT JOIN {table} AS c ON {customer_key} = {sub_key}"


def _select_sql(conn: ReadOnlyConnection, query: _Query, selects: list[str], join: str) -> str:
    """The whole SELECT; ordered by the Stripe id when there is one, so reports are stable
    (the id is the sync engine's primary key and unique in dj-stripe: an index scan)."""
    order = f" ORDER BY s.{conn.quote('id')}" if "id" in query.fields else ""
    table = conn.qualify(query.table.qualified)
    return f"SELECT {', '.join(selects)} FROM {table} AS s{join}{order}"


# ------------------------------------------------------------------------ reading


@dataclass
class _Counts:
    """What the notes report once the rows are read."""

    unexpanded: int = 0  # discounts given only by id
    foreign: int = 0  # amount-off coupons in another currency
    truncated: int = 0  # items lists cut off (has_more)
    bad_customers: int = 0  # customer rows whose email could not be read


def _read(conn: ReadOnlyConnection, query: _Query, kind: str) -> BillingData:
    table = query.table.qualified
    database = conn.url.shown  # redacted: never the password
    name = f"{table} in {database}"
    subs: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    skips: list[Skip] = []
    counts = _Counts()
    number = 0
    for batch in conn.stream(query.sql):
        for row in batch.to_pylist():
            number += 1
            ident = _label_id(row.get("id"))
            record: dict[str, Any] | None = None
            try:
                record = _record(query, row)
                ident = ident or object_id(record.get("id"))
                ref = f"{table}:{ident or f'row {number}'}"
                sub, sub_items, discount, more = parse_subscription(record, ref)
            except RecordError as error:
                where = f"{table} id={ident}" if ident else f"{table} row {number}"
                customer = _customer_hint(query, row, record)
                skips.append(skip(database, where, error.reason, error.field, customer))
                continue
            if sub["customer_email"] is None:
                sub["customer_email"] = _email(query, row, counts)
            subs.append(sub)
            items.extend(sub_items)
            counts.unexpanded += discount.unexpanded
            counts.foreign += discount.foreign
            counts.truncated += more
    return BillingData(
        subscriptions=subscriptions_table(subs),
        items=items_table(items),
        skips=tuple(skips),
        description=describe(kind, name, len(subs), len(skips)),
        notes=tuple(_notes(query, counts)),
    )


def _record(query: _Query, row: Mapping[str, Any]) -> dict[str, Any]:
    """The Stripe subscription object of one row: the whole-object column when there is
    one (it wins), completed by the field columns."""
    record: dict[str, Any] = {}
    column = query.object_column
    if column is not None:
        whole = _cell(row.get(_OBJECT), column, is_json=True)
        if isinstance(whole, dict):
            record = whole
        elif whole is not None:
            raise RecordError(f"{column} holds a JSON {_json_type(whole)}, not an object", column)
        elif query.layout == DJ_STRIPE:  # the columns beside it say nothing of the state
            raise RecordError(f"{column} is empty (NULL)", column)
    for name, source in query.fields.items():
        value = _cell(row.get(name), source, is_json=name in query.json)
        if value is not None:
            record.setdefault(name, value)
    return record


def _cell(value: object, column: str, *, is_json: bool) -> object:
    """One value as the parser wants it: MySQL's bytes decoded, JSON text parsed."""
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as error:
            reason = f"{column} is not valid UTF-8 text (byte {error.start})"
            raise RecordError(reason, column) from None
    if is_json and isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError as error:
            raise RecordError(f"{column} is not valid JSON ({error})", column) from None
    return value


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else type(value).__name__


def _label_id(value: object) -> str | None:
    """The subscription id column's value, for naming a row (never fails)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def _customer_hint(
    query: _Query, row: Mapping[str, Any], record: dict[str, Any] | None
) -> str | None:
    """The customer of a row that could not be read, when that much can be told, so the
    rules hold back judgement on that customer."""
    if record is not None and (found := object_id(record.get("customer"))):
        return found
    if "customer" in query.fields and (found := _label_id(row.get("customer"))):
        return found
    whole = row.get(_OBJECT)
    if isinstance(whole, bytes):
        whole = whole.decode("utf-8", errors="replace")
    return customer_in_text(whole) if isinstance(whole, str) else None


def _email(query: _Query, row: Mapping[str, Any], counts: _Counts) -> str | None:
    """The joined customer email; an unreadable one is counted for a note, not guessed."""
    if query.email is None:
        return None
    raw = row.get(_EMAIL if query.email == "text" else _CUSTOMER_OBJECT)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        value = orjson.loads(text).get("email") if query.email == "json" else text
    except (UnicodeDecodeError, orjson.JSONDecodeError, AttributeError):
        counts.bad_customers += 1
        return None
    return value.strip() or None if isinstance(value, str) else None


def _notes(query: _Query, counts: _Counts) -> list[str]:
    table = query.table.qualified
    notes = [f"{table}: {note}" for note in query.notes]
    if counts.unexpanded:
        notes.append(
            f"{table}: {counts.unexpanded} subscription(s) list discounts only by id, so "
            "their discount is unknown (left empty)"
        )
    if counts.foreign:
        notes.append(
            f"{table}: {counts.foreign} subscription(s) carry an amount-off coupon in another "
            "currency than the subscription; it was left out of discount_amount_off_minor"
        )
    if counts.truncated:
        notes.append(
            f"{table}: {counts.truncated} subscription(s) have more items than the mirrored "
            "items list holds (items.has_more); only the mirrored items were read"
        )
    if counts.bad_customers:
        notes.append(
            f"{table}: the customer record of {counts.bad_customers} subscription(s) in "
            f"{query.customers} could not be read, so their customer email is left empty"
        )
    return notes
