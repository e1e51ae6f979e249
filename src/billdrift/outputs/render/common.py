"""Wording shared by the human-readable formats (text, markdown)."""

from __future__ import annotations

from billdrift.core.model import KIND_ORDER, Finding, Kind
from billdrift.core.report import Report

#: How many findings of one kind the human formats list; JSON always lists all.
MAX_PER_KIND = 25

TITLES = {
    Kind.PAID_BUT_BLOCKED: "Paid but blocked (urgent: paying customers locked out)",
    Kind.UNPAID_BUT_ACTIVE: "Unpaid but active (review before revoking)",
    Kind.PLAN_DRIFT: "Plan drift",
    Kind.ORPHANED_SUBSCRIPTION: "Orphaned subscriptions",
    Kind.MISSING_BILLING_LINK: "Missing billing links",
    Kind.STALE_BILLING_LINK: "Stale billing links",
    Kind.DUPLICATE_CUSTOMER: "Duplicate customer links",
    Kind.APP_FIELDS_DISAGREE: "App fields disagree",
    Kind.AMBIGUOUS: "Ambiguous (needs a human)",
}


def grouped(report: Report) -> list[tuple[Kind, list[Finding]]]:
    """Findings grouped by kind, urgent kinds first."""
    return [
        (kind, [f for f in report.findings if f.kind == kind])
        for kind in KIND_ORDER
        if any(f.kind == kind for f in report.findings)
    ]


def money(amounts: dict[str, str]) -> str:
    return ", ".join(f"{currency} {amount}" for currency, amount in amounts.items()) or "-"


def finding_ids(finding: Finding) -> str:
    parts = [p for p in (finding.account_id, finding.customer_id, finding.subscription_id) if p]
    return " · ".join(parts)


def headline(report: Report) -> str:
    counts = report.counts
    return (
        f"{counts.get('accounts', 0)} accounts vs {counts.get('subscriptions', 0)} "
        f"subscriptions ({counts.get('customers', 0)} customers)"
    )
