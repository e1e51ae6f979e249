"""A small fake of the Paddle Billing API (subscriptions and customers), on a real local server.

There is no third-party Paddle emulator, so this one follows Paddle's documented
shapes (the same ones ``billdrift.sources.billing.paddle_json`` parses from saved
files):

* ``GET /subscriptions``: ``per_page`` 1..200 (default 50), cursor ``after`` (an
  id), ``order_by`` ``id[ASC]`` (default) or ``id[DESC]``; comma-separated filters
  ``status``, ``customer_id``, ``id``, ``price_id``, ``scheduled_change_action``;
  ``collection_mode``. All statuses are listed by default (unlike Stripe, Paddle
  hides nothing). ``GET /subscriptions/{id}``.
* ``GET /customers``: same paging; filters ``id``, ``email``, ``status``
  (comma-separated). ``GET /customers/{id}``.

Responses: ``{"data": [...], "meta": {"request_id", "pagination": {"per_page",
"next", "has_more", "estimated_total"}}}``. ``next`` is a full URL on this server
with the original query plus ``after=<last id>``, and is present even on the last
page (Paddle documents it as always returned): follow it while ``has_more``.

Ids are ULID-like (``sub_`` + 26 lower-case base32 characters, the first 10 the
creation time in ms), as Paddle's are, so ``id[ASC]`` is creation order.

Errors follow Paddle's error reference, which says 403 (not 401) for all auth
failures: no header -> ``authentication_missing``; not ``Bearer <key>`` ->
``authentication_malformed``; unknown key -> ``invalid_token``; a key without the
needed permission (``subscription.read``, ``customer.read``) -> ``forbidden``. The
429 is ``{"error": {"type": "api_error", "code": "too_many_requests", ...}}`` and
always carries ``Retry-After`` (seconds until the window frees a slot, or the
``retry_after`` knob). Paddle's real limit is 240 requests per minute per IP:
``FakePaddle(rate_limit=240, rate_window=60)``. An injected ``"500"`` and
``"500_no_retry"`` are the same plain 500 here: Paddle has no retry hint header.
Unknown query parameters are a 400 ``invalid_field`` (stricter than Paddle may
be, so that a typo in a source shows).
"""

from __future__ import annotations

import bisect
import random
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from tests.fakes import ApiError, FakeApiServer, FaultKind, Request, Response
from tests.fakes.stripe_fake import DAY, add_interval, current_period

Json = dict[str, Any]
Interval = Literal["day", "week", "month", "year"]

STATUSES = ("active", "trialing", "past_due", "paused", "canceled")
SCHEDULED_ACTIONS = ("cancel", "pause", "resume")
PERM_SUBSCRIPTIONS = "subscription.read"
PERM_CUSTOMERS = "customer.read"
DOCS = "https://developer.paddle.com/errors/shared/"

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def paddle_id(prefix: str, created: float | None = None, rng: random.Random | None = None) -> str:
    """``prefix`` + a lower-case ULID: 10 characters of ms timestamp, 16 random ones."""
    ms = int((time.time() if created is None else created) * 1000)
    stamp = "".join(_CROCKFORD[(ms >> (5 * shift)) & 31] for shift in range(9, -1, -1))
    tail = "".join((rng or random).choices(_CROCKFORD, k=16))
    return f"{prefix}_{stamp}{tail}"


def rfc3339(ts: float | None) -> str | None:
    """Paddle's timestamps: RFC 3339 in UTC with microseconds and ``Z``."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_customer(
    id: str,
    email: str | None,
    *,
    name: str | None = None,
    created: float | None = None,
    status: str = "active",
) -> Json:
    stamp = rfc3339(time.time() if created is None else created)
    return {
        "id": id,
        "name": name,
        "email": email,
        "marketing_consent": False,
        "status": status,
        "custom_data": None,
        "locale": "en",
        "created_at": stamp,
        "updated_at": stamp,
        "import_meta": None,
    }


def make_price(
    id: str,
    product_id: str,
    amount: int,
    currency_code: str = "USD",
    interval: Interval = "month",
    frequency: int = 1,
    *,
    name: str | None = None,
    trial_days: int | None = None,
) -> Json:
    """A price; ``amount`` in minor units (sent as a string, as Paddle does)."""
    stamp = "2023-01-01T00:00:00.000000Z"
    return {
        "id": id,
        "product_id": product_id,
        "type": "standard",
        "description": name or id,
        "name": name,
        "billing_cycle": {"interval": interval, "frequency": frequency},
        "trial_period": None
        if trial_days is None
        else {"interval": "day", "frequency": trial_days},
        "tax_mode": "account_setting",
        "unit_price": {"amount": str(amount), "currency_code": currency_code},
        "unit_price_overrides": [],
        "quantity": {"minimum": 1, "maximum": 1000},
        "status": "active",
        "custom_data": None,
        "import_meta": None,
        "created_at": stamp,
        "updated_at": stamp,
    }


def make_subscription(
    id: str,
    customer_id: str,
    status: str = "active",
    created: float | None = None,
    *,
    price: Json | None = None,
    quantity: int = 1,
    extra_items: Iterable[tuple[Json, int]] = (),
    scheduled_change: tuple[str, float] | Json | None = None,
    canceled_at: float | None = None,
    paused_at: float | None = None,
    trial_end: float | None = None,
    current_billing_period: tuple[float, float] | None = None,
    discount: Json | None = None,
    now: float | None = None,
) -> Json:
    """A subscription as ``GET /subscriptions`` returns it.

    ``scheduled_change``: ``("cancel" | "pause" | "resume", effective_at)`` or the
    full object. The billing period defaults to the one containing ``now``; it is
    null for canceled and paused subscriptions, as on Paddle. ``trialing`` needs
    ``trial_end`` (the trial runs from ``created``).
    """
    now = time.time() if now is None else now
    created = now if created is None else created
    price = price or CATALOG[1][0]
    cycle = price["billing_cycle"]
    if current_billing_period is None and status not in ("canceled", "paused"):
        if status == "trialing" and trial_end is not None:
            current_billing_period = (created, trial_end)
        else:
            anchor = int(trial_end if trial_end is not None else created)
            at = int(now)
            current_billing_period = current_period(
                anchor, cycle["interval"], cycle["frequency"], at
            )
    if isinstance(scheduled_change, tuple):
        action, effective = scheduled_change
        scheduled_change = {"action": action, "effective_at": rfc3339(effective), "resume_at": None}
    period = (
        None
        if current_billing_period is None
        else {
            "starts_at": rfc3339(current_billing_period[0]),
            "ends_at": rfc3339(current_billing_period[1]),
        }
    )
    ends = None if period is None else period["ends_at"]
    billing_stops = status in ("canceled", "paused") or (
        scheduled_change is not None and scheduled_change["action"] in ("cancel", "pause")
    )
    next_billed = None if billing_stops else ends
    trial = (
        {"starts_at": rfc3339(created), "ends_at": rfc3339(trial_end)}
        if trial_end is not None
        else None
    )
    stamp = rfc3339(created)
    items = [
        {
            "status": "trialing" if status == "trialing" else "active",
            "quantity": item_quantity,
            "recurring": True,
            "created_at": stamp,
            "updated_at": stamp,
            "previously_billed_at": None if status == "trialing" else stamp,
            "next_billed_at": next_billed,
            "trial_dates": trial,
            "price": item_price,
            "product": {
                "id": item_price["product_id"],
                "name": item_price["name"] or item_price["product_id"],
                "status": "active",
            },
        }
        for item_price, item_quantity in [(price, quantity), *extra_items]
    ]
    return {
        "id": id,
        "status": status,
        "customer_id": customer_id,
        "address_id": "add_" + id[4:],
        "business_id": None,
        "currency_code": price["unit_price"]["currency_code"],
        "created_at": stamp,
        "updated_at": rfc3339(max(created, canceled_at or 0, paused_at or 0)),
        "started_at": stamp,
        "first_billed_at": None if status == "trialing" else stamp,
        "next_billed_at": next_billed,
        "paused_at": rfc3339(paused_at),
        "canceled_at": rfc3339(canceled_at),
        "collection_mode": "automatic",
        "billing_details": None,
        "current_billing_period": period,
        "billing_cycle": dict(cycle),
        "scheduled_change": scheduled_change,
        "items": items,
        "custom_data": None,
        "management_urls": {
            "update_payment_method": f"https://buyer-portal.paddle.com/subscriptions/{id}/update",
            "cancel": f"https://buyer-portal.paddle.com/subscriptions/{id}/cancel",
        },
        "discount": discount,
        "import_meta": None,
    }


# ---------------------------------------------------------------------------- store
class _IdIndex:
    """Objects by id and their ids sorted (ULIDs: creation order)."""

    def __init__(self) -> None:
        self.objects: dict[str, Json] = {}
        self.ids: list[str] = []

    def put(self, obj: Json) -> None:
        if obj["id"] not in self.objects:
            bisect.insort(self.ids, obj["id"])
        self.objects[obj["id"]] = obj

    def put_many(self, objs: Iterable[Json]) -> None:
        for obj in objs:
            self.objects[obj["id"]] = obj
        self.ids = sorted(self.objects)


class PaddleStore:
    """Subscriptions and customers; thread-safe, copy-on-write like the Stripe store."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._subscriptions = _IdIndex()
        self._customers = _IdIndex()
        self._version = 0
        self._totals: dict[tuple[Any, ...], int] = {}

    def _changed(self) -> None:
        self._version += 1
        self._totals.clear()

    def add_subscription(self, subscription: Json) -> Json:
        with self._lock:
            self._subscriptions.put(subscription)
            self._changed()
        return subscription

    def add_subscriptions(self, subscriptions: Iterable[Json]) -> None:
        with self._lock:
            self._subscriptions.put_many(subscriptions)
            self._changed()

    def add_customer(self, customer: Json) -> Json:
        with self._lock:
            self._customers.put(customer)
            self._changed()
        return customer

    def add_customers(self, customers: Iterable[Json]) -> None:
        with self._lock:
            self._customers.put_many(customers)
            self._changed()

    def subscription(self, ident: str) -> Json | None:
        with self._lock:
            return self._subscriptions.objects.get(ident)

    def customer(self, ident: str) -> Json | None:
        with self._lock:
            return self._customers.objects.get(ident)

    @property
    def subscriptions(self) -> list[Json]:
        """All subscriptions in id (creation) order."""
        with self._lock:
            return [self._subscriptions.objects[ident] for ident in self._subscriptions.ids]

    @property
    def customers(self) -> list[Json]:
        with self._lock:
            return [self._customers.objects[ident] for ident in self._customers.ids]

    def update_subscription(self, ident: str, *, at: float | None = None, **changes: Any) -> Json:
        """Replace top-level fields (``updated_at`` moves to ``at``)."""
        with self._lock:
            old = self._subscriptions.objects[ident]
            new = {**old, **changes, "updated_at": rfc3339(time.time() if at is None else at)}
            self._subscriptions.put(new)
            self._changed()
        return new

    def cancel_subscription(
        self, ident: str, *, at: float | None = None, at_period_end: bool = False
    ) -> Json:
        """Cancel now (status canceled) or schedule it for the end of the billing period."""
        when = time.time() if at is None else at
        with self._lock:
            old = self._subscriptions.objects[ident]
            if at_period_end:
                ends = (old["current_billing_period"] or {}).get("ends_at")
                change = {"action": "cancel", "effective_at": ends, "resume_at": None}
                return self.update_subscription(
                    ident, at=when, scheduled_change=change, next_billed_at=None
                )
            return self.update_subscription(
                ident,
                at=when,
                status="canceled",
                canceled_at=rfc3339(when),
                current_billing_period=None,
                next_billed_at=None,
                scheduled_change=None,
            )

    def clear(self) -> None:
        with self._lock:
            self._subscriptions = _IdIndex()
            self._customers = _IdIndex()
            self._changed()

    def page(
        self,
        kind: Literal["subscriptions", "customers"],
        *,
        per_page: int,
        after: str | None,
        descending: bool,
        match: Callable[[Json], bool],
        filter_key: tuple[Any, ...],
    ) -> tuple[list[Json], bool, int]:
        """A page in id order after the cursor, has_more, and the filter's total."""
        index = self._subscriptions if kind == "subscriptions" else self._customers
        with self._lock:
            ids = index.ids
            if descending:
                hi = len(ids) if after is None else bisect.bisect_left(ids, after)
                positions: Iterable[int] = range(hi - 1, -1, -1)
            else:
                lo = 0 if after is None else bisect.bisect_right(ids, after)
                positions = range(lo, len(ids))
            found: list[Json] = []
            for position in positions:
                obj = index.objects[ids[position]]
                if match(obj):
                    found.append(obj)
                    if len(found) > per_page:
                        break
            key = (kind, *filter_key)
            total = self._totals.get(key)
            if total is None:
                total = sum(1 for obj in index.objects.values() if match(obj))
                self._totals[key] = total
        return found[:per_page], len(found) > per_page, total


# ---------------------------------------------------------------------------- populate
CATALOG: tuple[tuple[Json, float, tuple[int, int]], ...] = (
    (make_price("pri_01gsz8x8sawmvhz1pv30nge1ke", "pro_01gsz4t5hdjse780zja8vvr7jg", 1200,
                name="Team seats (monthly)"), 0.35, (1, 25)),
    (make_price("pri_01gsz8z1q1n00f12qt82y31smh", "pro_01gsz4vmqbjk3x4vvtafffd540", 2900,
                name="Pro (monthly)"), 0.35, (1, 1)),
    (make_price("pri_01gsz91wy9k1yn7kx82aafwvea", "pro_01gsz4vmqbjk3x4vvtafffd540", 29000,
                interval="year", name="Pro (yearly)"), 0.15, (1, 1)),
    (make_price("pri_01h1vjfevh5etwq3rb416a23h2", "pro_01h1vjes1y163xfj1rh1tkfb65", 2500,
                "EUR", name="Pro (EUR)"), 0.10, (1, 1)),
    (make_price("pri_01h1vjg3sqjj1y9tvazkdqe5vt", "pro_01h1vjes1y163xfj1rh1tkfb65", 7500,
                "GBP", frequency=3, name="Pro (quarterly, GBP)"), 0.05, (1, 1)),
)  # fmt: skip

#: (status, weight, scheduled change action or None).
STATUS_MIX: tuple[tuple[str, float, str | None], ...] = (
    ("active", 0.58, None),
    ("active", 0.05, "cancel"),
    ("active", 0.02, "pause"),
    ("canceled", 0.18, None),
    ("trialing", 0.06, None),
    ("past_due", 0.05, None),
    ("paused", 0.04, None),
    ("resubscribed", 0.02, None),  # a canceled one, then a newer active one, same customer
)


@dataclass
class Population:
    """What :func:`populate` made; ~3% of emails have mixed case, ~1% are missing."""

    customers: list[Json]
    subscriptions: list[Json]
    now: float = 0.0

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sub in self.subscriptions:
            counts[sub["status"]] = counts.get(sub["status"], 0) + 1
        return counts


def populate(
    n: int,
    seed: int = 0,
    *,
    now: float | None = None,
    since: float = 1_640_995_200,  # 2022-01-01: Paddle Billing launched in 2023; imports predate it
    skew: float = 0.4,
) -> Population:
    """``n`` subscriptions with their customers, a realistic status mix, recent-heavy dates."""
    rng = random.Random(seed)
    now = time.time() if now is None else now
    span = max(1.0, now - since)
    weights = [entry[1] for entry in CATALOG]
    mix_weights = [entry[1] for entry in STATUS_MIX]
    customers: list[Json] = []
    subs: list[Json] = []

    def email_for(number: int) -> str | None:
        roll = rng.random()
        if roll < 0.01:
            return None
        address = f"buyer{number}@example.org"
        return address.capitalize() if roll < 0.04 else address

    def subscription(customer: str, status: str, created: float, action: str | None) -> Json:
        price, _, (low, high) = rng.choices(CATALOG, weights)[0]
        cycle = price["billing_cycle"]
        fields: dict[str, Any] = {}
        if status == "trialing":
            fields["trial_end"] = created + 14 * DAY
        elif status == "canceled":
            life = add_interval(0, cycle["interval"], cycle["frequency"])
            fields["canceled_at"] = min(now - 60, created + rng.randint(DAY, 6 * life))
        elif status == "paused":
            fields["paused_at"] = rng.uniform(created, now)
        sub_id = paddle_id("sub", created, rng)
        quantity = rng.randint(low, high)
        sub = make_subscription(
            sub_id, customer, status, created, price=price, quantity=quantity, now=now, **fields
        )
        if action is not None and sub["current_billing_period"] is not None:
            ends = sub["current_billing_period"]["ends_at"]
            sub["scheduled_change"] = {"action": action, "effective_at": ends, "resume_at": None}
            sub["next_billed_at"] = None
        return sub

    while len(subs) < n:
        status, _, action = rng.choices(STATUS_MIX, mix_weights)[0]
        if status == "trialing":
            created = now - rng.uniform(0, 14 * DAY - 1)
        else:
            created = min(since + span * rng.random() ** skew, now - 2 * DAY)
        customer_id = paddle_id("ctm", created - 60, rng)
        customers.append(
            make_customer(customer_id, email_for(len(customers)), created=created - 60)
        )
        if status == "resubscribed":
            subs.append(subscription(customer_id, "canceled", created, None))
            if len(subs) < n:
                again = min(now - DAY, created + rng.uniform(30 * DAY, 400 * DAY))
                subs.append(subscription(customer_id, "active", again, None))
        else:
            subs.append(subscription(customer_id, status, created, action))
    return Population(customers, subs, now)


# ---------------------------------------------------------------------------- server
_PAGING = frozenset({"after", "per_page", "order_by"})


class FakePaddle(FakeApiServer):
    """Fake Paddle Billing API server; see the module docstring.

    Knobs: ``latency``, ``rate_limit`` per ``rate_window`` seconds (Paddle: 240 per
    60 s), ``retry_after`` (fixed ``Retry-After``; default: time until a slot frees),
    ``fault_hook``; ``keys`` maps API key -> permissions (``None`` = all).
    """

    provider = "paddle"
    DEFAULT_KEY = "pdl_sdbx_apikey_01hbilldriftfakekey000000000_BilldriftFakeSecret0000"

    def __init__(
        self,
        *,
        keys: Mapping[str, Collection[str] | None] | None = None,
        store: PaddleStore | None = None,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_window: float = 1.0,
        retry_after: float | None = None,
        fault_hook: Callable[[Request], FaultKind | None] | None = None,
    ) -> None:
        super().__init__(
            latency=latency,
            rate_limit=rate_limit,
            rate_window=rate_window,
            retry_after=retry_after,
            fault_hook=fault_hook,
        )
        self.store = store or PaddleStore()
        self.keys: dict[str, frozenset[str] | None] = {}
        for key, permissions in (keys if keys is not None else {self.DEFAULT_KEY: None}).items():
            self.add_key(key, permissions)

    def add_key(self, key: str, permissions: Collection[str] | None = None) -> str:
        self.keys[key] = None if permissions is None else frozenset(permissions)
        return key

    def populate(self, n: int, seed: int = 0, **options: Any) -> Population:
        """Generate (see :func:`populate`) and load into the store."""
        population = populate(n, seed, **options)
        self.store.add_customers(population.customers)
        self.store.add_subscriptions(population.subscriptions)
        return population

    # --------------------------------------------------------------- FakeApiServer hooks
    def handle(self, request: Request) -> Response:
        key = self._authenticate(request)
        parts = request.path.strip("/").split("/")
        if parts[0] in ("subscriptions", "customers") and len(parts) <= 2:
            needed = PERM_SUBSCRIPTIONS if parts[0] == "subscriptions" else PERM_CUSTOMERS
            permissions = self.keys[key]
            if permissions is not None and needed not in permissions:
                raise _error(403, "forbidden", "You aren't permitted to perform this request.")
            if len(parts) == 2:
                return Response(200, self._get(parts[0], parts[1], request))
            return Response(200, self._list(parts[0], request))
        raise _error(404, "not_found", f"Endpoint {request.path} not found")

    def fault_response(self, kind: FaultKind, request: Request) -> Response:
        if kind == "429":
            return self.rate_limited_response(request, 1.0)
        return _error(
            500,
            "internal_error",
            "An internal error has occurred (injected by the fake).",
            kind="api_error",
        ).response

    def rate_limited_response(self, request: Request, wait: float) -> Response:
        seconds = self.retry_after if self.retry_after is not None else max(1, -(-wait // 1))
        return _error(
            429,
            "too_many_requests",
            "IP address exceeded the allowed rate limit. Retry after the number of seconds in "
            "the Retry-After header.",
            kind="api_error",
            headers={"Retry-After": str(int(seconds))},
        ).response

    def method_not_allowed(self, method: str, path: str) -> Response:
        return _error(
            405, "method_not_allowed", f"The Paddle fake is read-only ({method})."
        ).response

    # --------------------------------------------------------------- internals
    def _authenticate(self, request: Request) -> str:
        raw = request.header("authorization")
        if raw is None or not raw.strip():
            raise _error(403, "authentication_missing", "Authentication header missing.")
        scheme, _, key = raw.strip().partition(" ")
        key = key.strip()
        if scheme != "Bearer" or not key or " " in key:
            raise _error(
                403,
                "authentication_malformed",
                "Authentication header included, but incorrectly formatted.",
            )
        if key not in self.keys:
            raise _error(403, "invalid_token", "Invalid or revoked API key.")
        return key

    def _get(self, kind: str, ident: str, request: Request) -> Json:
        _check_params(request, {"include"})
        obj = (
            self.store.subscription(ident)
            if kind == "subscriptions"
            else self.store.customer(ident)
        )
        if obj is None:
            raise _error(404, "not_found", f"Entity {ident} not found")
        return {"data": obj, "meta": {"request_id": self.request_id()}}

    def _list(self, kind: Literal["subscriptions", "customers"], request: Request) -> Json:
        if kind == "subscriptions":
            filters = {
                "status": ("status", STATUSES),
                "customer_id": ("customer_id", None),
                "id": ("id", None),
                "scheduled_change_action": ("scheduled_change_action", SCHEDULED_ACTIONS),
                "collection_mode": ("collection_mode", ("automatic", "manual")),
                "price_id": ("price_id", None),
                "address_id": ("address_id", None),
            }
        else:
            filters = {
                "id": ("id", None),
                "email": ("email", None),
                "status": ("status", ("active", "archived")),
            }
        _check_params(request, _PAGING | set(filters))
        per_page = _per_page(request)
        order = request.get("order_by") or "id[ASC]"
        if order not in ("id[ASC]", "id[DESC]"):
            raise _invalid("order_by", "must be id[ASC] or id[DESC]")
        wanted: dict[str, frozenset[str]] = {}
        for name, (_, allowed) in filters.items():
            raw = request.get(name)
            if raw is None:
                continue
            values = frozenset(value.strip() for value in raw.split(",") if value.strip())
            if allowed is not None and not values <= set(allowed):
                raise _invalid(name, f"must be one of {', '.join(allowed)}")
            wanted[name] = values

        def match(obj: Json) -> bool:
            for name, values in wanted.items():
                if name == "scheduled_change_action":
                    change = obj.get("scheduled_change") or {}
                    if change.get("action") not in values:
                        return False
                elif name == "price_id":
                    if not any(item["price"]["id"] in values for item in obj["items"]):
                        return False
                elif obj.get(name) not in values:
                    return False
            return True

        after = request.get("after")
        found, has_more, total = self.store.page(
            kind,
            per_page=per_page,
            after=after,
            descending=order == "id[DESC]",
            match=match,
            filter_key=tuple(sorted((name, tuple(sorted(v))) for name, v in wanted.items())),
        )
        last = found[-1]["id"] if found else after
        query = [(k, v) for k, v in request.params if k != "after"]
        if last is not None:
            query.append(("after", last))
        return {
            "data": found,
            "meta": {
                "request_id": self.request_id(),
                "pagination": {
                    "per_page": per_page,
                    "next": f"{self.url}/{kind}?{urlencode(query)}",
                    "has_more": has_more,
                    "estimated_total": total,
                },
            },
        }


@dataclass
class _ErrorField:
    field: str
    message: str


def _error(
    status: int,
    code: str,
    detail: str,
    *,
    kind: str = "request_error",
    headers: Mapping[str, str] | None = None,
    errors: Iterable[_ErrorField] = (),
) -> ApiError:
    """Paddle's error envelope, as an exception a handler can raise."""
    error: Json = {"type": kind, "code": code, "detail": detail, "documentation_url": DOCS + code}
    listed = [{"field": e.field, "message": e.message} for e in errors]
    if listed:
        error["errors"] = listed
    body = {"error": error, "meta": {"request_id": FakeApiServer.request_id()}}
    return ApiError(status, body, headers)


def _invalid(name: str, message: str) -> ApiError:
    return _error(400, "invalid_field", "Invalid request.", errors=[_ErrorField(name, message)])


def _check_params(request: Request, allowed: Collection[str]) -> None:
    for key, _ in request.params:
        if key not in allowed:
            raise _invalid(key, "unknown query parameter")


def _per_page(request: Request) -> int:
    raw = request.get("per_page")
    if raw is None:
        return 50
    try:
        value = int(raw)
    except ValueError:
        raise _invalid("per_page", "must be an integer") from None
    if not 1 <= value <= 200:
        raise _invalid("per_page", "must be between 1 and 200")
    return value
