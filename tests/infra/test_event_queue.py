"""The on-disk webhook queue: duplicates, coalescing window, bounds, restart, retries."""

from __future__ import annotations

from pathlib import Path

from billdrift.infra.event_queue import EventQueue


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
