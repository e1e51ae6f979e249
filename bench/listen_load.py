"""Load test of `billdrift listen` on loopback (issue 16).

Bursts of signed Stripe webhooks for hundreds of customers, sent by client threads in
sender processes of their own to the listener on 127.0.0.1, which checks each
customer against a fake Stripe API that enforces Stripe's test-mode limits (25
requests/s for the account and per endpoint) and a real PostgreSQL app database
(the customers' accounts among many others, so a table scan would show). Half the customers drift (a
canceled subscription, access still granted), so their checks alert through a
real signed-webhook receiver.

What it checks, and fails on:

* no lost and no doubled checks: every accepted event is covered by exactly one
  finished check, and no check of a customer missed an event that was already
  waiting when the customer's previous check was claimed (coalescing worked: a
  customer is checked again only for events that arrived after its last claim;
  a burst that outlasts the window may rightly give a customer two checks);
* the provider's rate limits were never exceeded (the fake counts what it admits
  per second, for the account and per endpoint) and no request met a 429;
* the queue and memory stay bounded (most events waiting at once, peak RSS).

Figures: events/s accepted (answered 2xx), checks/s (a check is one customer's
coalesced events; the listener runs up to ``--batch`` of them in one targeted
run, also counted), and p50/p99 time from an event's receipt to the end of the
check that covered it (alerts are sent before a check ends). Processes: the
listener's receiving process (its own), the senders (``--senders`` processes of
``--sender-threads`` threads), and this process, which runs the listener's checks
with the fake API and the alert receiver; all share the machine's cores with
PostgreSQL, so the figures are a floor. Peak RSS is sampled per process.

    python bench/listen_load.py                     # 500 customers, 3 bursts of 1,667
    python bench/listen_load.py --customers 50 --events 500 --bursts 1   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes.stripe_fake import FakeStripe, make_customer, make_subscription  # noqa: E402
from tests.listen.harness import (  # noqa: E402
    ALERT_SECRET,
    USERS,
    listening,
    stripe_event,
    stripe_signature,
    write_config,
)
from tests.outputs.alerts.receivers import HttpReceiver  # noqa: E402

KINDS = (
    "customer.subscription.updated",
    "customer.updated",
    "invoice.payment_failed",
    "customer.subscription.deleted",
)


def seed_app(url: str, customers: int, others: int) -> None:
    """The users table: one account per customer, plus `others` unrelated accounts."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        for statement in USERS:
            con.execute(statement)
        with con.cursor().copy("COPY users FROM STDIN") as copy:
            for n in range(customers):
                copy.write_row((f"u{n}", f"c{n}@example.com", f"cus_L{n:05d}", True))
            for n in range(others):
                copy.write_row((f"o{n}", f"o{n}@example.org", f"cus_O{n:07d}", n % 2 == 0))
        con.execute("ANALYZE users")


def seed_stripe(fake: FakeStripe, customers: int) -> None:
    now = int(time.time())
    for n in range(customers):
        ident = f"cus_L{n:05d}"
        fake.store.add_customer(make_customer(ident, f"c{n}@example.com"))
        drift = n % 2 == 1  # canceled, yet the app grants access: alerted
        ended = now - 86_400 if drift else None
        status = "canceled" if drift else "active"
        fake.store.add_subscription(
            make_subscription(f"sub_L{n:05d}", ident, status, ended_at=ended, canceled_at=ended)
        )


def send_burst(
    pool: ProcessPoolExecutor,
    base: str,
    burst: int,
    events: int,
    customers: int,
    senders: int,
    rng: random.Random,
) -> tuple[list[int], float, Counter[str]]:
    """`events` signed events for random customers, shared out among the sender
    processes; returns statuses, seconds taken, and the customers touched (with how
    many events each)."""
    plan = [(f"evt_b{burst}_{n}", f"cus_L{rng.randrange(customers):05d}") for n in range(events)]
    touched = Counter(customer for _, customer in plan)
    bodies = [
        stripe_event(ident, KINDS[n % len(KINDS)], customer)
        for n, (ident, customer) in enumerate(plan)
    ]
    shares = [bodies[n::senders] for n in range(senders)]
    started = time.perf_counter()
    answered = list(pool.map(_send, [base] * senders, shares))
    took = time.perf_counter() - started
    statuses = [0] * events
    for n, share in enumerate(answered):
        statuses[n::senders] = share
    return statuses, took, touched


#: Threads in each sender process (set by run() through the pool's initializer).
_THREADS = 2


def _sender_started(threads: int) -> None:
    global _THREADS
    _THREADS = threads


def _send(base: str, bodies: list[bytes]) -> list[int]:
    """In a sender process: post `bodies` signed, from _THREADS threads; the statuses."""
    statuses = [0] * len(bodies)

    def send(share: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            for n in range(share, len(bodies), _THREADS):
                body = bodies[n]
                response = client.post(
                    "/webhooks/stripe",
                    content=body,
                    headers={"stripe-signature": stripe_signature(body)},
                )
                statuses[n] = response.status_code

    with ThreadPoolExecutor(_THREADS) as threads:
        list(threads.map(send, range(_THREADS)))
    return statuses


def _cpu(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds (user + system) used so far, by role."""
    found = {}
    for role, ids in pids.items():
        total = 0.0
        for pid in ids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        found[role] = total
    return found


def _rss(pids: dict[str, list[int]]) -> dict[str, int]:
    """Resident memory by role (the sum over a role's processes; 0 once gone)."""
    found = {}
    for role, ids in pids.items():
        total = 0
        for pid in ids:
            with contextlib.suppress(psutil.Error):
                total += psutil.Process(pid).memory_info().rss
        found[role] = total
    return found


def run(
    app_url: str,
    *,
    customers: int = 500,
    events: int = 1_667,
    bursts: int = 3,
    window: float = 8.0,
    others: int = 100_000,
    senders: int = 4,
    sender_threads: int = 2,
    receivers: int = 1,
    threads: int = 4,
    batch: int = 50,
    seed: int = 42,
    work: Path | None = None,
    timeout: float = 1_800,
) -> dict[str, Any]:
    """One load run against the app database at `app_url`; the figures and checks."""
    rng = random.Random(seed)
    seed_app(app_url, customers, others)
    work = work or Path(tempfile.mkdtemp(prefix="listen-load-"))
    process = psutil.Process()
    os.environ["STRIPE_API_KEY"] = FakeStripe.DEFAULT_KEY
    os.environ["LISTEN_TEST_ALERT_SECRET"] = ALERT_SECRET
    with FakeStripe.with_stripe_limits(live=False) as fake, HttpReceiver(ALERT_SECRET) as hook:
        seed_stripe(fake, customers)
        config = write_config(
            work / "billdrift.toml", app_url, fake.url, work / "history.sqlite", hook.url()
        )
        queue_path = work / "queue.sqlite"
        peak = {"waiting": 0}
        baseline = process.memory_info().rss
        with (
            listening(
                config,
                queue_path,
                window=window,
                threads=threads,
                batch=batch,
                receivers=receivers,
            ) as (
                base,
                finished,
            ),
            ProcessPoolExecutor(
                senders,
                mp_context=get_context("spawn"),
                initializer=_sender_started,
                initargs=(sender_threads,),
            ) as pool,
        ):
            # Start the sender processes before the clock does.
            list(pool.map(_send, [base] * senders, [[]] * senders))
            assert finished.receivers
            pids = {
                "checks": [process.pid],
                "receiver": list(finished.receivers),
                "senders": [p.pid for p in pool._processes.values() if p.pid is not None],
            }
            peak_rss = _rss(pids)
            cpu_before = _cpu(pids)
            stop = threading.Event()

            def sample() -> None:
                while not stop.wait(0.1):
                    for role, rss in _rss(pids).items():
                        peak_rss[role] = max(peak_rss[role], rss)
                    health = httpx.get(base + "/healthz", timeout=10).json()
                    peak["waiting"] = max(peak["waiting"], health["waiting"])

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            accepted_seconds = 0.0
            expected_checks: Counter[str] = Counter()
            all_statuses: list[int] = []
            checks_started = time.perf_counter()
            for burst in range(bursts):
                statuses, took, touched = send_burst(
                    pool, base, burst, events, customers, senders, rng
                )
                accepted_seconds += took
                all_statuses += statuses
                expected_checks.update(touched.keys())
                _drained(base, timeout)
            checks_seconds = time.perf_counter() - checks_started
            cpu = {role: after - cpu_before[role] for role, after in _cpu(pids).items()}
            stop.set()
            sampler.join()
        stats = fake.stats()
    return _verify(
        queue_path,
        finished.outcomes,
        expected_checks,
        all_statuses,
        figures={
            "customers": customers,
            "events": events * bursts,
            "bursts": bursts,
            "window_s": window,
            "other_accounts": others,
            "events_per_s_accepted": round(len(all_statuses) / accepted_seconds, 1),
            "checks": len(finished.outcomes),
            "checks_per_s": round(len(finished.outcomes) / checks_seconds, 2),
            "customer_bursts": sum(expected_checks.values()),
            "runs": len({id(result) for _, result, _ in finished.outcomes}),
            "batch": batch,
            "alerts_received": len(hook.accepted),
            "senders": f"{senders} processes x {sender_threads} threads",
            "receivers": receivers,
            "peak_rss_mb": {role: round(rss / 2**20, 1) for role, rss in peak_rss.items()},
            "checks_rss_growth_mb": round((peak_rss["checks"] - baseline) / 2**20, 1),
            # CPU seconds each process used over the bursts (load-independent, unlike
            # the rates): the receiver's per accepted event is what receiving costs.
            "cpu_s": {role: round(seconds, 1) for role, seconds in cpu.items()},
            "receiver_cpu_ms_per_event": round(1000 * cpu["receiver"] / (events * bursts), 2),
            "peak_waiting_events": peak["waiting"],
            "api_requests": stats.requests,
            "api_429s": stats.by_status.get(429, 0),
            "api_max_per_s": stats.max_admitted_per_second,
            "api_max_per_s_by_endpoint": stats.max_admitted_per_second_by_endpoint,
        },
    )


def _drained(base: str, timeout: float) -> None:
    """Wait until no event waits and no check runs (every accepted event checked)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        health = httpx.get(base + "/healthz", timeout=30).json()
        if health["waiting"] == 0 and health["running"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError(f"events still waiting or checked after {timeout:g} s: {health}")


def _verify(
    queue_path: Path,
    outcomes: list[Any],
    expected: Counter[str],
    statuses: list[int],
    figures: dict[str, Any],
) -> dict[str, Any]:
    with sqlite3.connect(queue_path) as con:
        rows = con.execute(
            "SELECT e.received_at, b.ended_at, b.outcome FROM events e "
            "LEFT JOIN batches b ON b.id = e.batch"
        ).fetchall()
        claims = con.execute(
            "SELECT provider, customer, claimed_at, first_received FROM batches "
            "ORDER BY provider, customer, id"
        ).fetchall()
    con.close()
    # A check of a customer is doubled when it covers an event that was already
    # waiting when that customer's previous check was claimed (that claim took every
    # waiting event of the customer, so coalescing failed).
    doubled = sum(
        1
        for before, after in itertools.pairwise(claims)
        if before[:2] == after[:2] and after[3] < before[2]
    )
    latencies = sorted(ended - received for received, ended, _ in rows if ended is not None)
    problems = []
    if any(status != 200 for status in statuses):
        problems.append(f"answers other than 200: {Counter(statuses)}")
    if len(rows) != len(statuses):
        problems.append(f"{len(statuses)} events sent, {len(rows)} stored")
    lost = [row for row in rows if row[1] is None or not str(row[2]).startswith("ok")]
    if lost:
        problems.append(f"{len(lost)} events not covered by a finished check")
    if doubled:
        problems.append(f"{doubled} checks covered events an earlier check should have")
    if len(outcomes) != len(claims):
        problems.append(f"{len(outcomes)} checks finished, {len(claims)} claimed")
    if len(claims) < sum(expected.values()):
        problems.append(f"{len(claims)} checks for {sum(expected.values())} customer bursts")
    if figures["api_429s"] or figures["api_max_per_s"] > 25:
        problems.append("the provider's rate limit was exceeded")
    if any(v > 25 for v in figures["api_max_per_s_by_endpoint"].values()):
        problems.append("an endpoint's rate limit was exceeded")
    return {
        **figures,
        "event_to_alert_p50_s": round(statistics.median(latencies), 2) if latencies else None,
        "event_to_alert_p99_s": round(latencies[int(len(latencies) * 0.99) - 1], 2)
        if latencies
        else None,
        "problems": problems,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=500)
    parser.add_argument("--events", type=int, default=1_667, help="events per burst")
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--window", type=float, default=8.0)
    parser.add_argument("--others", type=int, default=100_000, help="unrelated app accounts")
    parser.add_argument("--threads", type=int, default=4, help="the listener's check threads")
    parser.add_argument("--senders", type=int, default=4, help="sender processes")
    parser.add_argument("--sender-threads", type=int, default=2, help="threads per sender")
    parser.add_argument("--receivers", type=int, default=1, help="the listener's receivers")
    parser.add_argument("--batch", type=int, default=50, help="most customers per run")
    parser.add_argument("--timeout", type=float, default=1_800, help="seconds per burst")
    args = parser.parse_args(argv)
    from tests.dbservers import PostgresServer

    server = PostgresServer()
    try:
        result = run(
            server.url,
            customers=args.customers,
            events=args.events,
            bursts=args.bursts,
            window=args.window,
            others=args.others,
            threads=args.threads,
            senders=args.senders,
            sender_threads=args.sender_threads,
            receivers=args.receivers,
            batch=args.batch,
            timeout=args.timeout,
        )
    finally:
        server.stop()
    print(json.dumps(result, indent=2))
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
