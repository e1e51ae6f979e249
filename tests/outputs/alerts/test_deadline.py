"""A receiver answering one byte a second cannot hold a run: each delivery attempt
ends by ``alerts.timeout_seconds`` (HTTP and SMTP alike), the delivery is reported
failed, and the run it follows keeps its report, its history and its exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billdrift.infra.retry import RetryPolicy
from billdrift.outputs.alerts.email_smtp import EmailSink
from billdrift.outputs.alerts.interface import AlertSink
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink
from tests.fakes.trickle import HEADERS_LENGTH, SMTP_GREETING, TrickleServer
from tests.outputs.alerts.conftest import SECRET, Sleeps
from tests.outputs.alerts.test_email import urgent
from tests.usecases.test_monitoring import _check, _setup

#: Seconds allowed past each attempt's deadline on a loaded machine, timed from the
#: receiver's first connection (a check's own reading and reconciling aside).
SLACK = 3.0
#: How long the receiver holds a connection: what each attempt would take uncut.
HELD = 20.0


def http_sink(kind: str, url: str, sleeps: Sleeps) -> AlertSink:
    retry = RetryPolicy(retries=1, sleep=sleeps)
    if kind == "slack":
        return SlackSink(url, retry=retry, timeout=1.0)
    return WebhookSink(url, SECRET, retry=retry, timeout=1.0)


@pytest.mark.parametrize("kind", ["slack", "webhook"])
@pytest.mark.parametrize("prompt", [0, HEADERS_LENGTH], ids=["headers", "body"])
def test_a_trickling_receiver_fails_each_attempt_at_the_deadline(
    kind: str, prompt: int, sleeps: Sleeps
) -> None:
    with TrickleServer(prompt=prompt, limit=HELD) as server:
        sink = http_sink(kind, server.url("/hook"), sleeps)
        delivery = sink.send(urgent())
        took = server.since_first_connection()
    assert not delivery.ok and delivery.attempts == 2 and server.connections == 2
    assert delivery.error is not None
    assert "no complete response within 1 s" in delivery.error
    assert "alerts.timeout_seconds" in delivery.error
    assert took < 2 * (1.0 + SLACK) < 2 * HELD, took


@pytest.mark.parametrize(
    "reply",
    [SMTP_GREETING, SMTP_GREETING + b"250-smtp.example.test at your service" + b"." * 200],
    ids=["greeting", "ehlo-reply"],
)
def test_a_trickling_smtp_server_fails_the_attempt_at_the_deadline(reply: bytes) -> None:
    prompt = 0 if reply == SMTP_GREETING else len(SMTP_GREETING)
    with TrickleServer(reply, prompt=prompt, read_request=False, limit=HELD) as server:
        sink = EmailSink(
            "127.0.0.1",
            "billdrift@example.com",
            ("ops@example.com",),
            port=server.port,
            starttls=False,
            retry=RetryPolicy(retries=0),
            timeout=1.0,
        )
        delivery = sink.send(urgent())
        took = server.since_first_connection()
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error is not None
    assert "did not finish within 1 s" in delivery.error, delivery.error
    assert took < 1.0 + SLACK < HELD, took


def test_a_check_alerting_a_trickling_webhook_keeps_its_report_history_and_exit_code(
    tmp_path: Path,
) -> None:
    with TrickleServer(limit=HELD) as server:
        config = _setup(tmp_path, server.url("/hook"))
        text = config.read_text("utf-8")
        text = text.replace('alert_on = "new"\n', 'alert_on = "new"\ntimeout_seconds = 1\n')
        config.write_text(text, "utf-8")
        result = _check(tmp_path, config)
        took = server.since_first_connection()
    assert result.exit_code == 1, result.stderr  # the drift decides the code
    assert "alert via webhook: FAILED" in result.stderr
    assert "no complete response within 1 s" in result.stderr
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["verdict"] == "FAIL" and report["findings"]
    assert report["changes"]["new"] == 15  # the run was recorded before alerting
    assert (tmp_path / "history.sqlite").stat().st_size > 0
    # Two tiers, two attempts each (retries = 1, no backoff), one second at most each.
    assert server.connections == 4
    assert took < 4 * (1.0 + SLACK) < 4 * HELD, took
