"""Stripe Entitlements: what each customer is owed, as features with lookup keys.

With ``billing.stripe.entitlements = true``, every customer holding a
subscription in an entitling status (active, trialing, past_due) is asked for
its active entitlements (``/v1/entitlements/active_entitlements``, one customer
per request, at most ``entitlements_concurrency`` in flight, sharing the rate
limit with everything else). Each entitlement becomes an extra item row of the
customer's subscriptions with its feature's ``lookup_key`` and no price, so:

* ``[plans]`` can map entitlement lookup keys to app plans, and plan drift
  compares the app's plan with what the customer is *entitled to*;
* money at stake is unchanged (the rows carry no amount).

One request per customer is the API's shape, not a choice: on a large account
this costs far more than the subscriptions themselves, so it is off by default
and the report says how many requests it took.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import BILLING_ITEMS
from billdrift.infra.api.client import ApiClient

ENTITLING = ("active", "trialing", "past_due")
PAGE_SIZE = 100


def customer_entitlements(client: ApiClient, customer: str) -> list[str]:
    """Lookup keys of one customer's active entitlements (every page)."""
    keys: list[str] = []
    cursor: str | None = None
    while True:
        params: list[tuple[str, str | int]] = [("customer", customer), ("limit", PAGE_SIZE)]
        if cursor:
            params.append(("starting_after", cursor))
        page = client.get("/v1/entitlements/active_entitlements", params)
        data = page.get("data") if isinstance(page, dict) else None
        entries = [entry for entry in data or [] if isinstance(entry, dict)]
        keys += [str(entry["lookup_key"]) for entry in entries if entry.get("lookup_key")]
        if not page.get("has_more") or not entries:
            return keys
        cursor = str(entries[-1].get("id"))


def entitlement_items(
    client: ApiClient, subscriptions: pa.Table, concurrency: int
) -> tuple[pa.Table, int]:
    """Item rows for every entitlement of every customer with an entitling subscription,
    and how many customers were asked."""
    entitling = subscriptions.filter(pc.is_in(subscriptions["status"], pa.array(ENTITLING)))
    customers = sorted({c for c in entitling["customer_id"].to_pylist() if c})
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="entitlements") as pool:
        found = dict(
            zip(
                customers,
                pool.map(lambda c: customer_entitlements(client, c), customers),
                strict=True,
            )
        )
    rows: list[dict[str, Any]] = []
    pairs = subscriptions.select(["subscription_id", "customer_id"]).to_pydict()
    for subscription, customer in zip(pairs["subscription_id"], pairs["customer_id"], strict=True):
        for lookup_key in sorted(set(found.get(customer, ()))):
            rows.append({"subscription_id": subscription, "lookup_key": lookup_key})
    return pa.Table.from_pylist(rows, schema=BILLING_ITEMS), len(customers)
