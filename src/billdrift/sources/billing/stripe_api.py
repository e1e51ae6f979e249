"""Stripe's API as the billing source (``--billing stripe``): complete, parallel, read-only.

Complete: every subscription in every status (``status=all``: without it
canceled subscriptions are invisible, the commonest cause of false drift),
customers expanded for their email, every page, one pinned API version.

Parallel: one cursor walk is bound by latency, so the walk is split by
``created`` ranges. It starts as one range; whenever a worker would idle, a
busy walk hands over the older half of what it still has to read (its cursor
keeps the newer half), so the work spreads over the threads however the
subscriptions are distributed in time. All threads share one
:class:`~billdrift.api.ratelimit.RateLimiter` set below Stripe's account-wide
limit, which the user's own app shares. A server that ignores ``created``
filters (a fake, an old proxy) is detected and read with one walk instead.

Never a silent pass: a fetch that fails part-way, an auth or permission error,
or an interrupt raises :class:`~billdrift.errors.SourceError` saying how much
was read; nothing partial reaches the rules.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from billdrift.api.client import ApiClient, ApiError
from billdrift.api.keys import key_from_env
from billdrift.api.ratelimit import RateLimiter
from billdrift.config import StripeApiConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.gcpause import collector_paused
from billdrift.model import BillingData, Skip
from billdrift.sources.billing.common import (
    RecordError,
    items_table,
    object_id,
    skip,
    subscriptions_table,
)
from billdrift.sources.billing.interface import BillingSource
from billdrift.sources.billing.stripe_json import parse_subscription

PAGE_SIZE = 100
SUBSCRIPTION_EXPAND = ("data.customer",)
#: Stripe was founded in 2010; nothing is older.
EPOCH_START = 1_262_304_000
_PERMISSION = re.compile(r"\brak_[a-z_]+\b")


@dataclass(frozen=True)
class StripeKey:
    """What a key is, judged from its prefix (the key itself is never shown)."""

    value: str
    env_name: str

    @property
    def restricted(self) -> bool:
        return self.value.startswith("rk_")

    @property
    def live(self) -> bool:
        return "_live_" in self.value[:8]

    @property
    def mode(self) -> str:
        return "live mode" if self.live else "test mode"

    @property
    def kind(self) -> str:
        return "restricted key" if self.restricted else "secret key"


def stripe_key(options: StripeApiConfig, environ: dict[str, str] | None = None) -> StripeKey:
    found = key_from_env(options.api_key_env, environ)
    if found is not None:
        name, value = found
        if not value.startswith(("sk_", "rk_")):
            raise ConfigError(
                f"{name} does not hold a Stripe API key (expected rk_live_..., rk_test_..., "
                "sk_live_... or sk_test_...)"
            )
        return StripeKey(value, name)
    names = " or ".join(options.api_key_env)
    raise ConfigError(
        f"--billing stripe needs an API key in {names}: a restricted key (rk_...) with Read "
        "permission on Subscriptions, Customers and Events is enough, and safer than a secret key"
    )


def key_notes(key: StripeKey) -> list[str]:
    if key.restricted:
        return []
    return [
        f"{key.env_name} holds a secret key ({key.mode}), which can change the account; "
        "billdrift only reads, so a restricted key with Read on Subscriptions, Customers, "
        "Events (and Entitlements if used) is enough: Dashboard > Developers > API keys > "
        "Create restricted key"
    ]


def permission_error(error: ApiError, key: StripeKey, what: str) -> SourceError:
    """A SourceError that names the missing permission and how to grant it."""
    found = _PERMISSION.search(str(error))
    if error.status == 401:
        return SourceError(
            f"Stripe rejected the API key in {key.env_name} (HTTP 401) while reading {what}: "
            "check that it is current and complete"
        )
    if error.status == 403 or found:
        permission = found.group(0) if found else "a read permission"
        return SourceError(
            f"the {key.kind} in {key.env_name} lacks {permission}, needed to read {what}: in "
            "the Stripe Dashboard (Developers > API keys), edit the restricted key and set "
            f"that resource to Read"
        )
    return SourceError(f"reading {what} from Stripe failed: {error}")


def stripe_client(options: StripeApiConfig, key: StripeKey) -> ApiClient:
    rate = options.max_requests_per_second or (60.0 if key.live else 20.0)
    # 5% below the ceiling: requests sent evenly still arrive bunched by network and
    # server jitter, and a provider counting in a sliding window answers 429 to the
    # bunch; each 429 then stalls every thread for a backoff.
    rate *= 0.95
    headers = {
        "Authorization": f"Bearer {key.value}",
        "Stripe-Version": options.api_version,
        "User-Agent": "billdrift (read-only reconciliation)",
    }
    return ApiClient(
        options.api_base,
        headers,
        RateLimiter(rate),
        secret=key.value,
        max_retries=options.retries,
        # Stripe sends no Retry-After: the pacer already keeps the rate, so a 429 is a
        # momentary bunch and a short first wait recovers it (doubling after that).
        backoff=0.25,
    )


@dataclass
class _Range:
    """Subscriptions with ``lo <= created < hi``, after ``cursor`` when set."""

    lo: int
    hi: int
    cursor: str | None = None


def auto_concurrency(per_second: float, latency: float) -> int:
    """Threads needed to keep `per_second` requests going when each takes `latency`
    (Little's law), doubled for the spread of page times: an idle thread costs
    nothing, a missing one costs throughput."""
    return max(4, min(64, math.ceil(per_second * latency * 2)))


class _FiltersIgnored(Exception):
    """The server returned subscriptions outside the requested created range."""


class SubscriptionWalk:
    """Every subscription of the account, fetched by `concurrency` threads."""

    def __init__(
        self,
        client: ApiClient,
        concurrency: int | None,
        on_page: Callable[[int], None] = lambda n: None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.requested = concurrency
        #: Threads of the parallel walk: as configured, or chosen after the first page.
        self.threads = concurrency or 2
        self.on_page = on_page
        self.end = int(now()) + 86_400
        self.found: dict[str, dict[str, Any]] = {}
        self._queue: deque[_Range] = deque()
        self._cond = threading.Condition()
        self._busy = 0
        self._error: BaseException | None = None
        self._stop = False

    def run(self) -> dict[str, dict[str, Any]]:
        """Read the first page plainly (a small account needs nothing more), then walk
        the rest in parallel if the server honours ``created`` filters, else in one walk."""
        started = time.monotonic()
        page = self.client.get("/v1/subscriptions", self._params(None))
        latency = time.monotonic() - started
        data = _page_data(page)
        self._record(data)
        if not page.get("has_more") or not data:
            return self.found
        if self.requested is None:
            self.threads = auto_concurrency(self.client.limiter.per_second, latency)
        last = data[-1]
        rest = _Range(EPOCH_START, int(last.get("created") or 0) + 1, str(last["id"]))
        if self.threads > 1 and self._filters_work(rest):
            try:
                self._parallel(rest)
                return self.found
            except _FiltersIgnored:
                self.found.clear()
                self._sequential(None)
                return self.found
        self._sequential(rest.cursor)
        return self.found

    def _params(
        self, cursor: str | None, work: _Range | None = None
    ) -> list[tuple[str, str | int]]:
        params: list[tuple[str, str | int]] = [
            ("limit", PAGE_SIZE),
            ("status", "all"),
            *(("expand[]", item) for item in SUBSCRIPTION_EXPAND),
        ]
        if work is not None:
            params += [("created[gte]", work.lo), ("created[lt]", work.hi)]
        if cursor:
            params.append(("starting_after", cursor))
        return params

    def _filters_work(self, rest: _Range) -> bool:
        """One cheap request: does this server filter by ``created`` (a fake might not)?"""
        probe = [*self._params(rest.cursor, rest)]
        probe[0] = ("limit", 1)
        try:
            data = _page_data(self.client.get("/v1/subscriptions", probe, retries=0))
        except ApiError as error:
            if error.status in (401, 403, 429):
                raise
            return False
        return all(
            isinstance(r.get("created"), int) and rest.lo <= r["created"] < rest.hi for r in data
        )

    # ------------------------------------------------------------------ parallel
    def _parallel(self, start: _Range) -> None:
        self._queue.append(start)
        threads = [
            threading.Thread(target=self._worker, name=f"stripe-{index}", daemon=True)
            for index in range(self.threads)
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)  # wakes for KeyboardInterrupt
        except BaseException:
            with self._cond:
                self._stop = True
                self._cond.notify_all()
            raise
        if self._error is not None:
            raise self._error

    def _take(self) -> _Range | None:
        with self._cond:
            while True:
                if self._error is not None or self._stop:
                    return None
                if self._queue:
                    self._busy += 1
                    return self._queue.popleft()
                if self._busy == 0:
                    self._cond.notify_all()
                    return None
                self._cond.wait()

    def _worker(self) -> None:
        while (work := self._take()) is not None:
            try:
                self._walk(work)
            except BaseException as error:  # handed to the main thread, re-raised there
                with self._cond:
                    self._error = self._error or error
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _walk(self, work: _Range) -> None:
        while not self._stop:
            page = self.client.get("/v1/subscriptions", self._params(work.cursor, work))
            data = _page_data(page)
            for record in data:
                created = record.get("created")
                if not isinstance(created, int) or not work.lo <= created < work.hi:
                    raise _FiltersIgnored
            self._record(data)
            if not page.get("has_more") or not data:
                return
            last = data[-1]
            work = _Range(work.lo, int(last["created"]) + 1, str(last["id"]))
            with self._cond:
                idle = self.threads - self._busy - len(self._queue)
                if idle > 0:
                    work = self._split(work, idle, data)

    def _split(self, work: _Range, idle: int, page: list[dict[str, Any]]) -> _Range:
        """Hand the older part of `work` to idle threads; keep the newest part.

        As many pieces as there are idle threads (halving would need one round trip
        per doubling to bring every thread in), but never pieces the page just read
        suggests hold less than two pages: narrow ranges are mostly empty requests.
        """
        span = work.hi - 1 - work.lo  # the cursor keeps created == hi - 1
        newest, oldest = page[0].get("created"), page[-1].get("created")
        if isinstance(newest, int) and isinstance(oldest, int):
            covered = max(1, newest - oldest)
        else:
            covered = span
        pages_left = span / covered if len(page) >= PAGE_SIZE else 1.0
        parts = int(min(idle + 1, pages_left // 2, span))
        if parts < 2:
            return work
        bounds = [work.lo + span * index // parts for index in range(parts)]
        for low, high in itertools.pairwise(bounds):
            self._queue.append(_Range(low, high))
        self._cond.notify_all()
        return _Range(bounds[-1], work.hi, work.cursor)

    # ---------------------------------------------------------------- sequential
    def _sequential(self, cursor: str | None) -> None:
        while True:
            page = self.client.get("/v1/subscriptions", self._params(cursor))
            data = _page_data(page)
            self._record(data)
            if not page.get("has_more") or not data:
                return
            cursor = str(data[-1]["id"])

    def _record(self, data: list[dict[str, Any]]) -> None:
        with self._cond:
            for record in data:
                self.found[str(record.get("id"))] = record
            count = len(self.found)
        self.on_page(count)


def _page_data(page: Any) -> list[dict[str, Any]]:
    data = page.get("data") if isinstance(page, dict) else None
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ApiError("Stripe returned a list page without a data array")
    return data


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


def snapshot_dir(options: StripeApiConfig) -> Path:
    if options.snapshot_dir:
        return Path(options.snapshot_dir)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "billdrift"


class StripeApiSource(BillingSource):
    """``--billing stripe``: the key comes from the environment, never from a file."""

    kind = "stripe"

    @classmethod
    def sniff(cls, path: Path, head: bytes) -> bool:
        return False  # chosen by name, never from a file's content

    def read(self) -> BillingData:
        from billdrift.sources.billing.stripe_snapshot import sync

        options = self.options.stripe
        key = stripe_key(options)
        client = stripe_client(options, key)
        try:
            with collector_paused():  # see billdrift.gcpause: pauses make bursts and 429s
                result = sync(client, key, options, self.progress)
            if options.entitlements:
                from billdrift.sources.billing.stripe_entitlements import entitlement_items

                before = client.counters.requests
                extra, asked = entitlement_items(
                    client, result.subscriptions, options.entitlements_concurrency
                )
                result.items = pa.concat_tables([result.items, extra])
                result.notes.append(
                    f"stripe entitlements: {extra.num_rows:,} entitlement item(s) for {asked:,} "
                    f"customer(s) with an entitling subscription "
                    f"({client.counters.requests - before:,} requests); map their lookup keys "
                    "in [plans] to compare plans with what customers are entitled to"
                )
        except ApiError as error:
            read = client.counters.requests
            what = "entitlements" if "entitlements" in error.path else "subscriptions"
            raise _partial(permission_error(error, key, what), read) from None
        except KeyboardInterrupt:
            raise SourceError(
                f"the Stripe fetch was interrupted after {client.counters.requests} requests; "
                "nothing was reconciled"
            ) from None
        finally:
            client.close()
            self.progress.close()
        counters = client.counters
        retried = (
            f", {counters.rate_limited} rate-limited and retried" if counters.rate_limited else ""
        )
        description = (
            f"stripe API ({key.mode}, {key.kind}): {result.subscriptions.num_rows:,} "
            f"subscriptions; {result.how}; {counters.requests:,} requests{retried}"
        )
        return BillingData(
            subscriptions=result.subscriptions,
            items=result.items,
            skips=tuple(result.skips),
            description=description,
            notes=tuple(key_notes(key) + result.notes),
        )


def _partial(error: SourceError, requests: int) -> SourceError:
    return SourceError(
        f"{error} (after {requests} requests; the fetch stopped part-way, so nothing was "
        "reconciled)"
    )
