"""Every subscription of a Stripe account, read by several threads at once.

One cursor walk is bound by latency, so the walk is split by ``created``
ranges. It starts with the first page read plainly (a small account needs
nothing more); then, whenever threads would idle, a busy walk hands over the
older part of what it still has to read (its cursor keeps the newest part), in
as many pieces as there are idle threads but never pieces the page just read
suggests hold under two pages. All threads share the client's pacer. A server
that ignores ``created`` filters (a fake, an old proxy) is detected and read
with one walk instead.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billdrift.infra.api.client import ApiClient, ApiError

PAGE_SIZE = 100
SUBSCRIPTIONS = "/v1/subscriptions"
SUBSCRIPTION_EXPAND = ("data.customer",)
#: Stripe was founded in 2010; nothing is older.
EPOCH_START = 1_262_304_000


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
        page = self.client.get(SUBSCRIPTIONS, self._params(None))
        latency = time.monotonic() - started
        data = _page_data(page)
        self._record(data)
        if not page.get("has_more") or not data:
            return self.found
        if self.requested is None:
            self.threads = auto_concurrency(self.client.pacer.rate(SUBSCRIPTIONS), latency)
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
            data = _page_data(self.client.get(SUBSCRIPTIONS, probe, retries=0))
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
            page = self.client.get(SUBSCRIPTIONS, self._params(work.cursor, work))
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
            page = self.client.get(SUBSCRIPTIONS, self._params(cursor))
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
