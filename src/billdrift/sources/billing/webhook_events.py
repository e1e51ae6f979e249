"""What a provider's webhook event is about: its id, its type, and which customer.

Only that: the event's payload is never trusted for state (events arrive late,
twice and out of order). The listener uses the customer to re-fetch that
customer's subscriptions from the API, which is the truth.

Relevant types (anything else is acknowledged and ignored):

* Stripe: ``customer.subscription.*``, ``customer.*`` (the customer object itself,
  or one of its sub-objects naming it), ``invoice.payment_failed``,
  ``entitlements.active_entitlement_summary.updated``.
* Paddle Billing: ``subscription.*``, ``customer.*``, ``transaction.payment_failed``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import orjson

Provider = Literal["stripe", "paddle"]
PROVIDERS: tuple[Provider, ...] = ("stripe", "paddle")


class EventError(Exception):
    """The body is not an event of this provider (signed, yet unreadable)."""


@dataclass(frozen=True)
class Event:
    provider: Provider
    id: str
    type: str
    #: The customer it concerns, when the type is relevant and names one; else None.
    customer: str | None


def parse_event(provider: Provider, body: bytes) -> Event:
    """The event in `body` (raw JSON as received); EventError when it is not one."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise EventError("the body is not JSON") from None
    if not isinstance(data, dict):
        raise EventError("the body is not a JSON object")
    if provider == "stripe":
        ident, kind = data.get("id"), data.get("type")
        payload = (
            (data.get("data") or {}).get("object") if isinstance(data.get("data"), dict) else None
        )
        customer = _stripe_customer(str(kind), payload)
    else:
        ident, kind = data.get("event_id"), data.get("event_type")
        payload = data.get("data")
        customer = _paddle_customer(str(kind), payload)
    if not isinstance(ident, str) or not ident or not isinstance(kind, str) or not kind:
        raise EventError(f"a {provider} event needs a string id and type")
    return Event(provider, ident, kind, customer)


def _stripe_customer(kind: str, payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    if kind.startswith("customer.subscription.") or kind in (
        "invoice.payment_failed",
        "entitlements.active_entitlement_summary.updated",
    ):
        return _id(payload.get("customer"))
    if kind.startswith("customer."):
        # customer.created/updated/deleted carry the customer; customer.discount.*,
        # customer.source.*, customer.tax_id.* carry an object that names it.
        if payload.get("object") == "customer":
            return _id(payload.get("id"))
        return _id(payload.get("customer"))
    return None


def _paddle_customer(kind: str, payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    if kind.startswith("subscription.") or kind == "transaction.payment_failed":
        return _id(payload.get("customer_id"))
    if kind.startswith("customer."):
        return _id(payload.get("id"))
    return None


def _id(value: Any) -> str | None:
    """An id, or the id of an expanded object."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
