"""The Slack sink against a local HTTP receiver playing the incoming webhook."""

from __future__ import annotations

from dataclasses import replace

from billdrift.outputs.alerts import compose_alerts, send_all
from billdrift.outputs.alerts.delivery import RetryPolicy
from billdrift.outputs.alerts.interface import Alert
from billdrift.outputs.alerts.slack import SlackSink, slack_payload
from tests.outputs.alerts.conftest import Sleeps
from tests.outputs.alerts.receivers import HttpReceiver, Reply, free_port
from tests.outputs.alerts.samples import (
    ALL,
    ORPHAN,
    PAID_JANE,
    PAID_OPS,
    RAW_EMAILS,
    RAW_IDS,
    UNPAID_BOB,
    many_review_findings,
    report,
)

TOKEN_PATH = "/services/T0AAA0AAA/B0BBB0BBB/s3cr3tT0k3nXXXXXXXXXXXX"
LINK = "https://ci.example.com/billdrift/42/report.html"


def urgent_alert(link: str | None = LINK) -> Alert:
    return compose_alerts(report(), [PAID_JANE], [PAID_OPS], "new", link)[0]


def review_alert() -> Alert:
    extra = many_review_findings(12)
    run = report(*ALL, *extra)
    return compose_alerts(run, [UNPAID_BOB, *extra], [ORPHAN], "new", LINK)[0]


def test_an_urgent_alert_reaches_the_webhook_as_blocks(
    receiver: HttpReceiver, retry: RetryPolicy
) -> None:
    sink = SlackSink(receiver.url(TOKEN_PATH), retry=retry)
    delivery = sink.send(urgent_alert())
    assert delivery.ok and delivery.attempts == 1 and delivery.status == 200
    assert delivery.sink == "slack" and delivery.tier == "urgent"
    (request,) = receiver.requests
    assert request.path == TOKEN_PATH
    assert request.headers["Content-Type"] == "application/json"
    body = request.json()
    assert body["text"].startswith("[billdrift] URGENT: 2 paying customers locked out")
    blocks = body["blocks"]
    types = [b["type"] for b in blocks]
    assert types == ["header", "section", "divider", "section", "section", "context"]
    header = blocks[0]["text"]
    assert header["type"] == "plain_text"
    assert header["text"] == "billdrift URGENT: 2 paying customers locked out"
    summary = blocks[1]["text"]["text"]
    assert "*Verdict:* FAIL" in summary and "2026-11-22T12:00:00Z" in summary
    assert "EUR 19.00, USD 29.00" in summary  # per currency, never summed
    assert "`paid_but_blocked`: 1 new, 1 reopened" in summary
    first, second = (b["text"]["text"] for b in blocks[3:5])
    assert first.startswith("*paid_but_blocked* [high, new]")
    assert "j***@e***.com" in first and "USD 29.00/mo" in first
    assert "*Fix:* Restore access now" in first
    assert "o***@l***" in second and "EUR 19.00/mo" in second
    assert blocks[-1]["elements"][0]["text"] == f"Full report: <{LINK}|open>"


def test_the_payload_holds_no_raw_email_or_id(receiver: HttpReceiver) -> None:
    sink = SlackSink(receiver.url(TOKEN_PATH))
    for alert in compose_alerts(report(), [], [], "all", LINK, mask="all"):
        assert sink.send(alert).ok
    assert len(receiver.requests) == 2
    for request in receiver.requests:
        text = request.body.decode()
        for raw in (*RAW_EMAILS, *RAW_IDS):
            assert raw not in text, raw


def test_a_digest_lists_the_top_findings_and_counts_the_rest() -> None:
    payload = slack_payload(review_alert())
    finding_sections = [b for b in payload["blocks"][3:] if b["type"] == "section"]
    assert len(finding_sections) == 10
    assert finding_sections[0]["text"]["text"].startswith("*unpaid_but_active*")
    assert all("*Fix:*" in s["text"]["text"] for s in finding_sections)
    context = payload["blocks"][-1]["elements"][0]["text"]
    assert context.startswith("…and 4 more in the full report.")
    assert payload["blocks"][0]["text"]["text"].startswith("billdrift REVIEW: 14 findings")


def test_a_file_report_link_and_no_link() -> None:
    with_path = slack_payload(urgent_alert("/var/reports/billdrift.json"))
    assert with_path["blocks"][-1]["elements"][0]["text"].endswith("`/var/reports/billdrift.json`")
    without = slack_payload(urgent_alert(None))
    assert "not published" in without["blocks"][-1]["elements"][0]["text"]


def test_text_is_escaped_for_slack() -> None:
    tricky = replace(PAID_JANE, message="a <b> & <!channel> c", fix="x > y")
    alert = compose_alerts(report(tricky), [tricky], [], "new", None)[0]
    section = slack_payload(alert)["blocks"][3]["text"]["text"]
    assert "a &lt;b&gt; &amp; &lt;!channel&gt; c" in section and "x &gt; y" in section
    assert "<!channel>" not in section


def test_a_500_is_retried_until_it_succeeds(
    receiver: HttpReceiver, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    receiver.script = [Reply(500, b"oops"), Reply(502, b"bad gateway")]
    delivery = SlackSink(receiver.url(TOKEN_PATH), retry=retry).send(urgent_alert())
    assert delivery.ok and delivery.attempts == 3 and delivery.status == 200
    assert len(receiver.requests) == 3
    assert len(sleeps) == 2 and sleeps[1] > 0  # exponential backoff with jitter
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0


def test_a_permanent_failure_is_reported_not_raised_and_hides_the_token(
    receiver: HttpReceiver, sleeps: Sleeps
) -> None:
    receiver.script = [Reply(500, f"upstream {TOKEN_PATH} down".encode())] * 10
    sink = SlackSink(receiver.url(TOKEN_PATH), retry=RetryPolicy(retries=2, sleep=sleeps))
    (delivery,) = send_all([sink], [urgent_alert()])
    assert not delivery.ok and delivery.attempts == 3 and delivery.status == 500
    assert delivery.error is not None and "HTTP 500" in delivery.error
    assert "gave up after 3 attempts" in delivery.error
    assert "s3cr3tT0k3n" not in delivery.error and "s3cr3tT0k3n" not in sink.target
    assert len(receiver.requests) == 3 and len(sleeps) == 2


def test_a_client_error_is_not_retried(receiver: HttpReceiver, retry: RetryPolicy) -> None:
    receiver.script = [Reply(404, b"no_service")]
    delivery = SlackSink(receiver.url(TOKEN_PATH), retry=retry).send(urgent_alert())
    assert not delivery.ok and delivery.attempts == 1
    assert delivery.error == "HTTP 404: no_service"


def test_429_waits_as_long_as_retry_after_says(
    receiver: HttpReceiver, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    receiver.script = [Reply(429, b"rate_limited", {"Retry-After": "7"})]
    delivery = SlackSink(receiver.url(TOKEN_PATH), retry=retry).send(urgent_alert())
    assert delivery.ok and delivery.attempts == 2
    assert sleeps == [7.0]


def test_429_with_a_real_wait(receiver: HttpReceiver) -> None:
    import time

    receiver.script = [Reply(429, b"rate_limited", {"Retry-After": "1"})]
    started = time.monotonic()
    delivery = SlackSink(receiver.url(TOKEN_PATH), retry=RetryPolicy(backoff=0.01)).send(
        urgent_alert()
    )
    assert delivery.ok and time.monotonic() - started >= 1.0


def test_a_retry_after_beyond_the_limit_fails_at_once(
    receiver: HttpReceiver, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    receiver.script = [Reply(429, b"slow down", {"Retry-After": "3600"})]
    delivery = SlackSink(receiver.url(TOKEN_PATH), retry=retry).send(urgent_alert())
    assert not delivery.ok and delivery.attempts == 1 and sleeps == []
    assert delivery.error is not None and "3600 s" in delivery.error


def test_an_unreachable_webhook_is_retried_then_reported(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}{TOKEN_PATH}"
    sink = SlackSink(url, retry=RetryPolicy(retries=2, sleep=sleeps), timeout=2)
    delivery = sink.send(urgent_alert())
    assert not delivery.ok and delivery.attempts == 3 and delivery.status is None
    assert delivery.error is not None and "ConnectError" in delivery.error
    assert "s3cr3tT0k3n" not in delivery.error and "127.0.0.1" not in delivery.error
