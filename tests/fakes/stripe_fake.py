"""A small fake of Stripe's read API, on a real local HTTP server.

Why our own and not only localstripe: localstripe (see ``localstripe_server``)
has no ``created`` filter, no ``ending_before``, no Prices, no entitlements, no
restricted keys, no rate limit and lists oldest first. A live Stripe source
needs all of those exercised, plus the failure modes a real account produces
(429s shared with the customer's own traffic, 500s with ``Stripe-Should-Retry``,
dropped connections), at benchmark scale.

Endpoints (GET only, JSON, Stripe's shapes; ``Authorization: Bearer <key>`` or
Basic auth with the key as user name):

* ``/v1/subscriptions`` (``limit`` 1..100, default 10; ``starting_after``,
  ``ending_before``; ``status`` = a status, ``all`` or ``ended``; WITHOUT
  ``status`` canceled and incomplete_expired subscriptions are left out, as Stripe
  does; ``created`` exact or ``created[gt|gte|lt|lte]``; ``customer``; ``price``;
  ``expand[]`` of ``data.customer``, ``data.discounts``, ``data.items.data.price``
  (a no-op: items always carry the price object), ``data.items.data.price.product``),
  ``/v1/subscriptions/{id}``;
* ``/v1/customers`` (``email``, ``created``) and ``/v1/customers/{id}`` (a deleted
  customer answers ``{"id", "object": "customer", "deleted": true}``, as Stripe does);
* ``/v1/events`` (``type``, with a trailing ``*`` wildcard, or ``types[]``;
  ``created``) and ``/v1/events/{id}``;
* ``/v1/entitlements/active_entitlements?customer=cus_...`` (``expand[]=data.feature``).

List order, like Stripe: newest ``created`` first; ties (Stripe has one-second
timestamps, so bulk imports tie a lot) are broken by id, descending. Cursors are
positions in that order, so a cursor object that no longer matches the filter
(a subscription canceled between two pages of a default-status listing) still
pages correctly, as on Stripe. An unknown cursor id is a 400 ``resource_missing``.
Unknown query parameters are a 400 ``parameter_unknown``, as on Stripe, so a typo
in a source fails loudly here instead of silently listing everything.

Restricted keys carry a set of permissions; a request outside them gets Stripe's
403 naming the missing one (``rak_subscription_read``, ``rak_customer_read``,
``rak_event_read``, ``rak_entitlement_read``; expanding ``data.customer`` needs
``rak_customer_read`` too and ``...price.product`` ``rak_product_read``). Stripe
documents no ``code`` for this error, so none is sent: match on the status and
the permission name in the message. ``rak_entitlement_read`` is our name for the
Entitlements permission (UNVERIFIED against Stripe).

Use from Python::

    with FakeStripe(rate_limit=25) as fake:
        fake.populate(2_000, seed=1)
        fake.inject("500", times=2, path="/v1/subscriptions")
        ... point the source at fake.url with FakeStripe.DEFAULT_KEY ...
        assert fake.stats().max_admitted_per_second <= 25

``FakeStripe.with_stripe_limits(live=True)`` enforces Stripe's documented limits:
the account's (100/s live, 25/s test) and 25/s per endpoint (each route is one:
``/v1/customers/{id}``), answering Stripe's 429 (``code: rate_limit``,
``Stripe-Should-Retry: true``) to what is over either.

Store objects are copy-on-write dicts: helpers replace a subscription, never
mutate it, so handler threads rendering an older version stay consistent.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import copy
import random
import re
import string
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from tests.fakes import ApiError, FakeApiServer, FaultKind, Request, Response, pairs

API_VERSION = "2025-03-31.basil"

#: Every subscription status Stripe has.
STATUSES = (
    "incomplete",
    "incomplete_expired",
    "trialing",
    "active",
    "past_due",
    "canceled",
    "unpaid",
    "paused",
)
#: Left out of ``GET /v1/subscriptions`` when no ``status`` is given.
HIDDEN_WITHOUT_STATUS = frozenset({"canceled", "incomplete_expired"})
#: ``status=ended``.
ENDED = frozenset({"canceled", "incomplete_expired"})

PERM_SUBSCRIPTIONS = "rak_subscription_read"
PERM_CUSTOMERS = "rak_customer_read"
PERM_EVENTS = "rak_event_read"
PERM_ENTITLEMENTS = "rak_entitlement_read"
PERM_PRODUCTS = "rak_product_read"
#: What a read-only audit key needs (see domain.md).
READ_ONLY_AUDIT = frozenset(
    {PERM_SUBSCRIPTIONS, PERM_CUSTOMERS, PERM_EVENTS, PERM_ENTITLEMENTS, PERM_PRODUCTS}
)

#: Stripe's documented rate limits (domain.md): requests per second for the whole
#: account in live and test mode, and the default for each endpoint on top.
LIVE_ACCOUNT_LIMIT = 100
TEST_ACCOUNT_LIMIT = 25
ENDPOINT_LIMIT = 25

DAY = 86_400
#: Stripe keeps events for 30 days.
EVENT_RETENTION = 30 * DAY

PeriodLayout = Literal["item", "subscription"]
Interval = Literal["day", "week", "month", "year"]
Json = dict[str, Any]

_ALPHABET = string.ascii_letters + string.digits


def random_id(prefix: str, rng: random.Random | None = None, length: int = 24) -> str:
    """A Stripe-looking id (``sub_1Qx...``); pass ``rng`` for reproducible ids."""
    pick = (rng or random).choices
    return prefix + "1" + "".join(pick(_ALPHABET, k=length - 1))


# ---------------------------------------------------------------------------- periods
def add_months(ts: int, months: int) -> int:
    """``ts`` plus whole months, the day clamped to the month's end (Jan 31 -> Feb 28)."""
    start = datetime.fromtimestamp(ts, UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def add_interval(anchor: int, interval: str, count: int, times: int = 1) -> int:
    """``anchor`` plus ``times`` billing periods; months count from the anchor (no drift)."""
    if interval == "day":
        return anchor + DAY * count * times
    if interval == "week":
        return anchor + 7 * DAY * count * times
    return add_months(anchor, count * times * (12 if interval == "year" else 1))


def current_period(anchor: int, interval: str, count: int, at: int) -> tuple[int, int]:
    """The billing period (start, end) that contains ``at``, periods starting at ``anchor``."""
    if at <= anchor:
        return anchor, add_interval(anchor, interval, count)
    if interval in ("day", "week"):
        step = add_interval(0, interval, count)
        k = (at - anchor) // step
    else:
        months = count * (12 if interval == "year" else 1)
        a, b = datetime.fromtimestamp(anchor, UTC), datetime.fromtimestamp(at, UTC)
        k = max(0, ((b.year - a.year) * 12 + b.month - a.month) // months - 1)
        while add_interval(anchor, interval, count, k + 1) <= at:
            k += 1
    return add_interval(anchor, interval, count, k), add_interval(anchor, interval, count, k + 1)


# ---------------------------------------------------------------------------- objects
def make_customer(
    id: str,
    email: str | None,
    *,
    name: str | None = None,
    created: int | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Json:
    """A customer object as ``GET /v1/customers/{id}`` returns it."""
    return {
        "id": id,
        "object": "customer",
        "address": None,
        "balance": 0,
        "created": int(time.time()) if created is None else created,
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "email": email,
        "invoice_prefix": id[4:12].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(metadata or {}),
        "name": name,
        "phone": None,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def make_price(
    id: str,
    *,
    lookup_key: str | None = None,
    unit_amount: int | None = 2900,
    currency: str = "usd",
    interval: Interval = "month",
    interval_count: int = 1,
    product: str = "prod_Pro",
    nickname: str | None = None,
    usage_type: str = "licensed",
    created: int = 1_600_000_000,
) -> Json:
    """A recurring price (``unit_amount`` None means tiered or metered)."""
    return {
        "id": id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit" if unit_amount is not None else "tiered",
        "created": created,
        "currency": currency,
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": lookup_key,
        "metadata": {},
        "nickname": nickname,
        "product": product,
        "recurring": {
            "interval": interval,
            "interval_count": interval_count,
            "meter": None,
            "usage_type": usage_type,
        },
        "tax_behavior": "unspecified",
        "tiers_mode": None if unit_amount is not None else "graduated",
        "transform_quantity": None,
        "type": "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": None if unit_amount is None else str(unit_amount),
    }


def legacy_plan(price: Json) -> Json:
    """The pre-2018 ``plan`` object that old-version payloads carry next to ``price``."""
    recurring = price["recurring"]
    return {
        "id": price["id"],
        "object": "plan",
        "active": True,
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": False,
        "metadata": {},
        "nickname": price["nickname"],
        "product": price["product"],
        "usage_type": recurring["usage_type"],
    }


def make_item(
    id: str,
    subscription: str,
    price: Json,
    *,
    quantity: int = 1,
    period: tuple[int, int] | None = None,
    created: int | None = None,
) -> Json:
    """A subscription item; ``period`` goes on the item (basil layout) when given."""
    item: Json = {
        "id": id,
        "object": "subscription_item",
        "created": created if created is not None else price["created"],
        "discounts": [],
        "metadata": {},
        "price": price,
        "quantity": quantity,
        "subscription": subscription,
        "tax_rates": [],
    }
    if period is not None:
        item["current_period_start"], item["current_period_end"] = period
    return item


def make_discount(
    subscription: str,
    customer: str,
    spec: float | Mapping[str, Any],
    *,
    start: int,
    id: str | None = None,
) -> Json:
    """A discount (basil shape: ``source.coupon``) from a percent or a coupon's fields.

    ``spec``: a number (percent off) or a mapping with ``percent_off`` or
    ``amount_off`` + ``currency``, optionally ``id``/``duration``.
    """
    fields: Mapping[str, Any] = (
        {"percent_off": float(spec)} if isinstance(spec, int | float) else spec
    )
    coupon = {
        "id": fields.get("id", "COUPON" + subscription[-6:].upper()),
        "object": "coupon",
        "amount_off": fields.get("amount_off"),
        "created": start,
        "currency": fields.get("currency"),
        "duration": fields.get("duration", "forever"),
        "duration_in_months": None,
        "livemode": False,
        "max_redemptions": None,
        "metadata": {},
        "name": None,
        "percent_off": fields.get("percent_off"),
        "redeem_by": None,
        "times_redeemed": 1,
        "valid": True,
    }
    return {
        "id": id or "di_" + subscription[4:20],
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "end": None,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": None,
        "source": {"coupon": coupon, "type": "coupon"},
        "start": start,
        "subscription": subscription,
        "subscription_item": None,
    }


def make_subscription(
    id: str,
    customer: str,
    status: str = "active",
    created: int | None = None,
    *,
    price_id: str = "price_1ProMonthly",
    lookup_key: str | None = "pro_monthly",
    unit_amount: int | None = 2900,
    currency: str = "usd",
    interval: Interval = "month",
    interval_count: int = 1,
    quantity: int = 1,
    product: str = "prod_Pro",
    price: Json | None = None,
    extra_items: Iterable[tuple[Json, int]] = (),
    period_layout: PeriodLayout = "item",
    current_period: tuple[int, int] | None = None,
    cancel_at_period_end: bool = False,
    cancel_at: int | None = None,
    canceled_at: int | None = None,
    trial_start: int | None = None,
    trial_end: int | None = None,
    ended_at: int | None = None,
    discount: float | Mapping[str, Any] | None = None,
    metadata: Mapping[str, str] | None = None,
    now: int | None = None,
) -> Json:
    """A realistic subscription object, as stored (``customer`` an id, discounts expanded).

    ``period_layout="item"`` (API 2025-03-31+) puts ``current_period_start/end`` on
    each item; ``"subscription"`` (older versions and mirrors pinned to them) puts
    them on the subscription and adds the legacy ``plan``, ``quantity`` and
    single ``discount`` (pre-basil ``coupon`` shape). The period defaults to the
    one containing ``now`` (or ``ended_at`` for an ended subscription). Pass
    ``price`` (see :func:`make_price`) to reuse a catalog price; ``extra_items``
    adds more (price, quantity) items.
    """
    now = int(time.time()) if now is None else now
    created = now if created is None else created
    if price is None:
        price = make_price(
            price_id,
            lookup_key=lookup_key,
            unit_amount=unit_amount,
            currency=currency,
            interval=interval,
            interval_count=interval_count,
            product=product,
            created=min(created, 1_600_000_000),
        )
    recurring = price["recurring"]
    if current_period is None:
        anchor = trial_end if trial_end is not None and trial_end <= now else created
        at = ended_at if ended_at is not None else now
        if status == "trialing" and trial_end is not None:
            current_period = (trial_start or created, trial_end)
        else:
            current_period = current_period_of(anchor, recurring, at)
    on_items = period_layout == "item"
    items = [
        make_item(
            f"si_{id[4:18]}{index}",
            id,
            item_price,
            quantity=item_quantity,
            period=current_period if on_items else None,
            created=created,
        )
        for index, (item_price, item_quantity) in enumerate([(price, quantity), *extra_items])
    ]
    discounts = [] if discount is None else [make_discount(id, customer, discount, start=created)]
    sub: Json = {
        "id": id,
        "object": "subscription",
        "application": None,
        "automatic_tax": {"enabled": False, "liability": None},
        "billing_cycle_anchor": created,
        "cancel_at": cancel_at,
        "cancel_at_period_end": cancel_at_period_end,
        "canceled_at": canceled_at,
        "cancellation_details": {
            "comment": None,
            "feedback": None,
            "reason": "cancellation_requested" if canceled_at is not None else None,
        },
        "collection_method": "charge_automatically",
        "created": created,
        "currency": price["currency"],
        "customer": customer,
        "days_until_due": None,
        "default_payment_method": None,
        "description": None,
        "discounts": discounts,
        "ended_at": ended_at,
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={id}",
        },
        "latest_invoice": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "pause_collection": None,
        "start_date": created,
        "status": status,
        "test_clock": None,
        "trial_end": trial_end,
        "trial_start": trial_start,
    }
    if not on_items:
        sub["current_period_start"], sub["current_period_end"] = current_period
        sub["plan"] = legacy_plan(price) if len(items) == 1 else None
        sub["quantity"] = quantity if len(items) == 1 else None
        for item in items:
            item["plan"] = legacy_plan(item["price"])
    return sub


def current_period_of(anchor: int, recurring: Mapping[str, Any], at: int) -> tuple[int, int]:
    return current_period(anchor, recurring["interval"], recurring["interval_count"], at)


def make_event(
    id: str,
    type: str,
    obj: Json,
    created: int,
    previous_attributes: Mapping[str, Any] | None = None,
) -> Json:
    data: Json = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = dict(previous_attributes)
    return {
        "id": id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
    }


def make_entitlement(customer: str, lookup_key: str, feature: str | None = None) -> Json:
    feature_id = feature or "feat_" + re.sub(r"[^0-9A-Za-z]", "", lookup_key)[:20]
    return {
        "id": "ent_" + customer[4:] + feature_id[5:],
        "object": "entitlements.active_entitlement",
        "feature": feature_id,
        "livemode": False,
        "lookup_key": lookup_key,
    }


# ---------------------------------------------------------------------------- the store
@dataclass(frozen=True)
class Created:
    """A ``created`` filter: ``created=ts`` or ``created[gt|gte|lt|lte]``."""

    gt: int | None = None
    gte: int | None = None
    lt: int | None = None
    lte: int | None = None

    def matches(self, ts: int) -> bool:
        return (
            (self.gt is None or ts > self.gt)
            and (self.gte is None or ts >= self.gte)
            and (self.lt is None or ts < self.lt)
            and (self.lte is None or ts <= self.lte)
        )


class _Index:
    """Objects by id, plus their (created, id) keys sorted ascending for range paging."""

    def __init__(self) -> None:
        self.objects: dict[str, Json] = {}
        self.keys: list[tuple[int, str]] = []

    def __len__(self) -> int:
        return len(self.objects)

    def put(self, obj: Json) -> None:
        old = self.objects.get(obj["id"])
        key = (obj["created"], obj["id"])
        if old is not None and old["created"] != obj["created"]:
            self._drop_key((old["created"], old["id"]))
            old = None
        if old is None:
            bisect.insort(self.keys, key)
        self.objects[obj["id"]] = obj

    def put_many(self, objs: Iterable[Json]) -> None:
        for obj in objs:
            self.objects[obj["id"]] = obj
        self.keys = sorted((obj["created"], obj["id"]) for obj in self.objects.values())

    def remove(self, ident: str) -> Json | None:
        obj = self.objects.pop(ident, None)
        if obj is not None:
            self._drop_key((obj["created"], ident))
        return obj

    def _drop_key(self, key: tuple[int, str]) -> None:
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            del self.keys[at]

    def page(
        self,
        *,
        limit: int,
        created: Created,
        match: Callable[[Json], bool],
        after: tuple[int, str] | None = None,
        before: tuple[int, str] | None = None,
    ) -> tuple[list[Json], bool]:
        """Up to ``limit`` matches, newest first, after/before a cursor key; and has_more."""
        keys = self.keys
        lo, hi = 0, len(keys)
        if created.gte is not None:
            lo = max(lo, bisect.bisect_left(keys, (created.gte, "")))
        if created.gt is not None:
            lo = max(lo, bisect.bisect_left(keys, (created.gt + 1, "")))
        if created.lt is not None:
            hi = min(hi, bisect.bisect_left(keys, (created.lt, "")))
        if created.lte is not None:
            hi = min(hi, bisect.bisect_left(keys, (created.lte + 1, "")))
        if after is not None:
            hi = min(hi, bisect.bisect_left(keys, after))
        if before is not None:
            lo = max(lo, bisect.bisect_right(keys, before))
        found: list[Json] = []
        upward = before is not None and after is None  # ending_before: nearest the cursor
        positions = range(lo, hi) if upward else range(hi - 1, lo - 1, -1)
        for position in positions:
            obj = self.objects[keys[position][1]]
            if match(obj):
                found.append(obj)
                if len(found) > limit:
                    break
        has_more = len(found) > limit
        found = found[:limit]
        if upward:
            found.reverse()
        return found, has_more


class StripeStore:
    """The fake's data: customers, subscriptions, events, entitlements. Thread-safe.

    ``now`` is the clock for events and helpers' defaults (unix seconds); tests can
    pass a fixed one. Helpers named like API calls (``create_subscription``,
    ``update_subscription``, ``cancel_subscription``, ``delete_customer``) append the
    event Stripe would; ``add_*``/``put_*`` only load data, with no event.
    """

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self._lock = threading.RLock()
        self._subscriptions = _Index()
        self._customers = _Index()
        self._events = _Index()
        self._entitlements: dict[str, list[Json]] = {}
        self._event_seq = 0

    def _at(self, at: int | None) -> int:
        return int(self.now()) if at is None else at

    # --------------------------------------------------------------- loading
    def add_customer(self, customer: Json) -> Json:
        with self._lock:
            self._customers.put(customer)
        return customer

    def add_customers(self, customers: Iterable[Json]) -> None:
        with self._lock:
            self._customers.put_many(customers)

    def add_subscription(self, subscription: Json) -> Json:
        with self._lock:
            self._subscriptions.put(subscription)
        return subscription

    def add_subscriptions(self, subscriptions: Iterable[Json]) -> None:
        """Bulk load (one sort at the end: fast for 100k subscriptions)."""
        with self._lock:
            self._subscriptions.put_many(subscriptions)

    def set_entitlements(self, customer: str, lookup_keys: Iterable[str]) -> list[Json]:
        """Replace a customer's active entitlements (one per feature lookup key)."""
        ents = [make_entitlement(customer, key) for key in dict.fromkeys(lookup_keys)]
        with self._lock:
            self._entitlements[customer] = ents
        return ents

    def clear(self) -> None:
        with self._lock:
            self._subscriptions = _Index()
            self._customers = _Index()
            self._events = _Index()
            self._entitlements.clear()

    # --------------------------------------------------------------- reading
    def subscription(self, ident: str) -> Json | None:
        with self._lock:
            return self._subscriptions.objects.get(ident)

    def customer(self, ident: str) -> Json | None:
        with self._lock:
            return self._customers.objects.get(ident)

    def event(self, ident: str) -> Json | None:
        with self._lock:
            return self._events.objects.get(ident)

    def entitlements(self, customer: str) -> list[Json]:
        with self._lock:
            return list(self._entitlements.get(customer, ()))

    @property
    def subscriptions(self) -> list[Json]:
        """All subscriptions, in API order (newest first)."""
        with self._lock:
            index = self._subscriptions
            return [index.objects[ident] for _, ident in reversed(index.keys)]

    @property
    def customers(self) -> list[Json]:
        with self._lock:
            index = self._customers
            return [index.objects[ident] for _, ident in reversed(index.keys)]

    @property
    def events(self) -> list[Json]:
        """All kept events, newest first."""
        with self._lock:
            index = self._events
            return [index.objects[ident] for _, ident in reversed(index.keys)]

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "subscriptions": len(self._subscriptions),
                "customers": len(self._customers),
                "events": len(self._events),
                "entitled_customers": len(self._entitlements),
            }

    # --------------------------------------------------------------- events
    def add_event(
        self,
        type: str,
        obj: Json,
        *,
        created: int | None = None,
        previous_attributes: Mapping[str, Any] | None = None,
    ) -> Json:
        """Append an event; ids grow with insertion, so same-second events keep their order."""
        with self._lock:
            self._event_seq += 1
            ident = f"evt_1{self._event_seq:010d}{random_id('', length=12)}"
            event = make_event(ident, type, _public(obj), self._at(created), previous_attributes)
            self._events.put(event)
        return event

    def age_out_events(self, now: int | None = None, retention: int = EVENT_RETENTION) -> int:
        """Forget events older than ``retention`` seconds (Stripe keeps 30 days)."""
        cutoff = self._at(now) - retention
        with self._lock:
            old = [ident for created, ident in self._events.keys if created < cutoff]
            for ident in old:
                self._events.remove(ident)
        return len(old)

    # --------------------------------------------------------------- mutations with events
    def create_customer(self, customer: Json, *, at: int | None = None) -> Json:
        with self._lock:
            self.add_customer(customer)
            self.add_event("customer.created", customer, created=self._at(at))
        return customer

    def create_subscription(self, subscription: Json, *, at: int | None = None) -> Json:
        """Add a subscription and its ``customer.subscription.created`` event."""
        with self._lock:
            self.add_subscription(subscription)
            when = subscription["created"] if at is None else at
            self.add_event("customer.subscription.created", subscription, created=when)
        return subscription

    def update_subscription(self, ident: str, *, at: int | None = None, **changes: Any) -> Json:
        """Replace top-level fields; appends ``customer.subscription.updated`` with
        ``previous_attributes`` holding the old values of the fields that changed.

        ``items`` may be given as a list of items (see :func:`make_item`).
        """
        if "id" in changes or "created" in changes:
            raise ValueError("id and created never change on Stripe")
        with self._lock:
            old = self._require(ident)
            if isinstance(changes.get("items"), list):
                items = changes["items"]
                changes["items"] = {**old["items"], "data": items, "total_count": len(items)}
            new = {**old, **changes}
            previous = {key: old.get(key) for key in changes if old.get(key) != new[key]}
            self._subscriptions.put(new)
            self.add_event(
                "customer.subscription.updated", new, created=at, previous_attributes=previous
            )
        return new

    def cancel_subscription(
        self, ident: str, *, at: int | None = None, at_period_end: bool = False
    ) -> Json:
        """Cancel now (status canceled, ``customer.subscription.deleted``) or at period end
        (still active, ``cancel_at_period_end`` and ``cancel_at`` set, an ``updated`` event).
        """
        when = self._at(at)
        details = {"comment": None, "feedback": None, "reason": "cancellation_requested"}
        with self._lock:
            old = self._require(ident)
            if at_period_end:
                return self.update_subscription(
                    ident,
                    at=when,
                    cancel_at_period_end=True,
                    cancel_at=period_of(old)[1],
                    canceled_at=when,
                    cancellation_details=details,
                )
            new = {
                **old,
                "status": "canceled",
                "canceled_at": when,
                "ended_at": when,
                "cancel_at_period_end": False,
                "cancellation_details": details,
            }
            self._subscriptions.put(new)
            self.add_event("customer.subscription.deleted", new, created=when)
        return new

    def delete_customer(self, ident: str, *, at: int | None = None) -> None:
        """Delete a customer: retrieving it answers ``deleted: true``; lists skip it."""
        with self._lock:
            customer = self._customers.objects.get(ident)
            if customer is None:
                raise KeyError(ident)
            self._customers.put({**customer, "deleted": True})
            self._entitlements.pop(ident, None)
            self.add_event("customer.deleted", customer, created=at)

    def _require(self, ident: str) -> Json:
        sub = self._subscriptions.objects.get(ident)
        if sub is None:
            raise KeyError(f"no subscription {ident!r} in the fake store")
        return sub

    # --------------------------------------------------------------- paging (for the server)
    def page(
        self,
        kind: Literal["subscriptions", "customers", "events"],
        *,
        limit: int,
        created: Created,
        match: Callable[[Json], bool],
        starting_after: str | None,
        ending_before: str | None,
    ) -> tuple[list[Json], bool]:
        index = {
            "subscriptions": self._subscriptions,
            "customers": self._customers,
            "events": self._events,
        }[kind]
        with self._lock:
            after = _cursor(index, starting_after, "starting_after", kind)
            before = _cursor(index, ending_before, "ending_before", kind)
            return index.page(limit=limit, created=created, match=match, after=after, before=before)


def period_of(subscription: Mapping[str, Any]) -> tuple[int, int]:
    """Current period of either layout (items' earliest start, latest end)."""
    if subscription.get("current_period_end") is not None:
        return subscription["current_period_start"], subscription["current_period_end"]
    items = subscription["items"]["data"]
    return (
        min(item["current_period_start"] for item in items),
        max(item["current_period_end"] for item in items),
    )


def _public(obj: Json) -> Json:
    """A subscription as an event carries it: unexpanded discounts, like the API."""
    if obj.get("object") == "subscription":
        return render_subscription(obj, frozenset(), lambda _: None)
    return copy.deepcopy(obj)


_NOUNS = {"subscriptions": "subscription", "customers": "customer", "events": "event"}


def _cursor(index: _Index, ident: str | None, param: str, kind: str) -> tuple[int, str] | None:
    if ident is None:
        return None
    obj = index.objects.get(ident)
    if obj is None:
        raise ApiError(400, _missing(_NOUNS[kind], ident, param))
    return obj["created"], obj["id"]


def _missing(noun: str, ident: str, param: str) -> Json:
    return {
        "error": {
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": f"No such {noun}: '{ident}'",
            "param": param,
            "type": "invalid_request_error",
        }
    }


# ---------------------------------------------------------------------------- rendering
def render_subscription(
    sub: Json, expand: Collection[str], customer_of: Callable[[str], Json | None]
) -> Json:
    """The subscription as the API returns it, with the requested expansions."""
    out = dict(sub)
    discounts = sub.get("discounts") or []
    out["discounts"] = list(discounts) if "discounts" in expand else [d["id"] for d in discounts]
    if "current_period_end" in sub:  # old layout: the single legacy discount, pre-basil shape
        first = discounts[0] if discounts else None
        out["discount"] = None if first is None else _legacy_discount(first)
    if "customer" in expand:
        out["customer"] = customer_of(sub["customer"]) or {
            "id": sub["customer"],
            "object": "customer",
            "deleted": True,
        }
    if "items.data.price.product" in expand:
        items = [
            {**item, "price": {**item["price"], "product": _product(item["price"]["product"])}}
            for item in sub["items"]["data"]
        ]
        out["items"] = {**sub["items"], "data": items}
    return out


def _legacy_discount(discount: Json) -> Json:
    legacy = {key: value for key, value in discount.items() if key != "source"}
    legacy["coupon"] = discount["source"]["coupon"]
    return legacy


def _product(ident: str) -> Json:
    name = ident.removeprefix("prod_").replace("_", " ").strip() or ident
    return {
        "id": ident,
        "object": "product",
        "active": True,
        "created": 1_600_000_000,
        "livemode": False,
        "metadata": {},
        "name": name,
    }


def _feature(entitlement: Json) -> Json:
    return {
        "id": entitlement["feature"],
        "object": "entitlements.feature",
        "active": True,
        "livemode": False,
        "lookup_key": entitlement["lookup_key"],
        "metadata": {},
        "name": entitlement["lookup_key"],
    }


# ---------------------------------------------------------------------------- populate
#: (price, weight, quantity range, feature lookup key) for :func:`populate`.
CATALOG: tuple[tuple[Json, float, tuple[int, int], str], ...] = (
    (
        make_price("price_1BasicMonthly", lookup_key="basic_monthly", unit_amount=900,
                   product="prod_Basic", nickname="Basic monthly"),
        0.30, (1, 1), "basic-features",
    ),
    (
        make_price("price_1ProMonthly", lookup_key="pro_monthly", unit_amount=2900,
                   product="prod_Pro", nickname="Pro monthly"),
        0.30, (1, 1), "pro-features",
    ),
    (
        make_price("price_1ProYearly", lookup_key="pro_yearly", unit_amount=29000,
                   interval="year", product="prod_Pro", nickname="Pro yearly"),
        0.15, (1, 1), "pro-features",
    ),
    (
        make_price("price_1TeamEur", lookup_key="team_monthly_eur", unit_amount=1200,
                   currency="eur", product="prod_Team", nickname="Team seats"),
        0.15, (2, 40), "team-features",
    ),
    (
        make_price("price_1ProJpy", lookup_key="pro_monthly_jpy", unit_amount=3000,
                   currency="jpy", product="prod_Pro", nickname="Pro (JPY)"),
        0.05, (1, 1), "pro-features",
    ),
    (
        make_price("price_1EntQuarterly", lookup_key=None, unit_amount=150000,
                   interval="month", interval_count=3, product="prod_Enterprise"),
        0.05, (1, 1), "enterprise-features",
    ),
)  # fmt: skip

#: (status, weight, cancel_at_period_end): the mix :func:`populate` draws from.
STATUS_MIX: tuple[tuple[str, float, bool], ...] = (
    ("active", 0.55, False),
    ("active", 0.05, True),
    ("canceled", 0.18, False),
    ("trialing", 0.05, False),
    ("past_due", 0.05, False),
    ("unpaid", 0.02, False),
    ("incomplete", 0.01, False),
    ("incomplete_expired", 0.03, False),
    ("paused", 0.02, False),
    ("resubscribed", 0.04, False),  # canceled, then a new active one for the same customer
)

#: Statuses that keep feature entitlements active in populated data.
ENTITLED = frozenset({"active", "trialing", "past_due"})


@dataclass
class Population:
    """What :func:`populate` made (also loaded into a store by ``FakeStripe.populate``).

    Data is deliberately a little messy, like real accounts: ~3% of emails have
    mixed case, ~1% of customers have no email, and "resubscribed" customers own a
    canceled and a newer active subscription.
    """

    customers: list[Json]
    subscriptions: list[Json]
    entitlements: dict[str, list[str]] = field(default_factory=dict)
    now: int = 0

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sub in self.subscriptions:
            counts[sub["status"]] = counts.get(sub["status"], 0) + 1
        return counts


def populate(
    n: int,
    seed: int = 0,
    *,
    now: int | None = None,
    since: int = 1_514_764_800,  # 2018-01-01
    period_layout: PeriodLayout = "item",
    skew: float = 0.4,
) -> Population:
    """``n`` subscriptions (and their customers) with a realistic status mix.

    ``created`` spreads from ``since`` to ``now`` as ``since + span * u**skew`` (u
    uniform): with ``skew`` < 1 recent years are denser, as for a growing business,
    so splitting a listing by ``created`` ranges of equal width gives unequal pages.
    Trials were started in the last 14 days, incomplete ones in the last day. The
    same ``seed`` and ``now`` give the same data.
    """
    rng = random.Random(seed)
    now = int(time.time()) if now is None else now
    span = max(1, now - since)
    prices = [entry[0] for entry in CATALOG]
    weights = [entry[1] for entry in CATALOG]
    mix_weights = [entry[1] for entry in STATUS_MIX]
    customers: list[Json] = []
    subs: list[Json] = []
    entitled: dict[str, list[str]] = {}

    def email_for(number: int) -> str | None:
        roll = rng.random()
        if roll < 0.01:
            return None
        address = f"user{number}@example.com"
        return address.capitalize().replace("example", "Example") if roll < 0.04 else address

    def subscription(customer: str, status: str, created: int, cape: bool) -> Json:
        choice = rng.choices(range(len(prices)), weights)[0]
        price, _, (low, high), feature = CATALOG[choice]
        sub_id = random_id("sub_", rng)
        fields: dict[str, Any] = {}
        if status == "trialing":
            fields.update(trial_start=created, trial_end=created + 14 * DAY)
        elif status in ("canceled", "incomplete_expired"):
            life = add_interval(
                0, price["recurring"]["interval"], price["recurring"]["interval_count"]
            )
            ended = min(now - 60, created + rng.randint(DAY, max(DAY + 1, 6 * life)))
            ended = max(created + 60, ended) if status == "canceled" else created + DAY
            fields.update(ended_at=ended, canceled_at=ended if status == "canceled" else None)
        if cape:
            fields["cancel_at_period_end"] = True
            fields["canceled_at"] = rng.randint(created, now)
        sub = make_subscription(
            sub_id,
            customer,
            status,
            created,
            price=price,
            quantity=rng.randint(low, high),
            period_layout=period_layout,
            discount=rng.choice((10.0, 20.0, 50.0)) if rng.random() < 0.05 else None,
            now=now,
            **fields,
        )
        if cape:
            sub["cancel_at"] = period_of(sub)[1]
        if status in ENTITLED:
            entitled.setdefault(customer, []).append(feature)
        return sub

    while len(subs) < n:
        status, _, cape = rng.choices(STATUS_MIX, mix_weights)[0]
        if status == "trialing":
            created = now - rng.randint(0, 14 * DAY - 1)
        elif status == "incomplete":
            created = now - rng.randint(0, DAY - 1)
        else:
            created = since + int(span * rng.random() ** skew)
            created = min(created, now - 2 * DAY)
        customer_id = random_id("cus_", rng, 14)
        customers.append(
            make_customer(customer_id, email_for(len(customers)), created=created - 60)
        )
        if status == "resubscribed":
            first = subscription(customer_id, "canceled", created, False)
            subs.append(first)
            if len(subs) < n:
                again = min(now - DAY, (first["ended_at"] or created) + rng.randint(0, 30 * DAY))
                subs.append(subscription(customer_id, "active", again, False))
        else:
            subs.append(subscription(customer_id, status, created, cape))
    return Population(customers, subs, entitled, now)


# ---------------------------------------------------------------------------- the server
_LIST_PARAMS = frozenset({"limit", "starting_after", "ending_before", "expand"})


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    permission: str
    handler: str  # method name on FakeStripe


class FakeStripe(FakeApiServer):
    """Fake Stripe API server. See the module docstring for endpoints and behaviour.

    Knobs (constructor arguments and attributes): ``latency``, ``rate_limit``
    (requests per second, sliding 1 s window; Stripe test mode allows about 25),
    ``retry_after`` (``Retry-After`` seconds on 429s; Stripe sends none by
    default), ``fault_hook``; ``keys`` maps API key -> permissions (``None`` = full
    access, as an ``sk_`` key). ``store`` holds the data; ``populate`` fills it.
    """

    provider = "stripe"
    DEFAULT_KEY = "sk_test_51BilldriftFakeKey000000000000"
    LIVE_KEY = "sk_live_51BilldriftFakeKey000000000000"

    def __init__(
        self,
        *,
        keys: Mapping[str, Collection[str] | None] | None = None,
        account: str = "acct_1BilldriftFake0",
        store: StripeStore | None = None,
        latency: float = 0.0,
        rate_limit: float | None = None,
        endpoint_rate_limit: float | None = None,
        retry_after: float | None = None,
        fault_hook: Callable[[Request], FaultKind | None] | None = None,
    ) -> None:
        super().__init__(
            latency=latency,
            rate_limit=rate_limit,
            endpoint_rate_limit=endpoint_rate_limit,
            retry_after=retry_after,
            fault_hook=fault_hook,
        )
        self.account = account
        self.store = store or StripeStore()
        self.keys: dict[str, frozenset[str] | None] = {}
        for key, permissions in (keys if keys is not None else {self.DEFAULT_KEY: None}).items():
            self.add_key(key, permissions)
        self._routes = (
            _Route(re.compile(r"/v1/subscriptions"), PERM_SUBSCRIPTIONS, "_list_subscriptions"),
            _Route(
                re.compile(r"/v1/subscriptions/(?P<ident>[^/]+)"),
                PERM_SUBSCRIPTIONS,
                "_get_subscription",
            ),
            _Route(re.compile(r"/v1/customers"), PERM_CUSTOMERS, "_list_customers"),
            _Route(re.compile(r"/v1/customers/(?P<ident>[^/]+)"), PERM_CUSTOMERS, "_get_customer"),
            _Route(re.compile(r"/v1/events"), PERM_EVENTS, "_list_events"),
            _Route(re.compile(r"/v1/events/(?P<ident>[^/]+)"), PERM_EVENTS, "_get_event"),
            _Route(
                re.compile(r"/v1/entitlements/active_entitlements"),
                PERM_ENTITLEMENTS,
                "_list_entitlements",
            ),
        )

    # --------------------------------------------------------------- setup helpers
    def add_key(self, key: str, permissions: Collection[str] | None = None) -> str:
        """Accept ``key``; with ``permissions`` it is a restricted key limited to them."""
        self.keys[key] = None if permissions is None else frozenset(permissions)
        return key

    def restricted_key(self, permissions: Collection[str], key: str | None = None) -> str:
        """Create an ``rk_test_`` key with just ``permissions``; returns it."""
        return self.add_key(key or random_id("rk_test_", length=40), permissions)

    def populate(self, n: int, seed: int = 0, **options: Any) -> Population:
        """Generate (see :func:`populate`) and load into the store, entitlements included."""
        population = populate(n, seed, **options)
        self.store.add_customers(population.customers)
        self.store.add_subscriptions(population.subscriptions)
        for customer, features in population.entitlements.items():
            self.store.set_entitlements(customer, features)
        return population

    @classmethod
    def with_stripe_limits(cls, live: bool = False, **options: Any) -> FakeStripe:
        """A fake that enforces Stripe's documented limits (domain.md): 100 requests/s
        for the account in live mode (25/s in test mode) and 25/s per endpoint; both
        its keys (test and live) are accepted."""
        keys = {cls.DEFAULT_KEY: None, cls.LIVE_KEY: None}
        return cls(
            keys=keys,
            rate_limit=LIVE_ACCOUNT_LIMIT if live else TEST_ACCOUNT_LIMIT,
            endpoint_rate_limit=ENDPOINT_LIMIT,
            **options,
        )

    # --------------------------------------------------------------- FakeApiServer hooks
    def endpoint(self, request: Request) -> str:
        """Each route is one endpoint: ``/v1/customers/cus_1`` counts as ``/v1/customers/{id}``."""
        for route in self._routes:
            if route.pattern.fullmatch(request.path):
                return re.sub(r"\(\?P<\w+>[^)]*\)", "{id}", route.pattern.pattern)
        return request.path

    def handle(self, request: Request) -> Response:
        key = self._authenticate(request)
        permissions = self.keys[key]
        for route in self._routes:
            match = route.pattern.fullmatch(request.path)
            if match is None:
                continue
            if permissions is not None and route.permission not in permissions:
                raise self._forbidden(key, route.permission)
            handler: Callable[..., Json] = getattr(self, route.handler)
            body = handler(request, key=key, **match.groupdict())
            return Response(200, body)
        raise ApiError(
            404,
            _error(
                f"Unrecognized request URL (GET: {request.path}). Please see "
                "https://stripe.com/docs or we can help at https://support.stripe.com/."
            ),
        )

    def fault_response(self, kind: FaultKind, request: Request) -> Response:
        if kind == "429":
            return self.rate_limited_response(request, 1.0)
        retry = "true" if kind == "500" else "false"
        body = {
            "error": {
                "type": "api_error",
                "message": "An unknown error occurred (injected by the fake).",
            }
        }
        return Response(500, body, {"Stripe-Should-Retry": retry})

    def rate_limited_response(self, request: Request, wait: float) -> Response:
        headers = {"Stripe-Should-Retry": "true"}
        if self.retry_after is not None:
            headers["Retry-After"] = _seconds(self.retry_after)
        body = {
            "error": {
                "type": "invalid_request_error",
                "code": "rate_limit",
                "doc_url": "https://stripe.com/docs/error-codes/rate-limit",
                "message": (
                    "Request rate limit exceeded. You can learn more about rate limits here "
                    "https://stripe.com/docs/rate-limits."
                ),
            }
        }
        return Response(429, body, headers)

    def method_not_allowed(self, method: str, path: str) -> Response:
        return Response(405, _error(f"The Stripe fake is read-only ({method} {path})."))

    # --------------------------------------------------------------- auth
    def common_headers(self) -> dict[str, str]:
        return {"Request-Id": "req_" + random_id("", length=14), "Stripe-Version": API_VERSION}

    def _authenticate(self, request: Request) -> str:
        raw = request.header("authorization") or ""
        scheme, _, value = raw.partition(" ")
        key = value.strip()
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(key).decode().partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        elif scheme.lower() != "bearer":
            key = ""
        if not key:
            raise ApiError(
                401,
                _error(
                    "You did not provide an API key. You need to provide your API key in the "
                    "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                    "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for "
                    "details, or we can help at https://support.stripe.com/."
                ),
            )
        if key not in self.keys:
            raise ApiError(401, _error(f"Invalid API Key provided: {mask_key(key)}"))
        return key

    def _forbidden(self, key: str, permission: str) -> ApiError:
        message = (
            f"The provided key '{mask_key(key)}' does not have the required permissions for "
            f"this endpoint on account '{self.account}'. Having the '{permission}' permission "
            "would allow this request to continue."
        )
        return ApiError(403, _error(message))

    def _expansions(
        self,
        request: Request,
        key: str,
        allowed: Mapping[str, str | None],
        *,
        in_list: bool,
    ) -> frozenset[str]:
        """Validate ``expand[]``: strip ``data.`` on lists, check depth, names and permissions."""
        found = set()
        for path in pairs(request.params, "expand"):
            inner = path
            if in_list:
                if not path.startswith("data."):
                    raise ApiError(
                        400, _error(f"This property cannot be expanded ({path}).", param="expand")
                    )
                inner = path[len("data.") :]
            if len([part for part in inner.split(".") if part != "data"]) > 4:
                raise ApiError(
                    400, _error("You cannot expand more than 4 levels of a property", "expand")
                )
            if inner not in allowed:
                raise ApiError(
                    400, _error(f"This property cannot be expanded ({path}).", param="expand")
                )
            needed, permissions = allowed[inner], self.keys[key]
            if needed is not None and permissions is not None and needed not in permissions:
                raise self._forbidden(key, needed)
            found.add(inner)
        return frozenset(found)

    # --------------------------------------------------------------- endpoints
    _SUB_EXPANDS: Mapping[str, str | None] = {
        "customer": PERM_CUSTOMERS,
        "discounts": None,
        "items.data.price": None,
        "items.data.price.product": PERM_PRODUCTS,
        "latest_invoice": None,
        "default_payment_method": None,
    }

    def _customer_or_none(self, ident: str) -> Json | None:
        customer = self.store.customer(ident)
        if customer is not None and customer.get("deleted"):
            return {"id": ident, "object": "customer", "deleted": True}
        return customer

    def _list_subscriptions(self, request: Request, key: str, **_: Any) -> Json:
        _check_params(
            request, _LIST_PARAMS | {"status", "created", "customer", "price", "collection_method"}
        )
        expand = self._expansions(request, key, self._SUB_EXPANDS, in_list=True)
        limit = _limit(request)
        status = request.get("status")
        if status is not None and status not in (*STATUSES, "all", "ended"):
            raise ApiError(
                400,
                _error(
                    f"Invalid status: must be one of {', '.join(STATUSES)}, all, or ended",
                    param="status",
                ),
            )
        customer = request.get("customer")
        price = request.get("price")
        collection = request.get("collection_method")

        def match(sub: Json) -> bool:
            state = sub["status"]
            if status is None:
                if state in HIDDEN_WITHOUT_STATUS:
                    return False
            elif status == "ended":
                if state not in ENDED:
                    return False
            elif status != "all" and state != status:
                return False
            if customer is not None and sub["customer"] != customer:
                return False
            if collection is not None and sub["collection_method"] != collection:
                return False
            return price is None or any(
                item["price"]["id"] == price for item in sub["items"]["data"]
            )

        found, has_more = self.store.page(
            "subscriptions",
            limit=limit,
            created=_created(request),
            match=match,
            starting_after=request.get("starting_after"),
            ending_before=request.get("ending_before"),
        )
        data = [render_subscription(sub, expand, self._customer_or_none) for sub in found]
        return _list("/v1/subscriptions", data, has_more)

    def _get_subscription(self, request: Request, key: str, ident: str, **_: Any) -> Json:
        _check_params(request, {"expand"})
        expand = self._expansions(request, key, self._SUB_EXPANDS, in_list=False)
        sub = self.store.subscription(ident)
        if sub is None:
            raise ApiError(404, _missing("subscription", ident, "id"))
        return render_subscription(sub, expand, self._customer_or_none)

    def _list_customers(self, request: Request, **_: Any) -> Json:
        _check_params(request, _LIST_PARAMS | {"created", "email"})
        limit = _limit(request)
        email = request.get("email")

        def match(customer: Json) -> bool:
            if customer.get("deleted"):
                return False
            return email is None or customer["email"] == email  # Stripe: case-sensitive

        found, has_more = self.store.page(
            "customers",
            limit=limit,
            created=_created(request),
            match=match,
            starting_after=request.get("starting_after"),
            ending_before=request.get("ending_before"),
        )
        return _list("/v1/customers", found, has_more)

    def _get_customer(self, request: Request, ident: str, **_: Any) -> Json:
        _check_params(request, {"expand"})
        customer = self._customer_or_none(ident)
        if customer is None:
            raise ApiError(404, _missing("customer", ident, "id"))
        return customer

    def _list_events(self, request: Request, **_: Any) -> Json:
        _check_params(request, _LIST_PARAMS | {"created", "type", "types", "delivery_success"})
        limit = _limit(request)
        one = request.get("type")
        many = pairs(request.params, "types")
        if one is not None and many:
            raise ApiError(
                400, _error("You may only specify one of these parameters: type, types.", "type")
            )
        if len(many) > 20:
            raise ApiError(400, _error("You may pass at most 20 types.", "types"))
        wanted = [one] if one is not None else many

        def match(event: Json) -> bool:
            if not wanted:
                return True
            kind = event["type"]
            return any(
                kind.startswith(pattern[:-1]) if pattern.endswith("*") else kind == pattern
                for pattern in wanted
            )

        found, has_more = self.store.page(
            "events",
            limit=limit,
            created=_created(request),
            match=match,
            starting_after=request.get("starting_after"),
            ending_before=request.get("ending_before"),
        )
        return _list("/v1/events", found, has_more)

    def _get_event(self, request: Request, ident: str, **_: Any) -> Json:
        _check_params(request, {"expand"})
        event = self.store.event(ident)
        if event is None:
            raise ApiError(404, _missing("event", ident, "id"))
        return event

    def _list_entitlements(self, request: Request, key: str, **_: Any) -> Json:
        _check_params(request, _LIST_PARAMS | {"customer"})
        expand = self._expansions(request, key, {"feature": None}, in_list=True)
        customer = request.get("customer")
        if not customer:
            raise ApiError(400, _error("Missing required param: customer.", param="customer"))
        limit = _limit(request)
        ents = self.store.entitlements(customer)
        start = 0
        after = request.get("starting_after")
        if after is not None:
            ids = [ent["id"] for ent in ents]
            if after not in ids:
                raise ApiError(
                    400, _missing("entitlements.active_entitlement", after, "starting_after")
                )
            start = ids.index(after) + 1
        page = ents[start : start + limit]
        if "feature" in expand:
            page = [{**ent, "feature": _feature(ent)} for ent in page]
        return _list("/v1/entitlements/active_entitlements", page, start + limit < len(ents))


# ---------------------------------------------------------------------------- helpers
def mask_key(key: str) -> str:
    """``sk_test_***abcd``: how Stripe echoes a key, never in full."""
    prefix = "_".join(key.split("_")[:2]) + "_" if key.count("_") >= 2 else ""
    return f"{prefix}***{key[-4:]}" if len(key) > 12 else "***"


def _error(message: str, param: str | None = None, code: str | None = None) -> Json:
    error: Json = {"message": message, "type": "invalid_request_error"}
    if param is not None:
        error["param"] = param
    if code is not None:
        error["code"] = code
    return {"error": error}


def _list(url: str, data: list[Json], has_more: bool) -> Json:
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _check_params(request: Request, allowed: Collection[str]) -> None:
    for key, _ in request.params:
        base = key.partition("[")[0]
        if base not in allowed:
            raise ApiError(
                400,
                _error(f"Received unknown parameter: {key}", param=key, code="parameter_unknown"),
            )


def _int_param(request: Request, name: str) -> int | None:
    raw = request.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, _error(f"Invalid integer: {raw}", param=name, code="parameter_invalid_integer")
        ) from None


def _limit(request: Request) -> int:
    limit = _int_param(request, "limit")
    if limit is None:
        return 10
    if not 1 <= limit <= 100:
        bound = "greater than or equal to 1" if limit < 1 else "less than or equal to 100"
        raise ApiError(400, _error(f"This value must be {bound}.", param="limit"))
    return limit


def _created(request: Request) -> Created:
    exact = _int_param(request, "created")
    bounds = {op: _int_param(request, f"created[{op}]") for op in ("gt", "gte", "lt", "lte")}
    for key, _ in request.params:
        if key.startswith("created[") and key[len("created[") : -1] not in bounds:
            raise ApiError(
                400, _error(f"Received unknown parameter: {key}", key, "parameter_unknown")
            )
    if exact is not None:
        bounds["gte"] = bounds["lte"] = exact
    return Created(**bounds)
