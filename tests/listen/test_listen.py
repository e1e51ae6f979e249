"""`billdrift listen` end to end: real HTTP requests on 127.0.0.1, a fake Stripe API,
a real PostgreSQL app database, the history store and a real alert receiver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from billdrift.config import load_config
from billdrift.history import open_store
from billdrift.infra.event_queue import EventQueue
from billdrift.usecases.monitoring import monitored_check
from billdrift.usecases.overrides import with_overrides
from billdrift.usecases.targeted import TargetedOutcome
from tests.dbservers import free_port
from tests.fakes.stripe_fake import FakeStripe, make_customer, make_subscription
from tests.infra.db.conftest import Database
from tests.listen.harness import (
    ALERT_SECRET,
    USERS,
    listening,
    post,
    stripe_event,
    stripe_signature,
    write_config,
)
from tests.outputs.alerts.receivers import HttpReceiver

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def world(
    tmp_path: Path, pg: Database, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, Database, FakeStripe, HttpReceiver]]:
    """cus_A canceled but still has access; cus_B pays but is blocked; cus_C in sync;
    a first full check recorded A's and B's findings as open."""
    monkeypatch.setenv("STRIPE_API_KEY", FakeStripe.DEFAULT_KEY)
    monkeypatch.setenv("LISTEN_TEST_ALERT_SECRET", ALERT_SECRET)
    store = fake_stripe.store
    for name, status in (("A", "canceled"), ("B", "active"), ("C", "active")):
        store.add_customer(make_customer(f"cus_{name}", f"{name.lower()}@example.com"))
        ended = int(time.time()) - 86_400 if status == "canceled" else None
        store.add_subscription(
            make_subscription(
                f"sub_{name}", f"cus_{name}", status, ended_at=ended, canceled_at=ended
            )
        )
    pg.run(*USERS)
    for ident, customer, access in (("1", "A", True), ("2", "B", False), ("3", "C", True)):
        pg.run(
            "INSERT INTO users VALUES (%s, %s, %s, %s)",
            params=(ident, f"{customer.lower()}@example.com", f"cus_{customer}", access),
        )
    with HttpReceiver(secret=ALERT_SECRET) as hook:
        config = write_config(
            tmp_path / "billdrift.toml", pg.url, fake_stripe.url, tmp_path / "h.sqlite", hook.url()
        )
        full = with_overrides(load_config(config), billing=("stripe",))
        outcome = monitored_check(full, datetime.now(UTC).replace(microsecond=0), lambda r, h: None)
        assert {f.customer_id for f in outcome.report.findings} == {"cus_A", "cus_B"}
        hook.requests.clear()
        hook.accepted.clear()
        yield config, pg, fake_stripe, hook


def _open_customers(history: Path) -> set[str | None]:
    store = open_store(history)
    try:
        return {state.customer_id for state in store.findings_with_status("open")}
    finally:
        store.close()


def test_signed_events_trigger_targeted_checks_that_resolve_and_alert_only_their_customer(
    world: tuple[Path, Database, FakeStripe, HttpReceiver], tmp_path: Path
) -> None:
    config, pg, fake, hook = world
    pg.run("UPDATE users SET has_access = false WHERE id = '1'")  # A fixed in the app
    with listening(config, tmp_path / "queue.sqlite") as (base, finished):
        body = stripe_event("evt_A1", "customer.subscription.deleted", "cus_A")
        assert post(base, body, stripe_signature(body)).status_code == 200
        assert post(base, body, stripe_signature(body)).text == "duplicate"
        assert post(base, body, stripe_signature(body, secret="whsec_wrong")).status_code == 400
        assert (
            post(base, body, stripe_signature(body, at=int(time.time()) - 301)).status_code == 400
        )
        assert post(base, body, None).status_code == 400
        other = stripe_event("evt_X", "charge.succeeded", "cus_B")
        answer = post(base, other, stripe_signature(other))
        assert (answer.status_code, answer.text.startswith("ignored")) == (200, True)
        finished.wait(1)
        [(batch, outcome, _)] = finished.outcomes
        assert isinstance(outcome, TargetedOutcome) and batch.customer == "cus_A"
        assert outcome.report.findings == ()  # A is in sync now
        assert [item.customer_id for item in outcome.lifecycle.resolved] == ["cus_A"]  # type: ignore[union-attr]
        assert outcome.deliveries == ()  # nothing new: no alert

        fake.store.cancel_subscription("sub_C")  # C cancels; the app still grants access
        body = stripe_event("evt_C1", "customer.subscription.deleted", "cus_C")
        assert post(base, body, stripe_signature(body)).status_code == 200
        finished.wait(2)
    outcome = finished.outcomes[1][1]
    assert isinstance(outcome, TargetedOutcome)
    assert [(f.kind.value, f.customer_id) for f in outcome.report.findings] == [
        ("unpaid_but_active", "cus_C")
    ]
    assert [f.customer_id for f in outcome.lifecycle.new] == ["cus_C"]  # type: ignore[union-attr]
    assert len(hook.accepted) == 1 and "cus_C" in hook.accepted[0].body.decode()
    # B was never looked at by these targeted runs: still open; A resolved; C new.
    assert _open_customers(tmp_path / "h.sqlite") == {"cus_B", "cus_C"}
    assert fake.stats().by_path.get("/v1/subscriptions", 0) >= 2


def test_events_queued_at_a_stop_are_checked_after_a_restart(
    world: tuple[Path, Database, FakeStripe, HttpReceiver], tmp_path: Path
) -> None:
    config, _, _, _ = world
    queue = tmp_path / "queue.sqlite"
    with listening(config, queue, window=3600) as (base, finished):  # nothing comes due
        for n in range(3):
            body = stripe_event(f"evt_{n}", "customer.updated", "cus_B")
            assert post(base, body, stripe_signature(body)).status_code == 200
    assert finished.outcomes == []
    waiting = EventQueue(queue)
    assert waiting.waiting == 3
    waiting.close()
    with listening(config, queue, window=0) as (_, finished):
        finished.wait(1)
    [(batch, outcome, _)] = finished.outcomes
    assert (batch.customer, batch.events) == ("cus_B", 3)  # three events, one check
    assert isinstance(outcome, TargetedOutcome)
    assert [f.customer_id for f in outcome.report.findings] == ["cus_B"]


def _listen_process(config: Path, port: int, queue: Path, *more: str) -> subprocess.Popen[str]:
    """`billdrift listen` as a real process, once it says it is accepting."""
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "STRIPE_WEBHOOK_SECRET": "whsec_listen_test_secret",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "billdrift",
            "listen",
            "--config",
            str(config),
            "--port",
            str(port),
            "--queue",
            str(queue),
            "--window",
            "3600",
            *more,
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    if "accepting" not in line:
        process.kill()
    assert "accepting" in line, line
    return process


def _receivers_of(process: subprocess.Popen[str]) -> list[psutil.Process]:
    """The listener's receiving processes (its spawned children but multiprocessing's
    resource tracker)."""
    return [
        child
        for child in psutil.Process(process.pid).children()
        if "spawn_main" in " ".join(child.cmdline())
    ]


def test_sigterm_stops_a_real_process_cleanly_and_keeps_what_it_acknowledged(
    world: tuple[Path, Database, FakeStripe, HttpReceiver], tmp_path: Path
) -> None:
    config, _, _, _ = world
    port = free_port()
    queue = tmp_path / "queue.sqlite"
    process = _listen_process(config, port, queue)
    try:
        [receiver] = _receivers_of(process)  # receiving runs apart from the checks
        body = stripe_event("evt_term", "customer.subscription.updated", "cus_A")
        assert post(f"http://127.0.0.1:{port}", body, stripe_signature(body)).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert not receiver.is_running()  # both processes stopped
    finally:
        if process.poll() is None:
            process.kill()
    kept = EventQueue(queue)
    assert kept.waiting == 1
    kept.close()


def test_a_listener_whose_receiving_process_dies_stops_and_says_so(
    world: tuple[Path, Database, FakeStripe, HttpReceiver], tmp_path: Path
) -> None:
    config, _, _, _ = world
    process = _listen_process(config, free_port(), tmp_path / "queue.sqlite")
    try:
        [receiver] = _receivers_of(process)
        receiver.kill()
        assert process.wait(30) == 2  # not a listener that looks alive but cannot receive
        assert process.stderr is not None
        assert "a receiving process ended" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()


def test_several_receiving_processes_share_the_port_and_stop_together(
    world: tuple[Path, Database, FakeStripe, HttpReceiver], tmp_path: Path
) -> None:
    config, _, _, _ = world
    port = free_port()
    queue = tmp_path / "queue.sqlite"
    process = _listen_process(config, port, queue, "--receivers", "3")
    try:
        receivers = _receivers_of(process)
        assert len(receivers) == 3
        for n in range(30):  # one connection each: the kernel spreads them
            body = stripe_event(f"evt_{n}", "customer.updated", f"cus_{n % 3}")
            assert post(f"http://127.0.0.1:{port}", body, stripe_signature(body)).status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(30) == 0
        assert not any(receiver.is_running() for receiver in receivers)
    finally:
        if process.poll() is None:
            process.kill()
    kept = EventQueue(queue)
    assert kept.waiting == 30
    kept.close()
