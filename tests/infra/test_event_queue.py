"""The on-disk webhook queue: duplicates, coalescing window, bounds, restart, retries,
and two processes sharing it."""

from __future__ import annotations

import contextlib
import multiprocessing
import sqlite3
from pathlib import Path

from billdrift.infra.event_queue import Batch, EventQueue


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_a_redelivered_event_is_a_duplicate_and_a_burst_is_one_batch(tmp_path: Path) -> None:
    clock = Clock()
    queue = EventQueue(tmp_path / "q.sqlite", window=5, clock=clock)
    assert queue.put("stripe", "evt_1", "cus_A", "customer.subscription.updated") == "queued"
    assert queue.put("stripe", "evt_1", "cus_A", "customer.subscription.updated") == "duplicate"
    clock.now += 4.9
    assert queue.put("stripe", "evt_2", "cus_A", "invoice.payment_failed") == "queued"
    assert queue.put("paddle", "evt_1", "ctm_A", "subscription.updated") == "queued"  # own ids
    assert queue.claim(10) == []  # the oldest event is 4.9 s old: inside the window
    clock.now += 0.1
    [batch] = queue.claim(10)  # exactly the window: due; the Paddle event is not yet
    assert (batch.provider, batch.customer, batch.events) == ("stripe", "cus_A", 2)
    assert queue.put("stripe", "evt_3", "cus_A", "customer.updated") == "queued"
    clock.now += 60
    assert [b.customer for b in queue.claim(10)] == ["ctm_A"]  # cus_A has a check running
    queue.done(batch, "ok")
    [again] = queue.claim(10)
    assert (again.customer, again.events) == ("cus_A", 1)  # the event after the claim
    assert queue.put("stripe", "evt_2", "cus_A", "x") == "duplicate"  # remembered after done


def test_a_full_queue_refuses_new_events_but_still_knows_duplicates(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.sqlite", max_waiting=2)
    assert queue.put("stripe", "evt_1", "cus_A", "t") == "queued"
    assert queue.put("stripe", "evt_2", "cus_B", "t") == "queued"
    assert queue.put("stripe", "evt_3", "cus_C", "t") == "full"
    assert queue.put("stripe", "evt_1", "cus_A", "t") == "duplicate"
    assert queue.waiting == 2


def test_events_and_cut_short_checks_survive_a_restart(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "q.sqlite"
    queue = EventQueue(path, window=0, clock=clock)
    for n, customer in enumerate(["cus_A", "cus_B"]):
        queue.put("stripe", f"evt_{n}", customer, "t")
    [first, _] = queue.claim(10)
    queue.done(first, "ok")
    queue.close()  # cus_B's check never ended: the process died
    reopened = EventQueue(path, window=0, clock=clock)
    assert reopened.recovered == 1
    assert [(b.customer, b.events) for b in reopened.claim(10)] == [("cus_B", 1)]


def test_a_failed_check_is_retried_after_the_delay_then_given_up(tmp_path: Path) -> None:
    clock = Clock()
    queue = EventQueue(tmp_path / "q.sqlite", window=0, clock=clock)
    queue.put("stripe", "evt_1", "cus_A", "t")
    [batch] = queue.claim(1)
    assert queue.failed(batch, "error: down", delay=30, max_attempts=2)
    clock.now += 29.9
    assert queue.claim(1) == []
    clock.now += 0.1
    [retry] = queue.claim(1)
    assert not queue.failed(retry, "error: down", delay=30, max_attempts=2)  # second attempt
    clock.now += 3600
    assert queue.claim(1) == [] and queue.waiting == 0


def test_a_second_instance_sees_the_first_ones_claims_and_leaves_its_checks_alone(
    tmp_path: Path,
) -> None:
    """The listener's two processes, each with its own instance on the file."""
    path = tmp_path / "q.sqlite"
    checks = EventQueue(path, window=0)
    receiving = EventQueue(path, window=0, max_waiting=2, recover=False)
    assert receiving.put("stripe", "evt_1", "cus_A", "t") == "queued"
    assert receiving.put("stripe", "evt_2", "cus_B", "t") == "queued"
    assert receiving.put("stripe", "evt_3", "cus_C", "t") == "full"
    assert checks.waiting == 2  # counted in the file, not in this instance
    [running, _] = checks.claim(10)
    assert receiving.waiting == 0
    assert receiving.put("stripe", "evt_3", "cus_C", "t") == "queued"  # the claims made room
    opened = EventQueue(path, window=0, recover=False)  # e.g. the receiver restarting
    assert opened.recovered == 0
    assert [b.customer for b in checks.claim(10)] == ["cus_C"]  # cus_A, cus_B still running
    checks.done(running, "ok")
    for queue in (checks, receiving, opened):
        queue.close()


def _put_many(path: Path, first: int, count: int) -> None:
    queue = EventQueue(path, recover=False)
    for n in range(first, first + count):
        assert queue.put("stripe", f"evt_{n}", f"cus_{n % 7}", "t") == "queued"
    queue.close()


def test_events_put_by_other_processes_while_this_one_claims_are_each_claimed_once(
    tmp_path: Path,
) -> None:
    """Real processes writing the file at once (WAL and the busy timeout serialize
    them): nothing lost, nothing claimed twice."""
    path = tmp_path / "q.sqlite"
    queue = EventQueue(path, window=0)
    context = multiprocessing.get_context("spawn")
    producers = [context.Process(target=_put_many, args=(path, n * 300, 300)) for n in range(2)]
    for producer in producers:
        producer.start()
    claimed: list[Batch] = []
    while any(p.is_alive() for p in producers) or queue.waiting:
        for batch in queue.claim(100):
            claimed.append(batch)
            queue.done(batch, "ok")
    for producer in producers:
        producer.join()
        assert producer.exitcode == 0
    claimed += queue.claim(100)
    assert sum(batch.events for batch in claimed) == 600
    with contextlib.closing(sqlite3.connect(path)) as con:
        batches = con.execute("SELECT COUNT(DISTINCT batch) FROM events").fetchone()
    assert batches == (len(claimed),)
    queue.close()
