"""The plan map resolved without a join, for sources with one item per subscription row.

A Stripe CSV export is one row per subscription and that row is also its only item:
the reader hands the engine the same rows twice, in the same order. For such input
each subscription's plan is resolved here from the columns rather than by the plan
stages' join of every item with the plan map (:mod:`billdrift.core.rules.plan_stages`):
the map is a handful of keys, so each key column is looked up once (Arrow's
``index_in``, a hash of the few keys) and the one plan each row maps to is appended to
the subscription rows, which are scanned in place, for the accounts to carry.

Only the simple case is taken: when any row maps to several plans (its price and its
product mapped apart) every subscription is left to the stages' pairs, so pairs of
several plans are built in one place only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

#: The item columns a plan map key may match, in the stages' order.
KEYS = ("price_id", "lookup_key", "product_id", "plan_name")


def aligned_plans(
    subscriptions: pa.Table, items: pa.Table, plans: Sequence[tuple[str, str]]
) -> dict[str, pa.Table] | None:
    """``planned_subscriptions`` (each row with its one plan) and ``mapped_plans``
    (no pairs left) for `subscriptions` whose `items` are one per subscription in the
    same order, through the plan map `plans` (key, plan); None when the items are laid
    out otherwise or a row maps to several plans, and the stages make them."""
    if items.num_rows != subscriptions.num_rows:
        return None
    ids = subscriptions.column("subscription_id")
    if pc.all(pc.equal(items.column("subscription_id"), ids)).as_py() is False:
        return None
    if not plans:  # nothing to resolve: every row carries no plan, and has no pairs
        return _relations(subscriptions, pa.nulls(len(ids), pa.string()))
    keys = pa.array([key for key, _ in plans], pa.string())
    # lower-cased as DuckDB's lower() does (both use utf8proc's simple case mapping)
    lowered = pc.utf8_lower(pa.array([plan for _, plan in plans], pa.string()))
    # each map row's plan as the index of the first row with the same plan, so that
    # rows are compared and carried as small integers, never as strings
    first: dict[str, int] = {}
    same = pa.array([first.setdefault(p, n) for n, p in enumerate(lowered.to_pylist())], pa.int32())
    found = [
        pc.take(same, pc.index_in(column, value_set=keys))
        for column in (items.column(name) for name in KEYS)
        if column.null_count < len(column)  # an absent key column matches nothing
    ]
    if not found:
        return _relations(subscriptions, pa.nulls(len(ids), pa.string()))
    plan = pc.coalesce(*found) if len(found) > 1 else found[0]
    for other in found[1:]:
        if pc.any(pc.not_equal(other, plan)).as_py():  # NULL where the key is unmapped
            return None
    return _relations(
        subscriptions,
        pa.chunked_array(
            [pa.DictionaryArray.from_arrays(chunk, lowered) for chunk in plan.chunks],
            pa.dictionary(pa.int32(), pa.string()),
        ),
    )


def _relations(subscriptions: pa.Table, mapped: pa.Array | pa.ChunkedArray) -> dict[str, pa.Table]:
    """The relations, from each subscription row's one plan `mapped` (the plans a
    dictionary: the rows hold only their index): every row carries its plan, so no
    subscription is left to the pairs of ``mapped_plans``."""
    return {
        "planned_subscriptions": subscriptions.append_column("mapped_plan", mapped),
        "mapped_plans": pa.table(
            {"subscription_id": pa.array([], pa.string()), "plan": pa.array([], pa.string())}
        ),
    }
