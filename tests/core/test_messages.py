"""A finding's message quotes the data it names exactly as read (issue 19).

``str.capitalize()`` once started the missing_billing_link message and lower-cased
the rest of it: an account id ``=HYPERLINK(...)`` was printed ``=hyperlink(...)``.
Every kind is produced here from mixed-case ids, and each message must carry
them as they were.
"""

from __future__ import annotations

from datetime import timedelta

from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from billdrift.core.rules.wording import Capital, text, to_text
from tests.builders import NOW, account, app, billing, inputs, sub

ODD = '=HYPERLINK("HTTP://Evil.Example/X","Ab")'


def test_missing_billing_link_quotes_the_account_id_as_read() -> None:
    linked = account("a1", "cus_1")
    report = reconcile(inputs(billing(sub("sub_1", "cus_1")), app(linked, account(ODD, None))))
    (finding,) = report.findings
    assert finding.kind is Kind.MISSING_BILLING_LINK
    assert finding.message.startswith(f"The app grants access to account {ODD} (")


def test_every_kind_quotes_mixed_case_ids_verbatim() -> None:
    later = (NOW + timedelta(days=20)).isoformat()
    subs = [
        sub("sub_Blocked", "cus_Blocked"),  # paid_but_blocked
        sub("sub_Ended", "cus_Ended", "canceled"),  # unpaid_but_active
        sub("sub_Orphan", "cus_Orphan", current_period_end=later),  # orphaned_subscription
        sub("sub_Shared", "cus_Shared"),  # duplicate_customer
        sub("sub_Plan", "cus_Plan", price="price_Team"),  # plan_drift
    ]
    accounts = [
        account("Acct_Blocked", "cus_Blocked", access=False),
        account("Acct_Ended", "cus_Ended", access=True),
        account("Acct_NoLink", None, access=True),  # missing_billing_link
        account("Acct_Stale", "cus_GoneAway", access=True),  # stale_billing_link
        account("Acct_SharedOne", "cus_Shared", access=True),
        account("Acct_SharedTwo", "cus_Shared", access=True),
        account("Acct_Plan", "cus_Plan", access=True, plan="Pro"),
    ]
    config = {"plans": {"price_Team": "team"}}
    report = reconcile(inputs(billing(*subs), app(*accounts), config))
    kinds = {finding.kind for finding in report.findings}
    assert {
        Kind.PAID_BUT_BLOCKED,
        Kind.UNPAID_BUT_ACTIVE,
        Kind.MISSING_BILLING_LINK,
        Kind.STALE_BILLING_LINK,
        Kind.ORPHANED_SUBSCRIPTION,
        Kind.DUPLICATE_CUSTOMER,
        Kind.PLAN_DRIFT,
    } <= kinds
    for finding in report.findings:
        named = [finding.account_id, finding.customer_id, finding.subscription_id]
        quoted = [value for value in named if value and value.lower() in finding.message.lower()]
        assert quoted, finding  # every message names something it is about
        for value in quoted:
            assert value in finding.message, (finding.kind, value, finding.message)


def _capital(value: str | None) -> str:
    return to_text((Capital(text("v")),), {"v": value})


def test_capital_upper_cases_the_first_character_only() -> None:
    assert _capital("the app grants access to account AbC") == (
        "The app grants access to account AbC"
    )
    assert _capital(ODD) == ODD and _capital("") == ""


def test_an_orphan_within_grace_names_when_the_grace_ends() -> None:
    """An orphaned subscription whose payment failed, still in grace: its message said
    "within the grace window until None" (the orphan's rows had no grace end)."""
    start = NOW - timedelta(days=1)
    orphan = sub(
        "sub_O",
        "cus_O",
        "past_due",
        current_period_start=start.isoformat(),
        current_period_end=(NOW + timedelta(days=20)).isoformat(),
    )
    config = {"policy": {"grace_days": 3}}
    report = reconcile(inputs(billing(orphan), app(account("a1", "cus_1")), config))
    (finding,) = [f for f in report.findings if f.kind is Kind.ORPHANED_SUBSCRIPTION]
    until = (start + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f"(payment failed; within the grace window until {until})" in finding.message
