"""Stripe subscription objects as the canonical billing tables.

The full fetch and the incremental update of the snapshot both end with a list
of subscription objects; this turns one into rows the same way for both (the
same parser as a JSON export), so a snapshot and a fresh fetch read the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billdrift.core.model import Skip
from billdrift.sources.billing.common import (
    RecordError,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.stripe_json import parse_subscription


@dataclass
class Parsed:
    """Subscription objects turned into canonical rows."""

    subscriptions: list[dict[str, Any]]
    items: list[dict[str, Any]]
    skips: list[Skip]
    truncated: int = 0


def parse_records(records: list[dict[str, Any]], name: str) -> Parsed:
    """Canonical rows from Stripe subscription objects, sorted by id (deterministic)."""
    parsed = Parsed([], [], [])
    for record in sorted(records, key=lambda r: str(r.get("id"))):
        ident = str(record.get("id"))
        try:
            sub, sub_items, _discount, more = parse_subscription(record, f"{name}:{ident}")
        except RecordError as error:
            customer = object_id(record.get("customer"))
            parsed.skips.append(skip(name, ident, error.reason, error.field, customer))
            continue
        parsed.subscriptions.append(sub)
        parsed.items.extend(sub_items)
        parsed.truncated += more
    return parsed


def as_tables(parsed: Parsed) -> tuple[Any, Any]:
    return subscriptions_table(parsed.subscriptions), items_table(parsed.items)
