"""Webhooks as triggers: accept an event quickly, check its customer soon after.

Two halves, joined by the on-disk :class:`~billdrift.infra.event_queue.EventQueue`:

* :class:`~billdrift.usecases.receiving.Receiver` (in a module of its own, so the
  receiving process does not import the check; called by the HTTP front-end for
  each request): verifies the
  signature on the raw body, reads which customer the event names, and stores it.
  It answers at once: 400 for a bad signature or an unreadable body, 2xx for a
  stored event, a duplicate (already stored: the provider redelivered it) or a
  type billdrift does not act on, and 503 when the queue is full (the provider
  retries later). No check runs while the provider waits.
* :class:`Worker` (a thread): takes customers whose events have waited the
  coalescing window, so a burst for one customer becomes one check of that
  customer, and checks up to ``batch`` such customers together in one targeted
  run (one app query, one reconcile, one history write), a few runs at a time.
  A failed check (a provider or database down) is retried later, a few times.
  :meth:`Worker.stop` stops taking work and waits for the checks under way; a
  check still running when the wait ends is left unended in the queue file and
  redone at the next start.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from billdrift.errors import BilldriftError
from billdrift.infra.event_queue import Batch, EventQueue
from billdrift.infra.failures import describe_failure
from billdrift.sources.billing.webhook_events import Provider
from billdrift.usecases.targeted import BatchResult, TargetedOutcome

log = logging.getLogger("billdrift.listen")

#: Checks a few customers of one provider in one run; the listener's is TargetedChecker.check.
Check = Callable[[Provider, Sequence[str]], BatchResult]
#: Told of every finished check (the bench and tests count them).
Finished = Callable[[Batch, "TargetedOutcome | BilldriftError"], None]


class Worker:
    """Claims due customers from the queue and checks them, up to `batch` customers
    per run, `threads` runs at a time."""

    def __init__(
        self,
        queue: EventQueue,
        check: Check,
        *,
        threads: int = 4,
        batch: int = 50,
        retry_delay: float = 30.0,
        max_attempts: int = 5,
        poll: float = 0.2,
        on_finished: Finished | None = None,
    ) -> None:
        self.queue = queue
        self.check = check
        self.threads = threads
        self.batch = batch
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        self.poll = poll
        self.on_finished = on_finished
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="check")
        #: Runs under way, by the id of their first batch.
        self._running: dict[int, Future[None]] = {}
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._loop, name="listen-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, grace: float) -> int:
        """Take no more work; wait up to `grace` seconds for checks under way. Returns
        how many were still running (they are redone at the next start)."""
        self._stop.set()
        with self._free:
            self._free.notify_all()
        self._thread.join()
        deadline = time.monotonic() + grace
        with self._free:
            while self._running and time.monotonic() < deadline:
                self._free.wait(max(0.0, deadline - time.monotonic()))
            left = len(self._running)
        self._pool.shutdown(wait=False, cancel_futures=True)
        return left

    def _loop(self) -> None:
        last_prune = time.monotonic()
        while not self._stop.is_set():
            with self._free:
                free = self.threads - len(self._running)
            batches = self.queue.claim(free * self.batch) if free > 0 else []
            for group in _groups(batches, free, self.batch):
                with self._lock:
                    self._running[group[0].id] = self._pool.submit(self._run, group)
            if time.monotonic() - last_prune > 3600:
                self.queue.prune()
                last_prune = time.monotonic()
            if not batches:
                with self._free:
                    self._free.wait(self._wait())

    def _wait(self) -> float:
        due = self.queue.next_due()
        if due is None:
            return self.poll
        return min(self.poll, max(0.0, due - time.time()))

    def _run(self, group: list[Batch]) -> None:
        provider = group[0].provider
        try:
            try:
                result = self.check(provider, [batch.customer for batch in group])  # type: ignore[arg-type]
            except BilldriftError as error:  # the app side or the set-up: the whole run
                for batch in group:
                    self._failed(batch, error)
                return
            except Exception as error:  # a bug must not kill the worker or lose the events
                log.exception("check of %d %s customer(s) crashed", len(group), provider)
                said = describe_failure(error)
                for batch in group:
                    self.queue.failed(batch, f"crash: {said}", self.retry_delay, self.max_attempts)
                return
            for batch in group:
                got = result.result_for(batch.customer)
                if isinstance(got, BilldriftError):
                    self._failed(batch, got)
                    continue
                said = f"ok: {got.report.verdict.value}, {got.new} new"
                self.queue.done(batch, said)
                log.info(
                    "checked %s %s (%d event(s), %d customer(s) in the run): %s",
                    batch.provider,
                    batch.customer,
                    batch.events,
                    len(group),
                    said,
                )
                self._tell(batch, got)
        finally:
            with self._free:
                self._running.pop(group[0].id, None)
                self._free.notify_all()

    def _failed(self, batch: Batch, error: BilldriftError) -> None:
        said = describe_failure(error)  # kept in the queue file: scrubbed
        again = self.queue.failed(batch, f"error: {said}", self.retry_delay, self.max_attempts)
        log.warning(
            "check of %s %s failed (%s)%s",
            batch.provider,
            batch.customer,
            said,
            "; will retry" if again else "; giving up",
        )
        self._tell(batch, error)

    def _tell(self, batch: Batch, result: TargetedOutcome | BilldriftError) -> None:
        if self.on_finished is not None:
            self.on_finished(batch, result)


def _groups(batches: list[Batch], runs: int, most: int) -> list[list[Batch]]:
    """The claimed customers as at most about `runs` runs of at most `most` customers of
    one provider each, shared out evenly (so the runs under way finish together)."""
    by_provider: dict[str, list[Batch]] = defaultdict(list)
    for batch in batches:
        by_provider[batch.provider].append(batch)
    groups: list[list[Batch]] = []
    for same in by_provider.values():
        count = max(1, min(runs, len(same)), -(-len(same) // most))
        size = -(-len(same) // count)
        groups += [same[start : start + size] for start in range(0, len(same), size)]
    return groups
