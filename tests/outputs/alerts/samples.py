"""Findings and reports for the alert tests: realistic ids, emails in messages and evidence."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.core.report import Report
from tests.builders import NOW

#: Raw PII that must never reach a sink.
RAW_EMAILS = ("jane.doe@example.com", "ops@localhost", "bob.smith@example.org")
RAW_IDS = ("acct_7f3a99c1d2", "cus_N3x8Q2abc", "sub_1Pq7Zz9xyz", "cus_Q9w8E7rty")


def finding(
    kind: Kind,
    account_id: str | None,
    customer_id: str | None,
    subscription_id: str | None,
    *,
    severity: Severity = Severity.HIGH,
    amount: str | None = "29.00",
    currency: str = "USD",
    email: str | None = None,
    message: str | None = None,
    fix: str = "Do the thing that fixes it.",
    evidence: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        kind=kind,
        severity=severity,
        confidence=1.0,
        account_id=account_id,
        customer_id=customer_id,
        subscription_id=subscription_id,
        exposure=None if amount is None else Exposure(amount, currency),
        message=message or f"{kind.value} on account {account_id} ({customer_id}).",
        fix=fix,
        evidence=evidence if evidence is not None else {"app": {"email": email}},
    )


PAID_JANE = finding(
    Kind.PAID_BUT_BLOCKED,
    "acct_7f3a99c1d2",
    "cus_N3x8Q2abc",
    "sub_1Pq7Zz9xyz",
    email="jane.doe@example.com",
    message=(
        "Stripe says sub_1Pq7Zz9xyz is active, but the app denies access to account "
        "acct_7f3a99c1d2 (jane.doe@example.com)."
    ),
    fix="Restore access now (set has_paid_access for account acct_7f3a99c1d2).",
)
PAID_OPS = finding(
    Kind.PAID_BUT_BLOCKED,
    "acct_0b1c2d3e4f",
    "cus_Q9w8E7rty",
    "sub_2Ab3Cd4Efg",
    amount="19.00",
    currency="EUR",
    email="ops@localhost",
    message="Paid but blocked: ops@localhost cannot log in.",
    fix="Restore access now, then check the webhook.",
)
UNPAID_BOB = finding(
    Kind.UNPAID_BUT_ACTIVE,
    "acct_5e6f7a8b9c",
    "cus_Z1x2C3v4b",
    "sub_3Hj4Kl5Mnp",
    amount="49.00",
    email="bob.smith@example.org",
    fix="Review before revoking: confirm the subscription state.",
)
PLAN_DRIFT = finding(
    Kind.PLAN_DRIFT,
    "acct_1a2b3c4d5e",
    "cus_P0o9I8u7y",
    "sub_4Qw5Er6Tyu",
    severity=Severity.MEDIUM,
    amount="99.00",
    fix="Set the account's plan to the one paid for.",
)
ORPHAN = finding(
    Kind.ORPHANED_SUBSCRIPTION,
    None,
    "cus_L1k2J3h4g",
    "sub_5Zx6Cv7Bnm",
    severity=Severity.MEDIUM,
    amount="5000",
    currency="JPY",
    message="Stripe says sub_5Zx6Cv7Bnm is active for customer cus_L1k2J3h4g "
    "(bob.smith@example.org), but no app account is linked to it.",
    fix="Find the account this customer signed up with and store the customer id on it.",
    evidence={"billing": {"status": "active", "email": "bob.smith@example.org"}},
)
#: Present in the report but seen before: must not alert under alert_on = "new".
ONGOING = finding(
    Kind.PAID_BUT_BLOCKED,
    "acct_9z8y7x6w5v",
    "cus_M5n6B7v8c",
    "sub_6Tg7Yh8Ujm",
    amount="10.00",
    email="old.news@example.com",
)

ALL = (PAID_JANE, PAID_OPS, UNPAID_BOB, PLAN_DRIFT, ORPHAN, ONGOING)


def report(*findings: Finding, verdict: Verdict = Verdict.FAIL) -> Report:
    return Report(
        verdict=verdict,
        as_of=NOW,
        fail_on=Severity.HIGH,
        findings=findings or ALL,
        counts={"accounts": 10, "subscriptions": 10, "customers": 10},
    )


def many_review_findings(n: int) -> list[Finding]:
    return [
        replace(
            PLAN_DRIFT,
            account_id=f"acct_many{i:06d}",
            subscription_id=f"sub_many{i:06d}",
            customer_id=f"cus_many{i:06d}",
        )
        for i in range(n)
    ]
