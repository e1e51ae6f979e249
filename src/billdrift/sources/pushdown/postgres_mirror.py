"""A Stripe mirror's rows as the canonical billing relations, decoded inside PostgreSQL.

This is the hot path of a pushed-down check: at 1,000,000 subscriptions, turning
jsonb into text and back, rebuilding each record as one jsonb object and taking
it apart again in four LATERAL subqueries was three quarters of the statement.
So each row is decoded once, in three levels (``OFFSET 0`` keeps PostgreSQL from
inlining a level back into every expression that reads it, which would decode
the same value once per use):

1. **fields**: each Stripe field read once from the column holding it: jsonb as
   is (no text round trip), a typed column natively when no whole-object column
   can override it (integer timestamps, text ids and status, booleans). A
   whole-object column (dj-stripe's ``stripe_data``, the sync engine's
   ``_raw_data``) is taken apart in one ``jsonb_to_record`` call and wins field by
   field over the columns, as in-process (a field it holds as JSON null wins too);
2. **discounts**: the coupon, whether a discount is given by id only, and how
   many discounts there are, computed only for rows that have any;
3. **typed columns**: the canonical ``billing_subscriptions`` columns, with the
   items' periods read only when the subscription has none of its own and the
   items' currency only when an amount-off coupon names one.

The items are a second scan of the mirror table (no customers join), each row's
items expanded by one ``jsonb_array_elements``. The semantics are the Stripe
parser's (:mod:`billdrift.sources.billing.stripe_json`): item-level or
subscription-level periods, ``price`` or legacy ``plan``, one discount.
"""

from __future__ import annotations

from dataclasses import dataclass

from billdrift.core.sql import sql
from billdrift.infra.db.interface import Column, ReadOnlyConnection
from billdrift.infra.quoting import sql_string
from billdrift.sources.billing.stripe_mirror_query import MirrorQuery, value_sql

#: The Stripe fields the canonical relations read.
FIELDS = (
    "id",
    "customer",
    "status",
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
    "items",
)
_TIMESTAMPS = frozenset(
    {"cancel_at", "canceled_at", "current_period_start", "current_period_end", "ended_at"}
    | {"trial_end", "created"}
)
_TEXTS = frozenset({"id", "customer", "status", "currency"})
_NUMBER_TYPES = frozenset({"smallint", "integer", "bigint", "numeric", "real", "double precision"})


_NULL = "CAST(NULL AS jsonb)"


@dataclass(frozen=True)
class _Field:
    """How level 1 selects one Stripe field: its SQL, and its kind there ("json" for
    jsonb, "number" for a timestamp as unix seconds, "text" or "boolean")."""

    sql: str
    kind: str


def _fields(conn: ReadOnlyConnection, mirror: MirrorQuery) -> dict[str, _Field]:
    columns = {column.name: column for column in mirror.table.columns}
    whole = mirror.object_column is not None
    found: dict[str, _Field] = {}
    for name in FIELDS:
        source = mirror.fields.get(name)
        column = columns.get(source) if source is not None else None
        if column is None:  # absent: NULL, or whatever the whole object holds
            found[name] = _Field(f"w.{conn.quote(name)}" if whole else _NULL, "json")
            continue
        value = _column(conn, column)
        if whole:  # the object wins, its JSON null included
            wins = sql(
                "CASE WHEN w.{name} IS NOT NULL THEN w.{name} "
                "WHEN o.bd_object ? {key} THEN NULL ELSE {value} END",
                name=conn.quote(name),
                key=sql_string(name),
                value=_as_json(value),
            )
            found[name] = _Field(wins, "json")
        elif value.kind == "json" or _native(name, value.kind):
            found[name] = value
        else:
            found[name] = _Field(f"to_jsonb({value.sql})", "json")
    return found


def _column(conn: ReadOnlyConnection, column: Column) -> _Field:
    """One mirror column as level 1 reads it (``s`` is the mirror table)."""
    ref = f"s.{conn.quote(column.name)}"
    kind = column.type
    if kind == "jsonb":
        return _Field(ref, "json")
    if kind in ("json", "array"):
        return _Field(f"to_jsonb({ref})", "json")
    expression, is_json = value_sql(conn, ref, column)
    if is_json:
        return _Field(f"CAST({expression} AS jsonb)", "json")
    if kind.startswith("timestamp") or kind == "date" or kind in _NUMBER_TYPES:
        return _Field(expression, "number")
    return _Field(expression, "boolean" if kind == "boolean" else "text")


def _native(name: str, kind: str) -> bool:
    """Whether a typed column's value is read as is (else through jsonb, as the parser
    would see it: e.g. a number in a text field)."""
    if kind == "number":
        return name in _TIMESTAMPS
    if kind == "text":
        return name in _TEXTS
    return kind == "boolean" and name == "cancel_at_period_end"


def _whole(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """The lateral joins taking the whole-object column apart once ("" without one):
    parsed once (``OFFSET 0``: not once per field reading it), then one
    ``jsonb_to_record`` call gives every field."""
    if mirror.object_column is None:
        return ""
    column = next(c for c in mirror.table.columns if c.name == mirror.object_column)
    value = _column(conn, column)
    as_json = value.sql if value.kind == "json" else f"to_jsonb({value.sql})"
    record = ", ".join(f"{conn.quote(name)} jsonb" for name in FIELDS)
    return sql(
        """
CROSS JOIN LATERAL (SELECT CASE WHEN jsonb_typeof(v) = 'object' THEN v END AS bd_object
                    FROM (SELECT {value} AS v OFFSET 0) AS raw OFFSET 0) AS o
LEFT JOIN LATERAL jsonb_to_record(o.bd_object) AS w({record}) ON TRUE""",
        value=as_json,
        record=record,
    )


def _level1(
    conn: ReadOnlyConnection, mirror: MirrorQuery, names: tuple[str, ...], join: bool
) -> str:
    fields = _fields(conn, mirror)
    selects = [f"{fields[name].sql} AS {conn.quote(name)}" for name in names if name != "id"]
    id_field = fields["id"]
    ident = (
        f"nullif(btrim({id_field.sql}), '')"
        if id_field.kind == "text"
        else f"nullif(btrim({_as_json(id_field)} #>> '{{}}'), '')"
    )
    selects.insert(0, f"{ident} AS id")
    if join:
        selects.append(f"{_email(mirror)} AS joined_email")
        source = mirror.from_sql
    else:
        source = f"{conn.qualify(mirror.table.qualified)} AS s"
    # rows a loader marks as deleted are left out, as in-process
    where = f"\nWHERE {mirror.where}" if mirror.where else ""
    return f"SELECT {', '.join(selects)}\nFROM {source}{_whole(conn, mirror)}{where}\nOFFSET 0"


def _as_json(field: _Field) -> str:
    return field.sql if field.kind == "json" else f"to_jsonb({field.sql})"


def _email(mirror: MirrorQuery) -> str:
    if mirror.email_sql is None:
        return "CAST(NULL AS TEXT)"
    if mirror.email == "json":
        return f"CAST({mirror.email_sql} AS jsonb) ->> 'email'"
    return mirror.email_sql


def subscriptions_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """``billing_subscriptions``: one typed row per mirror row with an id."""
    fields = _fields(conn, mirror)
    level1 = _level1(conn, mirror, FIELDS, join=True)
    table = sql_string(mirror.table.qualified + ":")

    def typed(name: str, how: str) -> str:
        field = fields[name]
        ref = f"r.{conn.quote(name)}"
        if field.kind == "json":
            return {"ts": json_timestamp, "id": json_id, "text": _text_json, "bool": _bool_json}[
                how
            ](ref)
        if how == "ts":
            return f"to_timestamp({ref})"
        return f"nullif(btrim({ref}), '')" if how in ("id", "text") else ref

    currency = f"lower({typed('currency', 'text')})"
    return sql(
        _SUBSCRIPTIONS,
        level1=level1,
        discounts=_DISCOUNTS,
        unexpanded=_UNEXPANDED,
        has=_HAS_DISCOUNT,
        customer=typed("customer", "id"),
        customer_email=(
            "CASE jsonb_typeof(r.customer) WHEN 'object' THEN "
            "nullif(btrim(r.customer ->> 'email'), '') END"
            if fields["customer"].kind == "json"
            else "NULL"
        ),
        status=typed("status", "text"),
        cancel_at_period_end=typed("cancel_at_period_end", "bool"),
        cancel_at=typed("cancel_at", "ts"),
        period_start=typed("current_period_start", "ts"),
        period_end=typed("current_period_end", "ts"),
        trial_end=typed("trial_end", "ts"),
        canceled_at=typed("canceled_at", "ts"),
        ended_at=typed("ended_at", "ts"),
        created=typed("created", "ts"),
        currency=currency,
        item_start=json_timestamp("(it.item -> 'current_period_start')"),
        item_end=json_timestamp("(it.item -> 'current_period_end')"),
        item_currency=_ITEM_CURRENCY,
        elements=_elements("r.items"),
        amount_off=integer("r.coupon ->> 'amount_off'"),
        table=table,
    )


def items_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """``billing_items``: one row per item of each mirror row with an id."""
    return sql(
        _ITEMS,
        columns=item_columns(item="r", price="r", recurring="r"),
        level1=_level1(conn, mirror, ("id", "items"), join=False),
        elements=_elements("r.items"),
    )


def item_columns(item: str, price: str, recurring: str) -> str:
    """The select list of ``billing_items`` (``SELECT`` included), from the relations
    (aliases) holding each item's parts: `item` its ``item``, `price` its ``price`` (or
    legacy ``plan``), ``details`` (the price when an object) and ``legacy``, `recurring`
    its ``recurring``; the subscription's ``id`` is ``r.id``. Shared by this module's
    one-pass decoder and postgres_records' general path, so the two give the same columns."""
    return sql(
        """SELECT r.id AS subscription_id,
       {price_id} AS price_id,
       {lookup_key} AS lookup_key,
       {product_id} AS product_id,
       {nickname} AS plan_name,
       {unit_amount} AS unit_amount_minor,
       lower({currency}) AS currency,
       coalesce({quantity}, 1) AS quantity,
       lower({interval}) AS interval,
       coalesce(nullif({interval_count}, 0), 1) AS interval_count""",
        price_id=json_id(f"{price}.price"),
        lookup_key=trimmed(f"{price}.details ->> 'lookup_key'"),
        product_id=json_id(f"({price}.details -> 'product')"),
        nickname=trimmed(f"{price}.details ->> 'nickname'"),
        unit_amount=integer(
            f"{price}.details ->> (CASE WHEN {price}.legacy THEN 'amount' ELSE 'unit_amount' END)"
        ),
        currency=trimmed(f"{price}.details ->> 'currency'"),
        quantity=integer(f"{item}.item ->> 'quantity'"),
        interval=trimmed(f"{recurring}.recurring ->> 'interval'"),
        interval_count=integer(f"{recurring}.recurring ->> 'interval_count'"),
    )


def several_discounts_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """How many mirror rows carry several discounts (combined in-process, refused pushed
    down): its own scan of the discount fields only, so billing_subscriptions stays one
    relation PostgreSQL materializes once."""
    return sql(
        """SELECT count(*) FROM ({level1}) AS r
WHERE {has} AND (SELECT count(*) FROM {discounts} AS d) > 1""",
        level1=_level1(conn, mirror, ("id", "discount", "discounts"), join=False),
        has=_HAS_DISCOUNT,
        discounts=_DISCOUNTS,
    )


def json_timestamp(value: str) -> str:
    """A Stripe timestamp (unix seconds, or ISO text) given as jsonb, as timestamptz."""
    return sql(
        """CASE jsonb_typeof({value})
  WHEN 'number' THEN to_timestamp(CAST(CAST({value} AS TEXT) AS double precision))
  WHEN 'string' THEN CAST({value} #>> '{}' AS timestamptz) END""",
        value=value,
    )


def json_id(value: str) -> str:
    """An id given as a string or as an expanded object with an ``id``."""
    return sql(
        """CASE jsonb_typeof({value})
  WHEN 'string' THEN nullif(btrim({value} #>> '{}'), '')
  WHEN 'object' THEN nullif(btrim({value} ->> 'id'), '') END""",
        value=value,
    )


def trimmed(value: str) -> str:
    """A text field, trimmed; empty is NULL."""
    return f"nullif(btrim({value}), '')"


def _text_json(value: str) -> str:
    """A text field given as jsonb, trimmed; empty is NULL."""
    return f"nullif(btrim({value} #>> '{{}}'), '')"


def _bool_json(value: str) -> str:
    return f"CAST({value} #>> '{{}}' AS boolean)"


def integer(value: str) -> str:
    """An integer amount or count (integral numbers given as floats pass)."""
    return f"CAST(CAST({value} AS numeric) AS bigint)"


def _elements(items: str) -> str:
    """The elements of an items value (``items.data``, or a bare array)."""
    return sql(
        """jsonb_array_elements(CASE jsonb_typeof({items})
    WHEN 'object' THEN CASE jsonb_typeof({items} -> 'data')
                         WHEN 'array' THEN {items} -> 'data' ELSE '[]'::jsonb END
    WHEN 'array' THEN {items} ELSE '[]'::jsonb END)""",
        items=items,
    )


def discounts_sql(discount: str, discounts: str) -> str:
    """The expanded discounts of a Stripe subscription, each once: the legacy
    ``discount`` and the ``discounts`` list, given as the SQL reading each field (a
    column here, ``r.rec -> 'discount'`` in the general decoder of postgres_records)."""
    return sql(
        """(
  SELECT DISTINCT ON (coalesce(e ->> 'id', CAST(e AS TEXT))) e
  FROM (
    SELECT {discount} AS e WHERE jsonb_typeof({discount}) = 'object'
    UNION ALL
    SELECT x FROM jsonb_array_elements(CASE jsonb_typeof({discounts})
                                         WHEN 'array' THEN {discounts}
                                         ELSE '[]'::jsonb END) AS x
    WHERE jsonb_typeof(x) = 'object') AS entries)""",
        discount=discount,
        discounts=discounts,
    )


def unexpanded_sql(discount: str, discounts: str) -> str:
    """Whether a discount or coupon is given by id only: the discount is unknown, not
    zero (the fields as for :func:`discounts_sql`)."""
    return sql(
        """(
  SELECT bool_or(
    (jsonb_typeof(x) = 'string' AND NOT EXISTS (
       SELECT 1 FROM {expanded} AS d WHERE d.e ->> 'id' = x #>> '{}'))
    OR jsonb_typeof(coalesce(x -> 'coupon', x -> 'source' -> 'coupon')) = 'string')
  FROM jsonb_array_elements(
    jsonb_build_array({discount}) ||
    CASE jsonb_typeof({discounts}) WHEN 'array' THEN {discounts}
         ELSE '[]'::jsonb END) AS x)""",
        expanded=discounts_sql(discount, discounts),
        discount=discount,
        discounts=discounts,
    )


_DISCOUNTS = discounts_sql("r.discount", "r.discounts")
_UNEXPANDED = unexpanded_sql("r.discount", "r.discounts")

#: Whether a row gives any discount, expanded or by id (the rest is computed only then).
_HAS_DISCOUNT = (
    "(jsonb_typeof(r.discount) IN ('object', 'string') OR jsonb_typeof(r.discounts) = 'array')"
)

#: The first currency the items' prices (or legacy plans) name, lower-cased.
_ITEM_CURRENCY = sql(
    """(SELECT lower(c.currency)
   FROM {elements} WITH ORDINALITY AS it(item, n)
   CROSS JOIN LATERAL (SELECT nullif(btrim(coalesce(nullif(it.item -> 'price', 'null'::jsonb),
                                                   it.item -> 'plan') ->> 'currency'), '')
                       AS currency) AS c
   WHERE c.currency IS NOT NULL ORDER BY it.n LIMIT 1)""",
    elements=_elements("r.items"),
)

_SUBSCRIPTIONS = """
SELECT CAST('stripe' AS TEXT) AS provider, r.id AS subscription_id,
       {customer} AS customer_id,
       coalesce({customer_email}, nullif(btrim(r.joined_email), '')) AS customer_email,
       lower({status}) AS status,
       {cancel_at_period_end} AS cancel_at_period_end,
       {cancel_at} AS cancel_at,
       coalesce({period_start},
                (SELECT min({item_start}) FROM {elements} AS it(item))) AS current_period_start,
       coalesce({period_end},
                (SELECT max({item_end}) FROM {elements} AS it(item))) AS current_period_end,
       {trial_end} AS trial_end,
       {canceled_at} AS canceled_at,
       {ended_at} AS ended_at,
       {created} AS created,
       CASE WHEN r.unexpanded THEN NULL
            WHEN jsonb_typeof(r.coupon -> 'percent_off') = 'number'
            THEN CAST(round(CAST(100 * (1 - (1 - CAST(r.coupon ->> 'percent_off'
                 AS double precision) / 100)) AS numeric), 6) AS double precision)
       END AS discount_percent_off,
       CASE WHEN r.unexpanded THEN NULL
            WHEN lower(r.coupon ->> 'currency') IS NOT NULL
                 AND coalesce({currency}, {item_currency}) IS NOT NULL
                 AND lower(r.coupon ->> 'currency')
                     <> coalesce({currency}, {item_currency}) THEN NULL
            ELSE {amount_off}
       END AS discount_amount_off_minor,
       {table} || r.id AS source_ref, CAST(NULL AS BIGINT) AS source_number
FROM (
  SELECT r.*,
         CASE WHEN {has} THEN (SELECT coalesce(d.e -> 'coupon', d.e -> 'source' -> 'coupon')
                               FROM {discounts} AS d LIMIT 1) END AS coupon,
         CASE WHEN {has} THEN coalesce({unexpanded}, FALSE) ELSE FALSE END AS unexpanded
  FROM ({level1}) AS r
  OFFSET 0
) AS r
WHERE r.id IS NOT NULL"""

_ITEMS = """
{columns}
FROM (
  SELECT r.*, coalesce(CASE jsonb_typeof(r.details -> 'recurring')
                         WHEN 'object' THEN r.details -> 'recurring' END,
                       r.details) AS recurring
  FROM (
    SELECT r.*, CASE jsonb_typeof(r.price) WHEN 'object' THEN r.price END AS details
    FROM (
      SELECT r.id, r.item,
             coalesce(nullif(r.item -> 'price', 'null'::jsonb), r.item -> 'plan') AS price,
             nullif(r.item -> 'price', 'null'::jsonb) IS NULL AS legacy
      FROM (
        SELECT r.id, {elements} AS item FROM ({level1}) AS r WHERE r.id IS NOT NULL
        OFFSET 0) AS r
      OFFSET 0) AS r
    OFFSET 0) AS r
  OFFSET 0) AS r"""
