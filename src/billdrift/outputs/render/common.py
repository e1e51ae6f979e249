"""Wording shared by the human-readable formats (text, markdown, HTML)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from billdrift.core.found import columns_of
from billdrift.core.model import KIND_ORDER, STATUS_ORDER, Finding, Kind, Severity
from billdrift.core.report import Gone, Report
from billdrift.core.views import Picked

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


def kind_positions(findings: Sequence[Finding]) -> list[tuple[Kind, list[int]]]:
    """The findings' positions grouped by kind, urgent kinds first (report order within
    a kind), read from the kind column: no finding is built."""
    (kinds,) = columns_of(findings, "kind")
    positions: dict[str, list[int]] = {}
    for position, kind in enumerate(kinds):
        positions.setdefault(kind, []).append(position)
    return [(kind, positions[kind.value]) for kind in KIND_ORDER if kind.value in positions]


def grouped(report: Report) -> list[tuple[Kind, Sequence[Finding]]]:
    """Findings grouped by kind, urgent kinds first: views that build a finding only
    when it is read (a report shows the first few of each kind, see :mod:`.views`)."""
    findings = report.findings
    return [(kind, Picked(findings, places)) for kind, places in kind_positions(findings)]


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
    statuses, severities = columns_of(report.findings, "status", "severity")
    new = [
        severity for status, severity in zip(statuses, severities, strict=True) if status == "new"
    ]
    high = new.count(Severity.HIGH.value)
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


def change_first(findings: Iterable[Finding]) -> Sequence[Finding]:
    """New and reopened before ongoing, then urgent (paid but blocked) first, then by
    severity, then by money: by currency (amounts in two currencies are not comparable),
    the larger amount first, no money last. The report's order breaks ties, so the
    same input gives the same order. Ordered by the findings' columns: a view that
    builds only the findings read."""
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    if not isinstance(findings, Sequence):
        findings = tuple(findings)
    columns = columns_of(findings, "status", "kind", "severity", "currency", "monthly_amount")

    def key(row: tuple[Any, ...]) -> tuple[int, bool, int, bool, str, Decimal]:
        status, kind, severity, currency, amount = row
        return (
            rank.get(status or "ongoing", len(rank)),
            kind != Kind.PAID_BUT_BLOCKED.value,
            -severity,
            amount is None,
            "" if amount is None else currency,
            -_amount(amount),
        )

    keys = list(zip(*columns, strict=True))
    return Picked(findings, sorted(range(len(keys)), key=lambda position: key(keys[position])))


def _amount(amount: str | None) -> Decimal:
    if amount is None:
        return Decimal(0)
    try:
        return Decimal(amount)
    except InvalidOperation:
        return Decimal(0)


def gone_ids(gone: Gone) -> str:
    parts = [p for p in (gone.account_id, gone.customer_id, gone.subscription_id) if p]
    return " · ".join(parts)
