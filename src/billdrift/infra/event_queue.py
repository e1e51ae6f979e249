"""A queue of webhook events on disk (one SQLite file) that coalesces by customer.

Why on disk: the listener answers the provider 2xx as soon as an event is
stored, and the provider will not send it again; an event held only in memory
would be lost by a restart or a crash. Why SQLite: one local file, transactions,
and the standard library; a broker would be one more server to run for a queue
that holds at most one entry per customer at a time.

One table, ``events``, is the queue, the duplicate filter and the record of
which check covered which event:

* :meth:`EventQueue.put` stores an event once (provider + event id is the key: a
  redelivered event is a duplicate and changes nothing).
* :meth:`EventQueue.claim` takes the customers whose oldest waiting event is
  older than the coalescing window (so a burst of events for one customer, all
  within the window, becomes one check), and that have no check running: each
  claimed customer becomes a *batch* holding all of its waiting events.
* :meth:`EventQueue.done` ends a batch; :meth:`EventQueue.failed` gives its
  events back to the queue after a delay (a provider that is down), up to a number
  of attempts, after which they stay with the failed batch (the scheduled full
  check is the backstop).
* On opening, batches that never ended (the process was killed mid-check) give
  their events back: the work is redone, never lost. :meth:`EventQueue.release`
  does the same for a clean shutdown that stops mid-check.

Two processes share the file: ``billdrift listen`` receives in one process (only
:meth:`EventQueue.put` and the counts) and checks in another (the rest). SQLite
serializes their writes (WAL: readers never wait for the writer; a writer waits
for the other's transaction up to the busy timeout, and each transaction here is
a few statements long). Nothing is cached between calls but the bound's upper
estimate (see :meth:`EventQueue.put`), so each process sees the other's changes
at its next statement. Only the checking process opens with ``recover=True``.

Durability: WAL with ``synchronous=NORMAL``, so an acknowledged event survives a
process crash or kill; a power loss may lose the last transactions (the
scheduled check finds what their checks would have found). Event ids of ended
batches are kept :data:`KEEP_IDS_SECONDS` (Stripe retries for 3 days), then pruned.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from billdrift.infra.private import make_dirs

#: How long an event id is remembered to refuse redeliveries (a week: Stripe retries 3 days).
KEEP_IDS_SECONDS = 7 * 86_400

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    customer TEXT NOT NULL,
    type TEXT NOT NULL,
    received_at REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    batch INTEGER,
    PRIMARY KEY (provider, event_id)
);
CREATE INDEX IF NOT EXISTS waiting ON events (provider, customer, received_at)
    WHERE batch IS NULL;
CREATE INDEX IF NOT EXISTS by_batch ON events (batch) WHERE batch IS NOT NULL;
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    customer TEXT NOT NULL,
    claimed_at REAL NOT NULL,
    first_received REAL NOT NULL,
    events INTEGER NOT NULL,
    ended_at REAL,
    outcome TEXT
);
CREATE INDEX IF NOT EXISTS running ON batches (provider, customer) WHERE ended_at IS NULL;
"""

Stored = Literal["queued", "duplicate", "full"]

#: Customers due for a check: their oldest waiting event is older than the window, no
#: retry delay holds them, and no check of theirs runs. Parameters: the window's
#: start, now, how many.
_DUE = (
    "SELECT provider, customer, MIN(received_at), COUNT(*) FROM events "
    "WHERE batch IS NULL GROUP BY provider, customer "
    "HAVING MIN(received_at) <= ? AND MAX(not_before) <= ? "
    "AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.ended_at IS NULL "
    "AND b.provider = events.provider AND b.customer = events.customer) "
    "ORDER BY MIN(received_at) LIMIT ?"
)


@dataclass(frozen=True)
class Batch:
    """One customer's waiting events, claimed for one check."""

    id: int
    provider: str
    customer: str
    events: int
    #: When the oldest of its events was received (time.time()): for event-to-alert times.
    first_received: float


class EventQueue:
    """The queue in the SQLite file at `path`; safe to share between threads, and
    between processes each with its own instance (one of them with `recover`)."""

    def __init__(
        self,
        path: Path,
        *,
        window: float = 5.0,
        max_waiting: int = 100_000,
        clock: Callable[[], float] = time.time,
        recover: bool = True,
    ) -> None:
        """`recover`: give back the events of checks that never ended (a crash). Only
        the process that checks may: another process's checks may be under way."""
        make_dirs(path.parent)
        self.path = path
        self.window = window
        self.max_waiting = max_waiting
        self._clock = clock
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute("PRAGMA busy_timeout=30000")
        with self._lock:
            self._con.executescript(_SCHEMA)
            self.recovered = self._give_back_unended() if recover else 0
            #: At least the events waiting: the count when last counted, plus this
            #: instance's puts since (another process's claims only lower it).
            self._at_most = self._count_waiting()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    # ------------------------------------------------------------------ producer
    def put(self, provider: str, event_id: str, customer: str, kind: str) -> Stored:
        """Store one event: "queued", "duplicate" (seen before) or "full" (the queue
        holds `max_waiting` events: refuse, so the provider retries later).

        The bound is checked against an upper estimate, counted again (one COUNT over
        the waiting index) only when the estimate reaches the bound: the checking
        process claims events in another process, unseen here until counted."""
        with self._lock:
            if self._at_most >= self.max_waiting:
                self._at_most = self._count_waiting()
            if self._at_most >= self.max_waiting:
                known = self._con.execute(
                    "SELECT 1 FROM events WHERE provider = ? AND event_id = ?",
                    (provider, event_id),
                ).fetchone()
                return "duplicate" if known else "full"
            cursor = self._con.execute(
                "INSERT OR IGNORE INTO events (provider, event_id, customer, type, received_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (provider, event_id, customer, kind, self._clock()),
            )
            if cursor.rowcount == 0:
                return "duplicate"
            self._at_most += 1
            return "queued"

    # ------------------------------------------------------------------ consumer
    def claim(self, limit: int) -> list[Batch]:
        """Up to `limit` customers whose oldest waiting event is older than the window
        and that have no check running, each as a batch of all its waiting events."""
        now = self._clock()
        due = (now - self.window, now, limit)
        with self._lock:
            # Look first without the write lock: the worker asks every fraction of a
            # second, mostly to hear "nothing yet", and while it held the lock the
            # receiving process's inserts waited (SQLite's busy handler sleeps, up
            # to 100 ms a try), which stalled every request it was answering.
            if not self._con.execute(_DUE, due).fetchone():
                return []
            self._con.execute("BEGIN IMMEDIATE")
            try:
                rows = self._con.execute(_DUE, due).fetchall()
                batches = []
                for provider, customer, first, count in rows:
                    cursor = self._con.execute(
                        "INSERT INTO batches (provider, customer, claimed_at, first_received, "
                        "events) VALUES (?, ?, ?, ?, ?)",
                        (provider, customer, now, first, count),
                    )
                    ident = int(cursor.lastrowid or 0)
                    self._con.execute(
                        "UPDATE events SET batch = ? WHERE provider = ? AND customer = ? "
                        "AND batch IS NULL",
                        (ident, provider, customer),
                    )
                    batches.append(Batch(ident, provider, customer, int(count), float(first)))
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            return batches

    def done(self, batch: Batch, outcome: str) -> None:
        """The batch's check finished (`outcome` is kept for the record)."""
        with self._lock:
            self._con.execute(
                "UPDATE batches SET ended_at = ?, outcome = ? WHERE id = ?",
                (self._clock(), outcome, batch.id),
            )

    def failed(self, batch: Batch, outcome: str, delay: float, max_attempts: int) -> bool:
        """The check failed: give its events back to be retried after `delay` seconds,
        unless they were tried `max_attempts` times. True when they were given back."""
        now = self._clock()
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            cursor = self._con.execute(
                "UPDATE events SET batch = NULL, attempts = attempts + 1, not_before = ? "
                "WHERE batch = ? AND attempts + 1 < ?",
                (now + delay, batch.id, max_attempts),
            )
            back = cursor.rowcount
            self._con.execute(
                "UPDATE batches SET ended_at = ?, outcome = ? WHERE id = ?",
                (now, outcome if back == 0 else f"{outcome} (retrying)", batch.id),
            )
            self._con.execute("COMMIT")
            self._at_most += back
            return back > 0

    def release(self, batches: list[Batch]) -> None:
        """Give claimed batches' events back untouched (shutting down before they ran)."""
        with self._lock:
            for batch in batches:
                self._con.execute("UPDATE events SET batch = NULL WHERE batch = ?", (batch.id,))
                self._con.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
            self._at_most = self._count_waiting()

    def prune(self) -> int:
        """Forget event ids of ended batches older than KEEP_IDS_SECONDS."""
        cutoff = self._clock() - KEEP_IDS_SECONDS
        with self._lock:
            cursor = self._con.execute(
                "DELETE FROM events WHERE received_at < ? AND batch IN "
                "(SELECT id FROM batches WHERE ended_at IS NOT NULL)",
                (cutoff,),
            )
            self._con.execute(
                "DELETE FROM batches WHERE ended_at IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM events WHERE events.batch = batches.id)"
            )
            return cursor.rowcount

    # ------------------------------------------------------------------- looking
    @property
    def waiting(self) -> int:
        """Events stored and not yet claimed (by any process: counted in the file)."""
        with self._lock:
            return self._count_waiting()

    def running(self) -> int:
        with self._lock:
            row = self._con.execute("SELECT COUNT(*) FROM batches WHERE ended_at IS NULL")
            return int(row.fetchone()[0])

    def next_due(self) -> float | None:
        """When the next customer becomes due (time.time() scale), or None when empty."""
        with self._lock:
            row = self._con.execute(
                "SELECT MIN(due) FROM (SELECT MAX(MIN(received_at) + ?, MAX(not_before)) AS due "
                "FROM events WHERE batch IS NULL GROUP BY provider, customer)",
                (self.window,),
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def _give_back_unended(self) -> int:
        unended = self._con.execute("SELECT id FROM batches WHERE ended_at IS NULL").fetchall()
        for (ident,) in unended:
            self._con.execute("UPDATE events SET batch = NULL WHERE batch = ?", (ident,))
            self._con.execute("DELETE FROM batches WHERE id = ?", (ident,))
        return len(unended)

    def _count_waiting(self) -> int:
        row = self._con.execute("SELECT COUNT(*) FROM events WHERE batch IS NULL").fetchone()
        return int(row[0])
