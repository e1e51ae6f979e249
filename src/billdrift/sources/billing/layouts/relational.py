"""The SELECT for layouts that land Stripe as relational tables, one per object (Stripe
Data Pipeline / Sigma, Fivetran): subscriptions, their items, prices and customers.

Each subscription row is read with its items gathered into the Stripe ``items`` list
(each item with its price object: amount, currency, interval, product, lookup key), so
the rows go through the same Stripe parser in-process, and the same ``jsonb`` taking
apart when pushed down, as a mirror holding whole objects. The items are aggregated
once and hash-joined, never looked up per subscription. Only columns that exist are
read; a missing table or essential column is an error naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table
from billdrift.sources.billing.layouts.base import column, required_sibling
from billdrift.sources.billing.stripe_mirror_query import (
    MirrorQuery,
    field_select,
    join_customers,
    kept,
    require,
    select_sql,
    sibling,
    text_sql,
    value_sql,
)


@dataclass(frozen=True)
class Shape:
    """Where one relational layout keeps each object."""

    layout: str
    what: str  # "a Fivetran Stripe schema"
    items: tuple[str, ...]  # table names, preferred first
    prices: tuple[str, ...]
    customers: tuple[str, ...]


#: Stripe field -> the columns that may hold it on the subscriptions table.
_SUBSCRIPTION = {
    "id": ("id",),
    "customer": ("customer_id", "customer"),
    "status": ("status",),
    "cancel_at_period_end": ("cancel_at_period_end",),
    "cancel_at": ("cancel_at",),
    "canceled_at": ("canceled_at",),
    "current_period_start": ("current_period_start",),
    "current_period_end": ("current_period_end",),
    "ended_at": ("ended_at",),
    "trial_end": ("trial_end",),
    "created": ("created",),
}
_ITEM_LINK = ("subscription_id", "subscription")
_PRICE_LINK = ("price_id", "plan_id", "price", "plan")
#: Price object field -> columns of a prices table (or the legacy plans table).
_PRICE = {
    "unit_amount": ("unit_amount", "amount"),
    "currency": ("currency",),
    "lookup_key": ("lookup_key",),
    "nickname": ("nickname",),
    "product": ("product_id", "product"),
}
_RECURRING = {
    "interval": ("recurring_interval", "interval"),
    "interval_count": ("recurring_interval_count", "interval_count"),
}


def relational_query(
    conn: ReadOnlyConnection, table: Table, tables: Sequence[Table], shape: Shape
) -> MirrorQuery:
    query = MirrorQuery(shape.layout, table)
    found = {name: column(table, *names) for name, names in _SUBSCRIPTION.items()}
    present = {name: c for name, c in found.items() if c is not None}
    by_name = {c.name: c for c in table.columns}
    require(conn, table, by_name, ["id", "status"], shape.what)
    if "customer" not in present:
        require(conn, table, by_name, ["customer_id"], shape.what)
    selects = [
        field_select(conn, query, name, f"s.{conn.quote(c.name)}", c) for name, c in present.items()
    ]
    items = required_sibling(conn, table, tables, shape.items, shape.what)
    prices = required_sibling(conn, table, tables, shape.prices, shape.what)
    items_join = _items_join(conn, query, items, prices, shape.what)
    selects.append("CAST(coalesce(it.bd_items, CAST('[]' AS jsonb)) AS TEXT) AS \"items\"")
    query.fields["items"] = items.qualified
    query.json.add("items")
    missing = [name for name in _SUBSCRIPTION if name not in present]
    if missing:
        query.notes.append(f"no {', '.join(missing)} column(s), so those fields are read as empty")
    query.notes.append("discounts are not read from this layout: exposure is before discounts")
    customers = next((t for n in shape.customers if (t := sibling(tables, table, n))), None)
    link = ("id", text_sql(conn, f"s.{conn.quote(present['customer'].name)}"))
    join = items_join + join_customers(conn, query, selects, customers, link)
    query.sql = select_sql(conn, query, selects, join)
    return query


def _items_join(
    conn: ReadOnlyConnection, query: MirrorQuery, items: Table, prices: Table, what: str
) -> str:
    """The LEFT JOIN bringing each subscription's items as one Stripe items list."""
    by_name = {c.name: c for c in items.columns}
    link = column(items, *_ITEM_LINK)
    price_link = column(items, *_PRICE_LINK)
    if link is None or price_link is None:
        wanted = "subscription_id" if link is None else "price_id or plan_id"
        require(conn, items, by_name, [wanted], what)
    assert link is not None and price_link is not None
    price_id = column(prices, "id")
    if price_id is None:
        require(conn, prices, {c.name: c for c in prices.columns}, ["id"], what)
    q = conn.quote
    parts = [f"'id', {_json(conn, 'i', column(items, 'id'))}"]
    parts.append(f"'quantity', {_json(conn, 'i', column(items, 'quantity'))}")
    for name in ("current_period_start", "current_period_end"):
        parts.append(f"'{name}', {_json(conn, 'i', column(items, name))}")
    price = [f"'id', CAST(p.{q('id')} AS TEXT)", "'object', 'price'"]
    for name, names in _PRICE.items():
        price.append(f"'{name}', {_json(conn, 'p', column(prices, *names))}")
    recurring = [
        f"'{name}', {_json(conn, 'p', column(prices, *names))}"
        for name, names in _RECURRING.items()
    ]
    price.append(f"'recurring', jsonb_build_object({', '.join(recurring)})")
    price_link_text = f"CAST(i.{q(price_link.name)} AS TEXT)"
    parts.append(
        f"'price', CASE WHEN p.{q('id')} IS NULL THEN to_jsonb({price_link_text}) "
        f"ELSE jsonb_build_object({', '.join(price)}) END"
    )
    condition, markers = kept(conn, items, "i")
    if markers:
        query.notes.append(
            f"items marked deleted in {items.qualified} ({', '.join(markers)}) are left out"
        )
    where = f" WHERE {condition}" if condition else ""
    order = f" ORDER BY i.{q('id')}" if "id" in by_name else ""
    return (
        f" LEFT JOIN (SELECT CAST(i.{q(link.name)} AS TEXT) AS bd_sub, "
        f"jsonb_agg(jsonb_build_object({', '.join(parts)}){order}) AS bd_items "
        f"FROM {conn.qualify(items.qualified)} AS i "
        f"LEFT JOIN {conn.qualify(prices.qualified)} AS p "
        f"ON CAST(p.{q('id')} AS TEXT) = {price_link_text}{where} GROUP BY 1) AS it "
        f"ON it.bd_sub = CAST(s.{q('id')} AS TEXT)"
    )


def _json(conn: ReadOnlyConnection, alias: str, found: Column | None) -> str:
    """`found` as a JSON value the Stripe parser reads (timestamps as unix seconds)."""
    if found is None:
        return "CAST(NULL AS jsonb)"
    expression, is_json = value_sql(conn, f"{alias}.{conn.quote(found.name)}", found)
    return f"CAST({expression} AS jsonb)" if is_json else f"to_jsonb({expression})"
