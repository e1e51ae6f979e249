"""The SMTP sink against a local aiosmtpd server: message, auth, TLS, retries, failures."""

from __future__ import annotations

import email
import shutil
import ssl
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from billdrift.history.fingerprint import fingerprint
from billdrift.outputs.alerts import compose_alerts, send_all
from billdrift.outputs.alerts.delivery import RetryPolicy
from billdrift.outputs.alerts.email_smtp import EmailSink
from billdrift.outputs.alerts.interface import Alert
from tests.outputs.alerts.conftest import Sleeps
from tests.outputs.alerts.receivers import (
    Authenticator,
    MailHandler,
    free_port,
    self_signed_cert,
    start_smtp,
)
from tests.outputs.alerts.samples import (
    ORPHAN,
    PAID_JANE,
    PAID_OPS,
    RAW_EMAILS,
    RAW_IDS,
    UNPAID_BOB,
    report,
)

LINK = "https://ci.example.com/billdrift/42/report.html"
PASSWORD = "sm7p-pa55word-xyz"
TO = ("ops@example.com", "oncall@example.com")


def urgent() -> Alert:
    return compose_alerts(report(), [PAID_JANE], [PAID_OPS], "new", LINK)[0]


def review() -> Alert:
    return compose_alerts(report(), [UNPAID_BOB], [ORPHAN], "new", LINK)[0]


def sink(port: int, retry: RetryPolicy | None = None, **kwargs: object) -> EmailSink:
    options: dict[str, object] = {"starttls": False, "retry": retry, "timeout": 5.0}
    options.update(kwargs)
    return EmailSink("127.0.0.1", "billdrift@example.com", TO, port=port, **options)  # type: ignore[arg-type]


def parsed(handler: MailHandler, index: int = 0) -> Message:
    content = handler.messages[index].content
    assert isinstance(content, bytes)
    return email.message_from_bytes(content)


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    text = payload.decode(message.get_content_charset() or "utf-8")
    return text.replace("\r\n", "\n")  # SMTP carries CRLF line ends


def test_the_urgent_email_has_a_telling_subject_and_a_plain_body(mail: MailHandler) -> None:
    delivery = sink(mail.port).send(urgent())
    assert delivery.ok and delivery.attempts == 1 and delivery.sink == "email"
    (envelope,) = mail.messages
    assert envelope.mail_from == "billdrift@example.com" and envelope.rcpt_tos == list(TO)
    message = parsed(mail)
    assert message["Subject"] == "[billdrift] URGENT: 2 paying customers locked out"
    assert message["To"] == "ops@example.com, oncall@example.com"
    assert message["X-Billdrift-Tier"] == "urgent"
    assert message.get_content_type() == "text/plain"
    body = body_of(message)
    assert body.startswith("billdrift URGENT: 2 paying customers locked out\n")
    assert "Verdict FAIL, as of 2026-11-22T12:00:00Z." in body
    assert "Monthly amount at stake: EUR 19.00, USD 29.00" in body
    assert "paid_but_blocked: 1 new, 1 reopened" in body
    assert "Findings: 2 (1 new, 1 reopened)" in body
    assert "[high] paid_but_blocked (new), USD 29.00/mo\n" in body
    assert "    acct_7f3a99c1d2 · cus_N3x8Q2abc · sub_1Pq7Zz9xyz · j***@e***.com\n" in body
    assert f"    fingerprint: {fingerprint(PAID_JANE)[:12]}\n" in body
    assert "    dashboard: https://dashboard.stripe.com/customers/cus_N3x8Q2abc\n" in body
    assert "[high] paid_but_blocked (reopened), EUR 19.00/mo\n" in body
    assert "o***@l***" in body
    assert "fix: Restore access now" in body
    assert f"Full report: {LINK}" in body
    assert max(len(line) for line in body.splitlines()) <= 78


def test_no_raw_email_or_id_in_the_message(mail: MailHandler) -> None:
    for alert in compose_alerts(report(), [], [], "all", "/var/reports/run.json", mask="all"):
        assert sink(mail.port).send(alert).ok
    assert len(mail.messages) == 2
    review_message = parsed(mail, 1)
    assert review_message["Subject"].startswith("[billdrift] REVIEW: 3 findings to review")
    for envelope in mail.messages:
        content = envelope.content
        assert isinstance(content, bytes)
        for raw in (*RAW_EMAILS, *RAW_IDS):
            assert raw.encode() not in content, raw
    assert "Full report: /var/reports/run.json" in body_of(review_message)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
def test_login_with_the_password_from_the_environment() -> None:
    handler = MailHandler()
    controller = start_smtp(
        handler,
        authenticator=Authenticator("billdrift", PASSWORD),
        auth_require_tls=False,
        auth_required=True,
    )
    try:
        good = sink(controller.port, username="billdrift", password=PASSWORD).send(review())
        assert good.ok and len(handler.messages) == 1
        bad = sink(controller.port, username="billdrift", password="wrong-" + PASSWORD).send(
            review()
        )
    finally:
        controller.stop()
    assert not bad.ok and bad.attempts == 1 and bad.status == 535
    assert bad.error is not None and bad.error.startswith("SMTP 535 (AuthenticationError)")
    assert PASSWORD not in bad.error


def test_a_temporary_refusal_is_retried(mail: MailHandler, sleeps: Sleeps) -> None:
    mail.data_replies = ["451 4.3.0 try again later"]
    delivery = sink(mail.port, RetryPolicy(retries=3, sleep=sleeps)).send(urgent())
    assert delivery.ok and delivery.attempts == 2 and len(sleeps) == 1
    assert mail.data_attempts == 2 and len(mail.messages) == 1


def test_refused_recipients_fail_at_once(mail: MailHandler, sleeps: Sleeps) -> None:
    mail.refuse_recipients = True
    (delivery,) = send_all([sink(mail.port, RetryPolicy(sleep=sleeps))], [urgent()])
    assert not delivery.ok and delivery.attempts == 1 and sleeps == []
    assert delivery.error == "every recipient was refused (SMTP 550, 550)"


def test_an_unreachable_server_is_retried_then_reported(sleeps: Sleeps) -> None:
    delivery = sink(free_port(), RetryPolicy(retries=2, sleep=sleeps), password=PASSWORD).send(
        urgent()
    )
    assert not delivery.ok and delivery.attempts == 3 and len(sleeps) == 2
    assert delivery.error is not None and "ConnectionRefusedError" in delivery.error
    assert PASSWORD not in delivery.error


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    return self_signed_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls(certificate: tuple[Path, Path]) -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    yield server, client


def test_starttls_then_login(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    handler = MailHandler()
    controller = start_smtp(
        handler,
        tls_context=server_context,
        require_starttls=True,
        authenticator=Authenticator("billdrift", PASSWORD),
        auth_required=True,
    )
    try:
        delivery = sink(
            controller.port,
            starttls=True,
            username="billdrift",
            password=PASSWORD,
            ssl_context=client_context,
        ).send(urgent())
        untrusted = sink(controller.port, starttls=True, retry=RetryPolicy(retries=0)).send(
            urgent()
        )
    finally:
        controller.stop()
    assert delivery.ok and len(handler.messages) == 1
    assert not untrusted.ok and untrusted.attempts == 1
    assert untrusted.error is not None and untrusted.error.startswith("TLS certificate not trusted")


def test_implicit_tls(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server_context, client_context = tls
    handler = MailHandler()
    controller = Controller(
        handler, hostname="127.0.0.1", port=free_port(), ssl_context=server_context
    )
    controller.start()
    try:
        delivery = sink(
            controller.port, starttls=False, use_ssl=True, ssl_context=client_context
        ).send(review())
    finally:
        controller.stop()
    assert delivery.ok and len(handler.messages) == 1
    assert (
        parsed(handler)["Subject"] == "[billdrift] REVIEW: 2 findings to review (1 new, 1 reopened)"
    )
