"""The SELECT that reads one Stripe mirror table, built from the columns it has.

Only columns that exist are selected, each named after the Stripe field it
mirrors and converted to what the Stripe parser takes: timestamps to unix
seconds, JSON to text (parsed per row later, so one broken value skips one row
instead of failing the query), enums and the rest to text. The customer email
comes from a LEFT JOIN on the customers table beside it, when a key links them;
otherwise a note says why emails are empty. Rows come back ordered by the
Stripe id when there is one, so reports are stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from billdrift.errors import SourceError
from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table

SYNC_ENGINE: Final = "sync-engine"
DJ_STRIPE: Final = "dj-stripe"
FIVETRAN: Final = "fivetran"
AIRBYTE: Final = "airbyte"
DATA_PIPELINE: Final = "data-pipeline"
STRIPE_POSTGRES: Final = "stripe-postgres"
LAYOUT_NAMES: Final = {
    SYNC_ENGINE: "stripe sync-engine",
    DJ_STRIPE: "dj-stripe",
    FIVETRAN: "Fivetran",
    AIRBYTE: "Airbyte",
    DATA_PIPELINE: "Stripe Data Pipeline",
    STRIPE_POSTGRES: "Stripe's hosted Postgres",
}

_SYNC_CUSTOMERS = "customers"
_DJ_CUSTOMERS = "djstripe_customer"

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
    "livemode",
)
_SYNC_REQUIRED = ("id", "customer", "status")
#: Absent from some sync-engine versions without loss: currency is on the prices,
#: `discounts` is newer than `discount`, and `livemode` only names the dashboard's mode.
_SYNC_QUIET = frozenset({"currency", "discounts", "livemode"})
_RAW = "_raw_data"
_STRIPE_DATA = "stripe_data"
#: Columns parsed as JSON even when the database stores them as plain text.
_JSON_NAMES = frozenset({"items", "discount", "discounts", _RAW, _STRIPE_DATA})

# Result columns that are not Stripe fields; prefixed so no Stripe field can clash.
OBJECT = "bd_object"
EMAIL = "bd_email"
CUSTOMER_OBJECT = "bd_customer_object"

_PG_INTEGERS = frozenset({"smallint", "integer", "bigint"})
_PG_NUMBERS = frozenset({"numeric", "real", "double precision"})


@dataclass
class MirrorQuery:
    """The SELECT for one mirror table and how to turn its rows into Stripe objects."""

    layout: str
    table: Table
    sql: str = ""
    #: Result columns named after the Stripe field they hold (``id``, ``customer``...),
    #: each with the database column it comes from (for messages).
    fields: dict[str, str] = field(default_factory=dict)
    #: Result columns holding JSON text, parsed per row.
    json: set[str] = field(default_factory=set)
    #: The database column holding the whole subscription object (selected as OBJECT).
    object_column: str | None = None
    #: How the customer email arrives: None (not read), "text", or "json" (the customer
    #: object as JSON text, selected as CUSTOMER_OBJECT).
    email: str | None = None
    customers: str | None = None  # the customers table joined, for messages
    #: The FROM clause (the table as ``s``, the customers joined as ``c``) and the SQL of
    #: the email it joins, for queries that read the same rows another way (push-down).
    from_sql: str = ""
    email_sql: str | None = None
    notes: list[str] = field(default_factory=list)
    #: SQL condition over ``s`` keeping the rows not deleted at the source ("" keeps all).
    where: str = ""
    #: A SELECT of the ids of subscriptions deleted at the source (reported as skips).
    deleted: str | None = None
    deleted_reason: str = ""
    #: The sync-time column of the subscriptions table and who writes it (freshness).
    sync: tuple[Column, str] | None = None


def sync_engine_query(
    conn: ReadOnlyConnection,
    table: Table,
    tables: Sequence[Table],
    layout: str = SYNC_ENGINE,
    what: str = "a stripe sync-engine mirror",
) -> MirrorQuery:
    """The SELECT for a table with one column per Stripe field (and maybe the whole object
    as ``_raw_data``): the sync engine's, and the same API shape others land (`layout`)."""
    query = MirrorQuery(layout, table)
    columns = {column.name: column for column in table.columns}
    raw = columns.get(_RAW)
    if raw is None:  # without the whole object, the columns must carry the essentials
        require(conn, table, columns, _SYNC_REQUIRED, what)
    selects: list[str] = []
    for name in _SYNC_FIELDS:
        if name in columns:
            selects.append(field_select(conn, query, name, f"s.{conn.quote(name)}", columns[name]))
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
        sub_key = text_sql(conn, f"s.{conn.quote('customer')}")
    elif raw is not None and raw.type in ("json", "jsonb"):
        sub_key = f"s.{conn.quote(_RAW)}->>'customer'"
    customers = sibling(tables, table, _SYNC_CUSTOMERS)
    link = ("id", sub_key) if sub_key is not None else None
    join = join_customers(conn, query, selects, customers, link)
    query.sql = select_sql(conn, query, selects, join)
    return query


def dj_stripe_query(conn: ReadOnlyConnection, table: Table, tables: Sequence[Table]) -> MirrorQuery:
    query = MirrorQuery(DJ_STRIPE, table)
    columns = {column.name: column for column in table.columns}
    require(conn, table, columns, (_STRIPE_DATA,), "a dj-stripe 2.10+ mirror")
    selects = [_object(conn, query, columns[_STRIPE_DATA])]
    if "id" in columns:  # dj-stripe's `id` is the Stripe id (its own key is djstripe_id)
        selects.append(field_select(conn, query, "id", f"s.{conn.quote('id')}", columns["id"]))
    fk = columns.get("customer_id")
    link: tuple[str, str] | None = None
    if fk is not None and _integer(fk):  # DJSTRIPE_FOREIGN_KEY_TO_FIELD = "djstripe_id"
        link = ("djstripe_id", f"s.{conn.quote(fk.name)}")
    elif fk is not None:  # the default since dj-stripe 2.4: the Stripe customer id
        selects.append(field_select(conn, query, "customer", f"s.{conn.quote(fk.name)}", fk))
        link = ("id", text_sql(conn, f"s.{conn.quote(fk.name)}"))
    elif conn.dialect == "postgresql" and columns[_STRIPE_DATA].type in ("json", "jsonb"):
        link = ("id", f"s.{conn.quote(_STRIPE_DATA)}->>'customer'")
    customers = sibling(tables, table, _DJ_CUSTOMERS)
    join = join_customers(conn, query, selects, customers, link)
    query.sql = select_sql(conn, query, selects, join)
    return query


def sibling(tables: Sequence[Table], of: Table, name: str) -> Table | None:
    """The table `name` in the same schema as `of`."""
    return next((t for t in tables if t.schema == of.schema and t.name.lower() == name), None)


def require(
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


def field_select(
    conn: ReadOnlyConnection, query: MirrorQuery, name: str, ref: str, column: Column
) -> str:
    """Select `ref` as the Stripe field `name`, in a form the Stripe parser reads."""
    expression, is_json = value_sql(conn, ref, column)
    query.fields[name] = column.name
    if is_json:
        query.json.add(name)
    return f"{expression} AS {conn.quote(name)}"


def _object(conn: ReadOnlyConnection, query: MirrorQuery, column: Column) -> str:
    """Select the column holding the whole subscription object (always parsed as JSON)."""
    expression, _ = value_sql(conn, f"s.{conn.quote(column.name)}", column)
    query.object_column = column.name
    return f"{expression} AS {conn.quote(OBJECT)}"


def value_sql(conn: ReadOnlyConnection, ref: str, column: Column) -> tuple[str, bool]:
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


def text_sql(conn: ReadOnlyConnection, ref: str) -> str:
    return f"{ref}::text" if conn.dialect == "postgresql" else ref


def _integer(column: Column) -> bool:
    return "int" in column.type and "point" not in column.type


def join_customers(
    conn: ReadOnlyConnection,
    query: MirrorQuery,
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
        email, query.email = text_sql(conn, f"c.{conn.quote('email')}"), "text"
    else:
        for name in (_STRIPE_DATA, _RAW):
            column = columns.get(name)
            if column is None:
                continue
            if conn.dialect == "postgresql" and column.type in ("json", "jsonb"):
                email, query.email = f"c.{conn.quote(name)}->>'email'", "text"
            else:  # JSON stored as text: parsed per row, so a broken one costs one email
                email, query.email = value_sql(conn, f"c.{conn.quote(name)}", column)[0], "json"
            break
    if email is None:
        query.notes.append(
            f"{customers.qualified} has no email, {_STRIPE_DATA} or {_RAW} column, so "
            "customer emails are left empty unless the subscriptions embed them"
        )
        return ""
    query.customers = customers.qualified
    query.email_sql = email
    alias = EMAIL if query.email == "text" else CUSTOMER_OBJECT
    selects.append(f"{email} AS {conn.quote(alias)}")
    key, sub_key = link
    customer_key = f"c.{conn.quote(key)}"
    if not _integer(columns[key]):
        customer_key = text_sql(conn, customer_key)
    table = conn.qualify(customers.qualified)
    return f" LEFT JOIN {table} AS c ON {customer_key} = {sub_key}"


def select_sql(conn: ReadOnlyConnection, query: MirrorQuery, selects: list[str], join: str) -> str:
    """The whole SELECT; ordered by the Stripe id when there is one, so reports are stable
    (the id is the sync engine's primary key and unique in dj-stripe: an index scan).
    Rows a loader marks as deleted are left out (:func:`mark_deletions`)."""
    mark_deletions(conn, query)
    order = f" ORDER BY s.{conn.quote('id')}" if "id" in query.fields else ""
    table = conn.qualify(query.table.qualified)
    where = f" WHERE {query.where}" if query.where else ""
    query.from_sql = f"{table} AS s{join}"
    return f"SELECT {', '.join(selects)} FROM {query.from_sql}{where}{order}"


#: Deletion markers loaders write: column -> SQL (``{a}`` the alias) true for a row still there.
_KEPT = {
    "_fivetran_deleted": "{a}.{c} IS NOT TRUE",
    "_fivetran_active": "{a}.{c} IS NOT FALSE",  # history mode: older versions are FALSE
    "is_deleted": "{a}.{c} IS NOT TRUE",  # Airbyte's Stripe source
    "_ab_cdc_deleted_at": "{a}.{c} IS NULL",  # Airbyte CDC
}


def kept(conn: ReadOnlyConnection, table: Table, alias: str) -> tuple[str, list[str]]:
    """SQL keeping `table`'s rows not deleted at the source ("" when it has no marker),
    and the marker columns it reads."""
    markers = [c.name for c in table.columns if c.name.lower() in _KEPT]
    parts = [_KEPT[m.lower()].format(a=alias, c=conn.quote(m)) for m in markers]
    return " AND ".join(parts), markers


def mark_deletions(conn: ReadOnlyConnection, query: MirrorQuery) -> None:
    """Leave out the subscriptions a loader marks as deleted (Fivetran, Airbyte), and say
    how to list them: each is reported as a skip, never left out silently."""
    condition, markers = kept(conn, query.table, "s")
    if not condition:
        return
    query.where = condition
    table = conn.qualify(query.table.qualified)
    ident = f"s.{conn.quote('id')}"
    if "_fivetran_active" in {m.lower() for m in markers}:  # history: gone when no version is
        query.deleted = (
            f"SELECT CAST({ident} AS TEXT) FROM {table} AS s GROUP BY {ident} "
            f"HAVING NOT bool_or(coalesce({condition}, FALSE)) ORDER BY 1"
        )
    else:
        query.deleted = (
            f"SELECT CAST({ident} AS TEXT) FROM {table} AS s WHERE NOT ({condition}) ORDER BY 1"
        )
    title = LAYOUT_NAMES.get(query.layout, query.layout)
    query.deleted_reason = (
        f"deleted at the source ({title}: {', '.join(markers)}); left out of the check"
    )
