"""Targeted runs of several customers at once, a customer found by email only, and a
Paddle webhook end to end into a MariaDB app (issue 16), with real servers."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest

from billdrift.config import load_config
from billdrift.history import open_store
from billdrift.infra.webhook_signatures import sign
from billdrift.usecases.monitoring import monitored_check
from billdrift.usecases.overrides import with_overrides
from billdrift.usecases.targeted import TargetedChecker, TargetedOutcome
from tests.fakes import paddle_fake
from tests.fakes.paddle_fake import FakePaddle
from tests.fakes.stripe_fake import FakeStripe, make_customer, make_subscription
from tests.infra.db.conftest import Database
from tests.listen.harness import ALERT_SECRET, USERS, listening, write_config
from tests.outputs.alerts.receivers import HttpReceiver

PADDLE_SECRET = "pdl_ntfset_listen_test_secret"
DAY = 86_400


def test_one_run_checks_a_batch_each_customer_scoped_and_one_found_by_email_only(
    tmp_path: Path, pg: Database, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cus_A canceled with access still granted; cus_D cancels after the full check
    (its account has no billing link, only the email the provider holds); cus_B pays
    but is blocked (an open finding from the full check, not in the batch); cus_Z is
    unknown to the provider."""
    monkeypatch.setenv("STRIPE_API_KEY", FakeStripe.DEFAULT_KEY)
    monkeypatch.setenv("LISTEN_TEST_ALERT_SECRET", ALERT_SECRET)
    ended = int(time.time()) - DAY
    for name, status in (("A", "canceled"), ("B", "active"), ("D", "active")):
        fake_stripe.store.add_customer(make_customer(f"cus_{name}", f"{name.lower()}@example.com"))
        gone = ended if status == "canceled" else None
        fake_stripe.store.add_subscription(
            make_subscription(f"sub_{name}", f"cus_{name}", status, ended_at=gone, canceled_at=gone)
        )
    pg.run(*USERS)
    for row in (
        ("1", "a@example.com", "cus_A", True),
        ("2", "b@example.com", "cus_B", False),
        ("4", "d@example.com", None, True),
        ("5", "e@example.com", "cus_E", True),  # nobody's business in this run
    ):
        pg.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=row)
    with HttpReceiver(secret=ALERT_SECRET) as hook:
        history = tmp_path / "h.sqlite"
        path = write_config(tmp_path / "b.toml", pg.url, fake_stripe.url, history, hook.url())
        full = with_overrides(load_config(path), billing=("stripe",))
        now = datetime.now(UTC).replace(microsecond=0)
        first = monitored_check(full, now, lambda r, h: None)
        assert "cus_B" in {f.customer_id for f in first.report.findings}
        hook.accepted.clear()
        fake_stripe.store.cancel_subscription("sub_D")
        checker = TargetedChecker(load_config(path), providers=("stripe",))
        try:
            result = checker.check("stripe", ["cus_A", "cus_Z", "cus_D"])
        finally:
            checker.close()
        outcome = result.outcome
        assert isinstance(outcome, TargetedOutcome)
        assert set(result.failed) == {"cus_Z"}  # left out, retried alone; the others ran
        assert isinstance(result.result_for("cus_Z"), Exception)
        assert result.result_for("cus_A") is outcome is result.result_for("cus_D")
        assert outcome.customers == ("cus_A", "cus_D")
        found = {(f.kind.value, f.customer_id, f.account_id) for f in outcome.report.findings}
        assert ("unpaid_but_active", "cus_D", "4") in found  # matched by email alone
        assert {customer for _, customer, _ in found} <= {"cus_A", "cus_D"}
        assert len(hook.accepted) == 1  # one run, one alert naming its new findings
        assert "cus_D" in hook.accepted[0].body.decode()
    with open_store(str(history)) as store:
        runs = store.recent_runs()
        assert [(r.kind, r.customers) for r in runs] == [
            ("full", []),
            ("targeted", ["cus_A", "cus_D"]),
        ]
        still_open = {s.customer_id for s in store.findings_with_status("open")}
    assert "cus_B" in still_open  # outside the batch: untouched


def _paddle_event(ident: str, kind: str, customer: str) -> bytes:
    return orjson.dumps(
        {
            "event_id": ident,
            "event_type": kind,
            "occurred_at": paddle_fake.rfc3339(time.time()),
            "notification_id": f"ntf_{ident}",
            "data": {"id": f"sub_{customer}", "customer_id": customer, "status": "canceled"},
        }
    )


def _paddle_signature(body: bytes, secret: str = PADDLE_SECRET) -> str:
    at = int(time.time())
    return f"ts={at};h1={sign(body, secret, at, b':')}"


def test_a_signed_paddle_webhook_checks_its_customer_in_a_mariadb_app_and_alerts(
    tmp_path: Path, maria: Database, fake_paddle: FakePaddle, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PADDLE_API_KEY", FakePaddle.DEFAULT_KEY)
    monkeypatch.setenv("LISTEN_TEST_ALERT_SECRET", ALERT_SECRET)
    ended = time.time() - DAY
    fake_paddle.store.add_customer(paddle_fake.make_customer("ctm_P1", "p1@example.com"))
    fake_paddle.store.add_subscription(
        paddle_fake.make_subscription("sub_P1", "ctm_P1", "canceled", canceled_at=ended)
    )
    fake_paddle.store.add_customer(paddle_fake.make_customer("ctm_P2", "p2@example.com"))
    fake_paddle.store.add_subscription(paddle_fake.make_subscription("sub_P2", "ctm_P2"))
    maria.run(
        "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, email VARCHAR(255), "
        "paddle_customer_id VARCHAR(64), has_access BOOLEAN NOT NULL)",
        "CREATE INDEX users_customer ON users (paddle_customer_id)",
    )
    for row in (("1", "p1@example.com", "ctm_P1", True), ("2", "p2@example.com", "ctm_P2", True)):
        maria.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=row)
    with HttpReceiver(secret=ALERT_SECRET) as hook:
        config = tmp_path / "paddle.toml"
        config.write_text(
            f"""
[app]
source = "{maria.url}"
table = "users"
access_fields = ["has_access"]
[app.columns]
account_id = "id"
customer_id = "paddle_customer_id"
email = "email"

[billing.paddle]
api_base = "{fake_paddle.url}"

[history]
location = "{tmp_path / "h.sqlite"}"

[alerts]
alert_on = "new"
[alerts.webhook]
url = "{hook.url()}"
secret_env = "LISTEN_TEST_ALERT_SECRET"
""",
            encoding="utf-8",
        )
        secrets = {"paddle": (PADDLE_SECRET,)}
        with listening(config, tmp_path / "q.sqlite", secrets=secrets) as (base, finished):
            body = _paddle_event("evt_P1", "subscription.canceled", "ctm_P1")
            path = "/webhooks/paddle"
            wrong = _paddle_signature(body, "pdl_ntfset_wrong")
            assert _post(base, body, wrong, path).status_code == 400
            assert _post(base, body, _paddle_signature(body), path).status_code == 200
            finished.wait(1)
        [(batch, outcome, _)] = finished.outcomes
        assert isinstance(outcome, TargetedOutcome), outcome
        assert (batch.provider, batch.customer) == ("paddle", "ctm_P1")
        assert [(f.kind.value, f.customer_id) for f in outcome.report.findings] == [
            ("unpaid_but_active", "ctm_P1")
        ]
        assert len(hook.accepted) == 1 and "ctm_P1" in hook.accepted[0].body.decode()
        assert "ctm_P2" not in hook.accepted[0].body.decode()
    assert fake_paddle.stats().requests >= 1


def _post(base: str, body: bytes, signature: str, path: str) -> httpx.Response:
    headers = {"content-type": "application/json", "paddle-signature": signature}
    return httpx.post(base + path, content=body, headers=headers, timeout=10)
