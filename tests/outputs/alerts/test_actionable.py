"""What on-call acts on (issue 14): a real run's alert names the account, even an
integer id, the customer, the fingerprint and the customer's dashboard page."""

from __future__ import annotations

from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from billdrift.core.report import SourceInfo
from billdrift.history.fingerprint import fingerprint
from billdrift.infra.retry import RetryPolicy
from billdrift.outputs.alerts import compose_alerts
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink
from billdrift.outputs.links import dashboard_url, mode_of
from tests.builders import account, app, billing, inputs, sub
from tests.outputs.alerts.conftest import SECRET
from tests.outputs.alerts.receivers import HttpReceiver


def run_with_integer_ids():  # type: ignore[no-untyped-def]
    subs = billing(sub("sub_2", "cus_N3x8Q2", email="ann@example.com"), sub("sub_17", "cus_X9"))
    accounts = app(
        account("2", "cus_N3x8Q2", access=False, email="ann@example.com"),
        account("17", "cus_X9", access=False),
    )
    return reconcile(inputs(subs, accounts))


def test_slack_and_webhook_receivers_get_ids_fingerprint_and_link(
    receiver: HttpReceiver, signed_receiver: HttpReceiver, retry: RetryPolicy
) -> None:
    run = run_with_integer_ids()
    (urgent,) = compose_alerts(run, run.findings, [], "new", None)
    assert urgent.tier == "urgent" and urgent.total == 2
    assert SlackSink(receiver.url("/T/B/x"), retry=retry).send(urgent).ok
    assert WebhookSink(signed_receiver.url(), SECRET, retry=retry).send(urgent).ok
    slack_text = receiver.accepted[0].body.decode()
    hook = signed_receiver.accepted[0].json()
    by_account = {f["account_id"]: f for f in hook["findings"]}
    assert set(by_account) == {"2", "17"}
    for account_id, customer_id in (("2", "cus_N3x8Q2"), ("17", "cus_X9")):
        raw = next(f for f in run.findings if f.account_id == account_id)
        item = by_account[account_id]
        link = f"https://dashboard.stripe.com/customers/{customer_id}"
        assert item["customer_id"] == customer_id and item["fingerprint"] == fingerprint(raw)
        assert item["dashboard_url"] == link and item["status"] == "new"
        assert f"for account {account_id})" in item["fix"]
        assert link in slack_text and fingerprint(raw)[:12] in slack_text
        assert f"set has_paid_access for account {account_id})" in slack_text
    assert "ann@example.com" not in slack_text and "a***@e***.com" in slack_text
    assert "Findings:* 2 (2 new)" in slack_text  # a count equal to an id stays a count


def test_dashboard_links_for_stripe_and_paddle_live_and_test() -> None:
    assert dashboard_url("cus_1") == "https://dashboard.stripe.com/customers/cus_1"
    assert dashboard_url("cus_1", "stripe", "test") == (
        "https://dashboard.stripe.com/test/customers/cus_1"
    )
    assert dashboard_url("ctm_01h") == "https://vendors.paddle.com/customers-v2/ctm_01h"
    assert dashboard_url("ctm_01h", "paddle", "test") == (
        "https://sandbox-vendors.paddle.com/customers-v2/ctm_01h"
    )
    assert dashboard_url("42") is None and dashboard_url(None) is None
    api = "stripe API (test mode, restricted key): 3 subscriptions"
    assert mode_of([SourceInfo("billing", api), SourceInfo("app", "app.csv")]) == "test"
    assert mode_of([SourceInfo("billing", "paddle API (live): 1 subscriptions")]) == "live"
    assert mode_of([SourceInfo("billing", "billing.csv")]) is None


def test_ongoing_status_comes_from_the_history_lifecycle() -> None:
    run = run_with_integer_ids()
    paid = [f for f in run.findings if f.kind is Kind.PAID_BUT_BLOCKED]
    status_of = {fingerprint(paid[0]): "ongoing"}
    (urgent,) = compose_alerts(run, [paid[1]], [], "all", None, status_of=status_of)
    assert sorted(f.status for f in urgent.findings) == ["new", "ongoing"]
