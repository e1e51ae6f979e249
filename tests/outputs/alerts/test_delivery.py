"""send_all: never raises, never leaks a secret, respects each sink's tiers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Self

from billdrift.outputs.alerts import compose_alerts, delivery_lines, send_all
from billdrift.outputs.alerts.delivery import Attempt, RetryPolicy, deliver, retry_after
from billdrift.outputs.alerts.interface import Alert, AlertSink, Delivery
from billdrift.outputs.alerts.settings import AlertSettings, Tier
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink
from tests.outputs.alerts.conftest import SECRET, Sleeps
from tests.outputs.alerts.receivers import HttpReceiver, Reply
from tests.outputs.alerts.samples import PAID_JANE, UNPAID_BOB, report

TOKEN = "xoxb-very-secret-token"


class Exploding(AlertSink):
    """A buggy sink: raises with its secret in the message."""

    name = "exploding"

    def __init__(self, tiers: tuple[Tier, ...] = ("urgent", "review")) -> None:
        self.tiers = tiers
        self.sent: list[Alert] = []

    @classmethod
    def from_settings(cls, settings: AlertSettings, environ: Mapping[str, str]) -> Self:
        return cls()

    def secrets(self) -> tuple[str, ...]:
        return (TOKEN,)

    def send(self, alert: Alert) -> Delivery:
        self.sent.append(alert)
        raise RuntimeError(f"could not reach https://example.com/{TOKEN}")


def both() -> list[Alert]:
    return compose_alerts(report(), [PAID_JANE, UNPAID_BOB], [], "new", None)


def test_a_raising_sink_does_not_stop_the_others(
    receiver: HttpReceiver, retry: RetryPolicy
) -> None:
    sinks: list[AlertSink] = [Exploding(), SlackSink(receiver.url(), retry=retry)]
    deliveries = send_all(sinks, both())
    assert [(d.sink, d.tier, d.ok) for d in deliveries] == [
        ("exploding", "urgent", False),
        ("slack", "urgent", True),
        ("exploding", "review", False),
        ("slack", "review", True),
    ]
    failed = deliveries[0]
    assert failed.error == "unexpected RuntimeError: could not reach https://example.com/***"
    assert len(receiver.requests) == 2


def test_a_sink_gets_only_its_tiers(receiver: HttpReceiver) -> None:
    paging = WebhookSink(receiver.url(), SECRET, tiers=("urgent",))
    deliveries = send_all([paging], both())
    assert [d.tier for d in deliveries] == ["urgent"]
    assert [r.json()["tier"] for r in receiver.requests] == ["urgent"]


def test_nothing_to_send_sends_nothing(receiver: HttpReceiver) -> None:
    assert send_all([SlackSink(receiver.url())], []) == []
    assert send_all([], both()) == []
    assert receiver.requests == []


def test_a_raising_attempt_is_a_final_failure_with_the_secret_scrubbed(sleeps: Sleeps) -> None:
    def attempt() -> Attempt:
        raise ValueError(f"bad {TOKEN}")

    delivery = deliver(Exploding(), both()[0], attempt, RetryPolicy(sleep=sleeps))
    assert delivery == Delivery(
        "exploding", False, 1, None, "unexpected ValueError: bad ***", "urgent"
    )
    assert sleeps == []


def test_retries_are_bounded(sleeps: Sleeps) -> None:
    calls = []

    def attempt() -> Attempt:
        calls.append(1)
        return Attempt(ok=False, error="HTTP 503", status=503, retryable=True)

    delivery = deliver(Exploding(), both()[0], attempt, RetryPolicy(retries=0, sleep=sleeps))
    assert not delivery.ok and delivery.attempts == 1 and len(calls) == 1
    delivery = deliver(Exploding(), both()[0], attempt, RetryPolicy(retries=4, sleep=sleeps))
    assert delivery.attempts == 5 and len(sleeps) == 4
    assert delivery.error == "HTTP 503 (gave up after 5 attempts)"


def test_retry_after_reads_seconds_and_dates() -> None:
    now = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert retry_after("3") == 3.0
    assert retry_after("1.5") == 1.5
    assert retry_after("-4") == 0.0
    assert retry_after("Sun, 22 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert retry_after("Sun, 22 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert retry_after("soon") is None
    assert retry_after(None) is None and retry_after(" ") is None


def test_delivery_lines_say_what_was_sent(receiver: HttpReceiver, sleeps: Sleeps) -> None:
    receiver.script = [Reply(500, b"down")] * 2
    sink = SlackSink(receiver.url(), retry=RetryPolicy(retries=1, sleep=sleeps))
    lines = delivery_lines(send_all([sink], both()))
    assert lines == [
        "alert urgent: NOT sent to slack (2 attempts): HTTP 500: down (gave up after 2 attempts)",
        "alert review: sent to slack (1 attempt)",
    ]
