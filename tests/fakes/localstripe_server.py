"""localstripe (a third-party Stripe emulator) run in-process, plus seeding helpers.

Why it is here next to our own ``FakeStripe``: it is an independent
implementation, driven through stripe-python, so a Stripe source tested against
both is not only tested against our reading of the docs.

How it runs: localstripe's aiohttp ``app`` on 127.0.0.1 (an ephemeral port) in a
background thread with its own event loop. Its ``Store`` pickles the whole store
to /tmp after every change (minutes for 1,000 subscriptions); we replace
``Store.dump_to_disk``/``try_load_from_disk`` with no-ops. Its CLI binds all
interfaces, hence running the app ourselves. The store is a module-level global
in localstripe, so only ONE :class:`LocalStripe` may run per process (a second
``start()`` raises); ``start()`` clears the store.

Gotchas found with localstripe 1.15.10 and stripe-python 16.1 (check these before
trusting a test that passes only against localstripe):

* ORDER: lists come back in insertion order, OLDEST first (Stripe: newest
  first). Paging with ``starting_after`` still walks everything exactly once.
* An UNKNOWN ``starting_after`` id is silently ignored: the list restarts at the
  first item (Stripe answers 400 ``resource_missing``). A client that loops until
  ``has_more`` is false never ends if its cursor vanishes.
* ``limit`` has no upper bound (``limit=1000`` works; Stripe caps at 100).
* ``created[...]`` and ``ending_before`` on ``/v1/subscriptions`` are a 500 with a
  text/plain body (a TypeError inside localstripe), not a JSON error. On
  ``/v1/events`` ``created`` works; ``types[]`` is a 400 "Unexpected types"; only
  a single exact ``type`` filters.
* ``status=all``, a single status and the default (canceled and
  incomplete_expired left out) work; ``status=paused`` and ``status=ended`` are a
  400 (it predates them).
* ``created`` is wall-clock seconds at creation: everything seeded in one test
  shares one or two timestamps. Set ``created`` on the store object (see
  :meth:`LocalStripe.update_object`) to spread them.
* Subscriptions have the OLD layout: ``current_period_start/end`` on the
  subscription (never advancing: always the first period from ``start_date``),
  a ``plan`` on the subscription and on each item, and NO ``price`` on items:
  ``expand[]=data.items.data.price`` is a 400 "Bad expand 'price'". A source
  that needs ``items.data[].price`` must fall back to ``plan``.
* Lists carry ``total_count`` (dropped by Stripe long ago); an expanded customer
  carries ``subscriptions``, ``sources`` and ``tax_ids`` sub-lists.
* Cancel immediately (``DELETE /v1/subscriptions/{id}``): status canceled and
  ``ended_at`` set, but ``canceled_at`` stays null. Cancel at period end only sets
  ``cancel_at_period_end`` (``cancel_at`` stays null).
* Events: ``api_version`` is "2017-08-15"; there is no
  ``customer.subscription.updated`` event at all (updates emit nothing); created
  and deleted are emitted.
* ``trialing`` cannot be produced through the API: with ``trial_period_days`` or
  ``trial_end`` no invoice is made and the subscription stays ``incomplete``. Set
  the status on the store object (:meth:`LocalStripe.set_status`). Same for
  ``past_due``, ``unpaid`` and ``paused``.
* Auth: any ``sk_...`` key is accepted; restricted ``rk_`` keys are a 401 with
  ``{"error": {"message": "Unauthorized", ...}}``. A missing object is a 404
  ``{"error": {"message": "Not Found", "type": "invalid_request_error"}}`` with
  no ``code`` (Stripe: ``resource_missing``). No rate limit, no entitlements, no
  Prices API (use legacy Plans: ``items=[{"plan": id}]``), no search.
* Customers need a payment method for an ``active`` subscription: create them
  with ``payment_method="pm_card_visa"`` and that id as
  ``invoice_settings.default_payment_method``; ``pm_card_chargeCustomerFail``
  gives an ``incomplete`` subscription instead.
* Only one item per subscription (more is a 500 "Not implemented").
"""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import stripe
from aiohttp import web

T = TypeVar("T")
DAY = 86_400

_RUNNING = threading.Lock()  # localstripe's store is global: one server per process

SeedStatus = Literal[
    "active",
    "canceled",
    "cancel_at_period_end",
    "incomplete",
    "trialing",
    "past_due",
    "unpaid",
    "resubscribed",
]


def _patch_store() -> Any:
    """Import localstripe with disk persistence disabled; returns its server module."""
    import localstripe.resources as resources

    def _noop(self: Any) -> None:
        """No pickling to /tmp after every change."""

    resources.Store.dump_to_disk = _noop  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = _noop  # type: ignore[method-assign]
    import localstripe.server as server

    return server


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _event_loop() -> asyncio.AbstractEventLoop:
    """The process-wide loop localstripe runs on, in a daemon thread, started once.

    One loop for the process because localstripe's ``app`` is a module global and
    aiohttp binds an application to the first loop that runs it: a second
    ``LocalStripe`` on a new loop would fail. Between servers the loop idles.
    """
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="localstripe-loop", daemon=True).start()
            _LOOP = loop
        return _LOOP


@dataclass
class Seeded:
    """Ids made by :meth:`LocalStripe.seed`.

    ``subscriptions`` maps a bucket to ids: the statuses (``cancel_at_period_end``
    ones are ``active`` with the flag set), plus ``resubscribed_active`` for the new
    subscription of a cancel-and-resubscribe (its old one is under ``canceled``).
    """

    plans: list[str] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    subscriptions: dict[str, list[str]] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)  # customer id -> email

    @property
    def all_subscriptions(self) -> list[str]:
        return [ident for ids in self.subscriptions.values() for ident in ids]


class LocalStripe:
    """localstripe on 127.0.0.1 in a background thread; use as a context manager."""

    API_KEY = "sk_test_localstripe_billdrift_0000"

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._server = _patch_store()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        if self._runner is not None:
            return self
        if not _RUNNING.acquire(blocking=False):
            raise RuntimeError("a LocalStripe is already running in this process (global store)")
        try:
            self._loop = _event_loop()
            self._server.store.clear()
            runner = web.AppRunner(self._server.app, access_log=None)
            self._await(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._await(site.start())
            server = site._server
            if server is None or not server.sockets:  # pragma: no cover - aiohttp internals
                raise RuntimeError("localstripe did not bind a socket")
            self._port = int(server.sockets[0].getsockname()[1])
            self._runner = runner
        except BaseException:
            _RUNNING.release()
            raise
        return self

    def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return

        async def shutdown() -> None:
            await runner.cleanup()
            self._server.store.clear()
            current = asyncio.current_task()
            pending = [task for task in asyncio.all_tasks() if task is not current]
            for task in pending:  # webhook deliveries sleep 1 s before sending
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        try:
            self._await(shutdown())
        finally:
            self._port = None
            _RUNNING.release()

    def _await(self, coroutine: Any) -> Any:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._port is None or self._runner is None:
            raise RuntimeError("localstripe is not running; call start()")
        return f"http://127.0.0.1:{self._port}"

    # ------------------------------------------------------------------ access
    def client(self, api_key: str | None = None) -> stripe.StripeClient:
        """A stripe-python client pointed at this server (no retries: failures show)."""
        return stripe.StripeClient(
            api_key or self.API_KEY,
            base_addresses={"api": self.url},
            max_network_retries=0,
        )

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on the server's loop thread: the only safe way to touch the store."""
        if self._runner is None:
            raise RuntimeError("localstripe is not running")

        async def run() -> T:
            return fn(*args, **kwargs)

        return self._await(run())  # type: ignore[no-any-return]

    def update_object(self, kind: str, ident: str, **fields: Any) -> None:
        """Set attributes on a stored object (``kind`` e.g. "subscription"), bypassing the API.

        For what the API cannot do: ``trialing``/``past_due`` statuses, backdated
        ``created``. No event is emitted.
        """

        def apply() -> None:
            obj = self._server.store[f"{kind}:{ident}"]
            for name, value in fields.items():
                setattr(obj, name, value)

        self.call(apply)

    def stored(self, kind: str, ident: str, name: str) -> Any:
        """An attribute of a stored object, read on the loop thread."""
        return self.call(lambda: getattr(self._server.store[f"{kind}:{ident}"], name))

    def set_status(self, subscription: str, status: str, **fields: Any) -> None:
        """Force a subscription's status (and other fields, e.g. ``trial_end``)."""
        self.update_object("subscription", subscription, status=status, **fields)

    # ------------------------------------------------------------------ seeding
    def create_plan(
        self,
        ident: str,
        amount: int,
        *,
        currency: str = "usd",
        interval: str = "month",
        interval_count: int = 1,
        product_name: str | None = None,
    ) -> str:
        """A legacy Plan (localstripe has no Prices API); returns its id."""
        plan = self.client().v1.plans.create(
            params={
                "id": ident,
                "amount": amount,
                "currency": currency,
                "interval": interval,  # type: ignore[typeddict-item]
                "interval_count": interval_count,
                "product": {"name": product_name or ident},
            }
        )
        return str(plan.id)

    def create_customer(self, email: str | None, *, payment_method: str = "pm_card_visa") -> str:
        params: dict[str, Any] = {
            "payment_method": payment_method,
            "invoice_settings": {"default_payment_method": payment_method},
        }
        if email is not None:
            params["email"] = email
        return str(self.client().v1.customers.create(params=params).id)  # type: ignore[arg-type]

    def subscribe(self, customer: str, plan: str, quantity: int = 1) -> str:
        sub = self.client().v1.subscriptions.create(
            params={"customer": customer, "items": [{"plan": plan, "quantity": quantity}]}
        )
        return str(sub.id)

    def cancel(self, subscription: str, *, at_period_end: bool = False) -> None:
        client = self.client()
        if at_period_end:
            client.v1.subscriptions.update(subscription, params={"cancel_at_period_end": True})
        else:
            client.v1.subscriptions.cancel(subscription)

    def resubscribe(self, subscription: str, plan: str) -> str:
        """Cancel a subscription now and start a new one for the same customer."""
        client = self.client()
        customer = str(client.v1.subscriptions.retrieve(subscription).customer)
        client.v1.subscriptions.cancel(subscription)
        return self.subscribe(customer, plan)

    def seed(self, per_status: int = 3, seed: int = 0) -> Seeded:
        """Plans plus ``per_status`` subscriptions in each status a source must tell apart.

        Statuses the API cannot make are set on the store (see the module notes).
        """
        rng = random.Random(seed)
        result = Seeded()
        result.plans = [
            self.create_plan("basic_monthly", 900, product_name="Basic"),
            self.create_plan("pro_yearly", 29000, interval="year", product_name="Pro"),
        ]
        statuses: tuple[SeedStatus, ...] = (
            "active",
            "canceled",
            "cancel_at_period_end",
            "incomplete",
            "trialing",
            "past_due",
            "unpaid",
            "resubscribed",
        )
        number = 0
        for status in statuses:
            for _ in range(per_status):
                number += 1
                email = f"ls{number}@example.com"
                failing = status == "incomplete"
                customer = self.create_customer(
                    email,
                    payment_method="pm_card_chargeCustomerFail" if failing else "pm_card_visa",
                )
                result.customers.append(customer)
                result.emails[customer] = email
                plan = rng.choice(result.plans)
                sub = self.subscribe(customer, plan, quantity=rng.randint(1, 3))
                bucket: str = status
                if status == "canceled":
                    self.cancel(sub)
                elif status == "cancel_at_period_end":
                    self.cancel(sub, at_period_end=True)
                elif status == "resubscribed":  # the old one canceled, the new one active
                    result.subscriptions.setdefault("canceled", []).append(sub)
                    sub, bucket = self.resubscribe(sub, plan), "resubscribed_active"
                elif status == "trialing":
                    start = int(self.stored("subscription", sub, "start_date"))
                    self.set_status(sub, "trialing", trial_start=start, trial_end=start + 14 * DAY)
                elif status in ("past_due", "unpaid"):
                    self.set_status(sub, status)
                result.subscriptions.setdefault(bucket, []).append(sub)
        return result

    def iter_subscriptions(self, **params: Any) -> Iterator[Any]:
        """All subscriptions through stripe-python's auto-paging (``status=all`` default)."""
        query = {"status": "all", "limit": 100, **params}
        yield from self.client().v1.subscriptions.list(params=query).auto_paging_iter()  # type: ignore[arg-type]
