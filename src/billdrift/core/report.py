"""The immutable result of a run: what every renderer and alert sink consumes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext

from billdrift.core.model import (
    KIND_ORDER,
    STATUS_ORDER,
    Exposure,
    Finding,
    Kind,
    Severity,
    Skip,
    Verdict,
)

SCHEMA_VERSION = "2.1"


@dataclass(frozen=True)
class Suppressed:
    """A finding an exception suppressed: kept so reviewers see what is excused."""

    finding: Finding
    reason: str


@dataclass(frozen=True)
class SourceInfo:
    side: str  # billing | app
    description: str


@dataclass(frozen=True)
class Gone:
    """A finding open at the previous run and absent now (resolved since then)."""

    kind: Kind
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    fingerprint: str
    severity: Severity
    exposure: Exposure | None
    first_seen: datetime


@dataclass(frozen=True)
class Changes:
    """What changed since the previous recorded run. Present only with a history
    store; each finding's own status is its ``tracking``."""

    #: When the previous run finished; None for the first recorded run.
    previous_run_at: datetime | None
    resolved: tuple[Gone, ...] = ()


@dataclass(frozen=True)
class Report:
    verdict: Verdict
    as_of: datetime
    fail_on: Severity
    findings: tuple[Finding, ...] = ()
    suppressed: tuple[Suppressed, ...] = ()
    skips: tuple[Skip, ...] = ()
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sources: tuple[SourceInfo, ...] = ()
    #: Rows read: accounts, subscriptions, customers.
    counts: dict[str, int] = field(default_factory=dict)
    #: Exactly one state per account (in_sync, paid_but_blocked, internal, ...).
    classification: dict[str, int] = field(default_factory=dict)
    #: Rules that could not run and why (a missing plan map is not "no plan drift").
    rules_not_applied: tuple[tuple[str, str], ...] = ()
    #: With a history store: what changed since the previous run.
    changes: Changes | None = None
    #: ``--fail-on new``: only new or reopened, unreviewed findings fail the run.
    fail_on_new: bool = False

    @property
    def fail_on_label(self) -> str:
        """``high``, or ``new:high`` with ``--fail-on new``: as the option is written."""
        return f"new:{self.fail_on.label}" if self.fail_on_new else self.fail_on.label

    @property
    def by_status(self) -> dict[str, int]:
        """new / reopened / ongoing counts (empty without a history store)."""
        counted = Counter(f.tracking.status for f in self.findings if f.tracking is not None)
        return {status: counted[status] for status in STATUS_ORDER if counted[status]}

    #: How accounts were matched to billing: customer_id, subscription_id, email,
    #: normalized_email, unmatched (every account counted once).
    matched_by: dict[str, int] = field(default_factory=dict)
    #: (source, "role=column, ...") for each source whose columns were detected.
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def by_kind(self) -> dict[str, int]:
        counted = Counter(f.kind for f in self.findings)
        return {kind.value: counted[kind] for kind in KIND_ORDER if counted[kind]}

    @property
    def by_severity(self) -> dict[str, int]:
        counted = Counter(f.severity for f in self.findings)
        return {s.label: counted[s] for s in sorted(Severity, reverse=True) if counted[s]}

    @property
    def exposure_by_currency(self) -> dict[str, str]:
        """Monthly amount at stake per currency. Never summed across currencies, and a
        subscription named by several findings counts once."""
        seen: set[str] = set()
        distinct = []
        for finding in self.findings:
            if finding.subscription_id is not None:
                if finding.subscription_id in seen:
                    continue
                seen.add(finding.subscription_id)
            distinct.append(finding)
        return _totals(distinct)

    @property
    def exposure_by_kind(self) -> dict[str, dict[str, str]]:
        by_kind: dict[Kind, list[Finding]] = {}
        for finding in self.findings:  # one pass: reports can hold tens of thousands
            if finding.exposure is not None:
                by_kind.setdefault(finding.kind, []).append(finding)
        return {kind.value: _totals(by_kind[kind]) for kind in KIND_ORDER if kind in by_kind}

    @property
    def exit_code(self) -> int:
        """The exit-code contract: 0 pass/warn, 1 drift at or above fail_on, 2 error."""
        return {Verdict.PASS: 0, Verdict.WARN: 0, Verdict.FAIL: 1, Verdict.ERROR: 2}[self.verdict]


def annualized(totals: dict[str, str]) -> dict[str, str]:
    """Monthly totals x12, exact: a decimal string keeps its minor units
    ("45.00" -> "540.00", JPY "5000" -> "60000")."""
    with localcontext() as context:
        context.prec = 400
        return {currency: str(Decimal(amount) * 12) for currency, amount in totals.items()}


def _totals(findings: Iterable[Finding]) -> dict[str, str]:
    """Exact decimal sums per currency. Amounts repeat (a book has few prices), so
    each distinct amount is counted and multiplied once rather than parsed per row."""
    counted = Counter(
        (finding.exposure.currency, finding.exposure.monthly_amount)
        for finding in findings
        if finding.exposure is not None
    )
    sums: dict[str, Decimal] = {}
    with localcontext() as context:  # exact: no rounding into "1.0E+30" for huge books
        context.prec = 400
        for (currency, amount), times in counted.items():
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(amount) * times
    return {currency: str(sums[currency]) for currency in sorted(sums)}


def _fails(finding: Finding, only_new: bool) -> bool:
    """Whether a finding at or above the threshold fails the run (see decide_verdict).
    Without history (no tracking) every finding counts, as it always did."""
    tracking = finding.tracking
    if tracking is None:
        return True
    return tracking.review is None and (tracking.changed or not only_new)


def decide_verdict(
    findings: tuple[Finding, ...],
    skips: tuple[Skip, ...],
    errors: tuple[str, ...],
    fail_on: Severity,
    only_new: bool = False,
) -> Verdict:
    """ERROR beats FAIL beats WARN; skipped rows alone are never a PASS.

    A finding fails the run when it is at or above `fail_on` and nobody decided
    about it: one a person acknowledged, snoozed (until the snooze ends) or
    expected is still reported but no longer fails the run, or a reviewed job
    would stay red for ever. With `only_new`, a finding also has to be new or
    reopened (an ongoing one was already reported by the previous run).
    """
    if errors:
        return Verdict.ERROR
    if any(f.severity >= fail_on and _fails(f, only_new) for f in findings):
        return Verdict.FAIL
    if findings or skips:
        return Verdict.WARN
    return Verdict.PASS
