"""A Stripe mirror's rows as the canonical billing relations, decoded inside PostgreSQL
from the layout's own SELECT: the general path, for layouts whose subscription objects
are assembled from several tables (Fivetran, Stripe Data Pipeline: items, prices and
customers joined and gathered into a Stripe ``items`` list).

Each row of that SELECT becomes one Stripe object (``bd_mirror_records``: the
whole-object column wins, the field columns complete it, as in-process) and is taken
apart with ``jsonb`` as the Stripe parser does in Python: item-level or
subscription-level periods, ``price`` or legacy ``plan``, quantity, interval, one
discount. A table holding one column per Stripe field (sync-engine, dj-stripe and the
API-shaped loads) takes the faster one-pass decoder of
:mod:`~billdrift.sources.pushdown.postgres_mirror` instead; both give the canonical
relations the in-process reader gives (the identity tests run each layout both ways).
"""

from __future__ import annotations

from billdrift.core.sql import sql
from billdrift.infra.db.interface import ReadOnlyConnection
from billdrift.infra.quoting import sql_string
from billdrift.sources.billing.stripe_mirror_query import (
    CUSTOMER_OBJECT,
    EMAIL,
    OBJECT,
    MirrorQuery,
)
from billdrift.sources.pushdown.postgres_mirror import (
    discounts_sql,
    integer,
    item_columns,
    json_id,
    json_timestamp,
    trimmed,
    unexpanded_sql,
)


def assembled(mirror: MirrorQuery) -> bool:
    """Whether the layout assembles each subscription's items from another table (its
    SELECT names the items table), so only this module's general path can read it."""
    source = mirror.fields.get("items")
    return source is not None and source not in {c.name for c in mirror.table.columns}


def records_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """One row per mirror row: the Stripe subscription object it holds (the whole-object
    column wins, the field columns complete it, as in-process) and the joined email."""
    base = mirror.sql
    order = f" ORDER BY s.{conn.quote('id')}"
    base = base.removesuffix(order)
    fields = []
    for name in mirror.fields:
        column = f"m.{conn.quote(name)}"
        value = f"CAST({column} AS jsonb)" if name in mirror.json else f"to_jsonb({column})"
        fields += [sql_string(name), value]
    built = f"jsonb_strip_nulls(jsonb_build_object({', '.join(fields)}))" if fields else "'{}'"
    whole = (
        f"coalesce(CAST(m.{conn.quote(OBJECT)} AS jsonb), '{{}}'::jsonb)"
        if mirror.object_column
        else "'{}'::jsonb"
    )
    if mirror.email == "text":
        email = f"m.{conn.quote(EMAIL)}"
    elif mirror.email == "json":
        email = f"CAST(m.{conn.quote(CUSTOMER_OBJECT)} AS jsonb) ->> 'email'"
    else:
        email = "CAST(NULL AS TEXT)"
    table = sql_string(mirror.table.qualified + ":")
    return sql(
        _RECORDS,
        built=built,
        whole=whole,
        email=email,
        base=base,
        table=table,
    )


_RECORDS = """
SELECT r.rec, nullif(btrim(r.rec ->> 'id'), '') AS id, r.joined_email, r.ref_prefix
FROM (
  SELECT {built}::jsonb || {whole} AS rec, {email} AS joined_email, {table} AS ref_prefix
  FROM ({base}) AS m
) AS r"""


#: A record's discounts (the one-pass decoder's SQL over the record's fields).
_DISCOUNTS = discounts_sql("r.rec -> 'discount'", "r.rec -> 'discounts'")
_UNEXPANDED = unexpanded_sql("r.rec -> 'discount'", "r.rec -> 'discounts'")

#: Each record's items (``items.data``, or a bare array), with their position.
_ITEM_ELEMENTS = """jsonb_array_elements(CASE jsonb_typeof(r.rec -> 'items')
    WHEN 'object' THEN CASE jsonb_typeof(r.rec -> 'items' -> 'data')
                         WHEN 'array' THEN r.rec -> 'items' -> 'data' ELSE '[]'::jsonb END
    WHEN 'array' THEN r.rec -> 'items' ELSE '[]'::jsonb END)"""

ITEMS = sql(
    """
{columns}
FROM bd_mirror_records AS r
CROSS JOIN LATERAL {elements} AS it(item)
CROSS JOIN LATERAL (
  SELECT p.price, p.legacy,
         CASE jsonb_typeof(p.price) WHEN 'object' THEN p.price END AS details
  FROM (SELECT coalesce(nullif(it.item -> 'price', 'null'::jsonb), it.item -> 'plan') AS price,
               nullif(it.item -> 'price', 'null'::jsonb) IS NULL AS legacy) AS p
) AS pr
CROSS JOIN LATERAL (
  SELECT coalesce(CASE jsonb_typeof(pr.details -> 'recurring')
                    WHEN 'object' THEN pr.details -> 'recurring' END, pr.details) AS recurring
) AS rc
WHERE r.id IS NOT NULL""",
    columns=item_columns(item="it", price="pr", recurring="rc"),
    elements=_ITEM_ELEMENTS,
)

SUBSCRIPTIONS = sql(
    """
SELECT CAST('stripe' AS TEXT) AS provider, r.id AS subscription_id,
       {customer} AS customer_id,
       coalesce(CASE jsonb_typeof(r.rec -> 'customer')
                  WHEN 'object' THEN {customer_email} END,
                {joined_email}) AS customer_email,
       lower({status}) AS status,
       CAST(r.rec ->> 'cancel_at_period_end' AS boolean) AS cancel_at_period_end,
       {cancel_at} AS cancel_at,
       coalesce({period_start}, periods.item_start) AS current_period_start,
       coalesce({period_end}, periods.item_end) AS current_period_end,
       {trial_end} AS trial_end,
       {canceled_at} AS canceled_at,
       {ended_at} AS ended_at,
       {created} AS created,
       CASE WHEN disc.unexpanded THEN NULL
            WHEN jsonb_typeof(disc.coupon -> 'percent_off') = 'number'
            THEN CAST(round(CAST(100 * (1 - (1 - CAST(disc.coupon ->> 'percent_off'
                 AS double precision) / 100)) AS numeric), 6) AS double precision)
       END AS discount_percent_off,
       CASE WHEN disc.unexpanded THEN NULL
            WHEN lower(disc.coupon ->> 'currency') IS NOT NULL
                 AND coalesce(lower({currency}), periods.item_currency) IS NOT NULL
                 AND lower(disc.coupon ->> 'currency')
                     <> coalesce(lower({currency}), periods.item_currency) THEN NULL
            ELSE {amount_off}
       END AS discount_amount_off_minor,
       r.ref_prefix || r.id AS source_ref, CAST(NULL AS BIGINT) AS source_number
FROM bd_mirror_records AS r
LEFT JOIN LATERAL (
  SELECT min({item_start}) AS item_start, max({item_end}) AS item_end,
         (array_agg(lower({item_currency}) ORDER BY it.n)
            FILTER (WHERE {item_currency} IS NOT NULL))[1] AS item_currency
  FROM {elements} WITH ORDINALITY AS it(item, n)
) AS periods ON TRUE
LEFT JOIN LATERAL (
  SELECT (SELECT coalesce(d.e -> 'coupon', d.e -> 'source' -> 'coupon')
          FROM {discounts} AS d LIMIT 1) AS coupon,
         coalesce({unexpanded}, FALSE) AS unexpanded
) AS disc ON TRUE
WHERE r.id IS NOT NULL""",
    customer=json_id("(r.rec -> 'customer')"),
    customer_email=trimmed("r.rec -> 'customer' ->> 'email'"),
    joined_email=trimmed("r.joined_email"),
    status=trimmed("r.rec ->> 'status'"),
    cancel_at=json_timestamp("(r.rec -> 'cancel_at')"),
    period_start=json_timestamp("(r.rec -> 'current_period_start')"),
    period_end=json_timestamp("(r.rec -> 'current_period_end')"),
    trial_end=json_timestamp("(r.rec -> 'trial_end')"),
    canceled_at=json_timestamp("(r.rec -> 'canceled_at')"),
    ended_at=json_timestamp("(r.rec -> 'ended_at')"),
    created=json_timestamp("(r.rec -> 'created')"),
    currency=trimmed("r.rec ->> 'currency'"),
    amount_off=integer("disc.coupon ->> 'amount_off'"),
    item_start=json_timestamp("(it.item -> 'current_period_start')"),
    item_end=json_timestamp("(it.item -> 'current_period_end')"),
    item_currency=trimmed(
        "coalesce(nullif(it.item -> 'price', 'null'::jsonb), it.item -> 'plan') ->> 'currency'"
    ),
    elements=_ITEM_ELEMENTS,
    discounts=_DISCOUNTS,
    unexpanded=_UNEXPANDED,
)

#: Subscriptions with several expanded discounts: combined in-process, refused here.
SEVERAL_DISCOUNTS = sql(
    "SELECT count(*) FROM bd_mirror_records AS r WHERE (SELECT count(*) FROM {discounts} AS d) > 1",
    discounts=_DISCOUNTS,
)
