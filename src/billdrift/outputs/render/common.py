"""Wording shared by the human-readable formats (text, markdown, HTML)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from billdrift.core.model import KIND_ORDER, STATUS_ORDER, Finding, Kind, Severity
from billdrift.core.report import Gone, Report

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


# ----------------------------------------------------------------- what changed
# With a history store every finding has a Tracking and the report has Changes;
# without one these say nothing (no "new" that is only a guess).


def minute(moment: datetime) -> str:
    """'2026-12-03 06:00 UTC': to the minute, as a person reads a run time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def changes_line(report: Report) -> str | None:
    """'Since the previous run (2026-12-03 06:00 UTC): 2 new (1 high), 1 reopened,
    3 resolved; 10 ongoing', or None without a history store."""
    changes = report.changes
    if changes is None:
        return None
    counts = report.by_status
    new = [f for f in report.findings if f.tracking is not None and f.tracking.status == "new"]
    high = sum(1 for f in new if f.severity is Severity.HIGH)
    parts = [f"{len(new)} new" + (f" ({high} high)" if high else "")]
    parts.append(f"{counts.get('reopened', 0)} reopened")
    parts.append(f"{len(changes.resolved)} resolved")
    changed = ", ".join(parts) + f"; {counts.get('ongoing', 0)} ongoing"
    if changes.previous_run_at is None:
        return f"First recorded run: {changed}"
    return f"Since the previous run ({minute(changes.previous_run_at)}): {changed}"


def mark(finding: Finding) -> str | None:
    """'new · first seen 2026-12-03 06:00 UTC · fp 1a2b3c4d5e6f (acknowledged)', or
    None without a history store."""
    tracking = finding.tracking
    if tracking is None:
        return None
    text = f"{tracking.status} · first seen {minute(tracking.first_seen)} · fp {tracking.short}"
    if tracking.review is not None:
        until = f" until {minute(tracking.review_until)}" if tracking.review_until else ""
        text += f" ({tracking.review}{until})"
    return text


def change_first(findings: Iterable[Finding]) -> list[Finding]:
    """New and reopened before ongoing, then urgent (paid but blocked) first, then by
    severity, then by money: by currency (amounts in two currencies are not comparable),
    the larger amount first, no money last. The report's order breaks ties, so the
    same input gives the same order."""
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}

    def key(finding: Finding) -> tuple[int, bool, int, bool, str, Decimal]:
        status = finding.tracking.status if finding.tracking is not None else "ongoing"
        urgent = finding.kind is Kind.PAID_BUT_BLOCKED
        exposure = finding.exposure
        currency = "" if exposure is None else exposure.currency
        return (
            rank.get(status, len(rank)),
            not urgent,
            -finding.severity,
            exposure is None,
            currency,
            -_amount(finding),
        )

    return sorted(findings, key=key)


def _amount(finding: Finding) -> Decimal:
    if finding.exposure is None:
        return Decimal(0)
    try:
        return Decimal(finding.exposure.monthly_amount)
    except InvalidOperation:
        return Decimal(0)


def gone_ids(gone: Gone) -> str:
    parts = [p for p in (gone.account_id, gone.customer_id, gone.subscription_id) if p]
    return " · ".join(parts)
