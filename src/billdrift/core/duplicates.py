"""A subscription read more than once: identical copies collapse, conflicting ones are held.

Overlapping exports and repeated rows list a subscription twice. When the copies
say the same thing, one is kept (the first input's, first row's). When they
disagree (one says ``active``, the other ``canceled``), keeping whichever came
first would make the verdict depend on the order of rows or files: PASS one way,
FAIL the other. So no copy is used: every copy becomes a skipped row saying what
differs, and, as for any unreadable billing row naming a customer, the accounts of
that customer are held back as ambiguous instead of judged on an arbitrary copy.

Runs only when some subscription id repeats, over the tagged relations
(``billing_subscriptions_tagged`` with ``input`` and ``row``,
``billing_items_tagged`` with ``input``); Python only words the few conflicts.
"""

from __future__ import annotations

from typing import Any

import duckdb

from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, Skip
from billdrift.core.refs import NUMBER, ref_text
from billdrift.core.sql import sql

#: What a copy says: every canonical column but its id and where it was read.
_CONTENT = tuple(
    name
    for name in BILLING_SUBSCRIPTIONS.names
    if name not in ("subscription_id", "source_ref", NUMBER)
)
_ITEM = tuple(name for name in BILLING_ITEMS.names if name != "subscription_id")

#: Subscription ids whose copies differ: in their row, or in the items the inputs
#: listing them give (items of one input cannot be told apart by copy).
_CONFLICTS = f"""
CREATE TEMP TABLE billing_conflicts AS
WITH repeated AS (
  SELECT subscription_id FROM billing_subscriptions_tagged
  GROUP BY subscription_id HAVING count(*) > 1
),
item_sets AS (
  SELECT subscription_id, input, list_sort(list(hash({", ".join(_ITEM)}))) AS items
  FROM billing_items_tagged
  WHERE subscription_id IN (SELECT subscription_id FROM repeated)
  GROUP BY subscription_id, input
)
SELECT t.subscription_id
FROM billing_subscriptions_tagged t
LEFT JOIN item_sets s ON s.subscription_id = t.subscription_id AND s.input = t.input
WHERE t.subscription_id IN (SELECT subscription_id FROM repeated)
GROUP BY t.subscription_id
HAVING count(DISTINCT hash({", ".join(f"t.{name}" for name in _CONTENT)})) > 1
    OR count(DISTINCT coalesce(s.items, [])) > 1
"""

#: Each subscription once (the first input, then the first row, of a repeat whose
#: copies agree); conflicting ones not at all. Items: those of the input whose copy
#: was kept, each once (a repeated record lists its items again).
_KEPT = """
CREATE TABLE billing_subscriptions AS
SELECT * EXCLUDE (input, row, copy) FROM (
  SELECT *, row_number() OVER (PARTITION BY subscription_id ORDER BY input, row) AS copy
  FROM billing_subscriptions_tagged
  WHERE subscription_id NOT IN (SELECT subscription_id FROM billing_conflicts)
) WHERE copy = 1;
CREATE TABLE billing_items AS
WITH kept AS (
  SELECT subscription_id, min(input) AS input, count(*) > 1 AS repeated
  FROM billing_subscriptions_tagged
  WHERE subscription_id NOT IN (SELECT subscription_id FROM billing_conflicts)
  GROUP BY subscription_id
)
SELECT i.* EXCLUDE (input) FROM billing_items_tagged i
JOIN kept k ON k.subscription_id = i.subscription_id AND k.input = i.input
WHERE NOT k.repeated
UNION ALL
SELECT DISTINCT i.* EXCLUDE (input) FROM billing_items_tagged i
JOIN kept k ON k.subscription_id = i.subscription_id AND k.input = i.input
WHERE k.repeated
"""


def keep_one_copy(con: duckdb.DuckDBPyConnection) -> tuple[int, tuple[Skip, ...]]:
    """Create ``billing_subscriptions`` and ``billing_items`` from the tagged relations.

    Returns how many identical copies were dropped, and a Skip per copy of each
    subscription whose copies conflict."""
    con.execute(_CONFLICTS)
    con.execute(_KEPT)
    dropped = con.execute(
        "SELECT (SELECT count(*) FROM billing_subscriptions_tagged WHERE subscription_id NOT IN "
        "(SELECT subscription_id FROM billing_conflicts)) - "
        "(SELECT count(*) FROM billing_subscriptions)"
    ).fetchall()[0][0]
    rows = (
        con.sql(
            sql(
                "SELECT *, {place} AS place FROM billing_subscriptions_tagged t "
                "WHERE subscription_id IN (SELECT subscription_id FROM billing_conflicts) "
                "ORDER BY subscription_id, input, row",
                place=ref_text("t"),
            )
        )
        .to_arrow_table()
        .to_pylist()
    )
    copies: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        copies.setdefault(row["subscription_id"], []).append(row)
    skips = tuple(skip for same in copies.values() for skip in _skips(same))
    return int(dropped), skips


def _skips(copies: list[dict[str, Any]]) -> list[Skip]:
    """A Skip per copy of one subscription, naming the first field the copies differ in."""
    ident = copies[0]["subscription_id"]
    differing = [name for name in _CONTENT if len({repr(c[name]) for c in copies}) > 1]
    field = differing[0] if differing else None
    what = "their items differ between inputs"
    if differing:
        said = ", ".join(f"{_shown(c[differing[0]])} at {c['place']}" for c in copies)
        what = f"{differing[0]}: {said}"
    reason = (
        f"subscription {ident} is listed {len(copies)} times with different content "
        f"({what}); no copy is used, since which one is right cannot be told"
    )
    return [
        Skip("billing", *_where(copy["place"]), reason, field, copy["customer_id"])
        for copy in copies
    ]


def _where(place: object) -> tuple[str, str]:
    """(source, location) from a place such as ``subs.csv:line 3``."""
    text = str(place or "")
    source, _, location = text.partition(":")
    return source, location


def _shown(value: object) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat()).replace("+00:00", "Z")
    return repr(value)
