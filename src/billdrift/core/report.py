"""The immutable result of a run: what every renderer and alert sink consumes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from billdrift.core import totals as finding_totals
from billdrift.core.found import columns_of
from billdrift.core.model import (
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
    #: In report order. From the engine, a :class:`~billdrift.core.found.Found`: the
    #: findings as columns, objects made only when something iterates them.
    findings: Sequence[Finding] = ()
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
        counted = Counter(status for (status,) in _columns(self.findings, "status"))
        return {status: counted[status] for status in STATUS_ORDER if counted[status]}

    #: How accounts were matched to billing: customer_id, subscription_id, email,
    #: normalized_email, unmatched (every account counted once).
    matched_by: dict[str, int] = field(default_factory=dict)
    #: (source, "role=column, ...") for each source whose columns were detected.
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def by_kind(self) -> dict[str, int]:
        return finding_totals.by_kind(finding_totals.columns(self.findings))

    @property
    def by_severity(self) -> dict[str, int]:
        return finding_totals.by_severity(finding_totals.columns(self.findings))

    @property
    def exposure_by_currency(self) -> dict[str, str]:
        """Monthly amount at stake per currency. Never summed across currencies, and a
        subscription named by several findings counts once."""
        return finding_totals.exposure_by_currency(finding_totals.columns(self.findings))

    @property
    def exposure_by_kind(self) -> dict[str, dict[str, str]]:
        return finding_totals.exposure_by_kind(finding_totals.columns(self.findings))

    @property
    def exit_code(self) -> int:
        """The exit-code contract: 0 pass/warn, 1 drift at or above fail_on, 2 error."""
        return {Verdict.PASS: 0, Verdict.WARN: 0, Verdict.FAIL: 1, Verdict.ERROR: 2}[self.verdict]


def annualized(totals: dict[str, str]) -> dict[str, str]:
    """Monthly totals x12, exact: a decimal string keeps its minor units
    ("45.00" -> "540.00", JPY "5000" -> "60000")."""
    with localcontext() as context:
        context.prec = finding_totals.PRECISION
        return {currency: str(Decimal(amount) * 12) for currency, amount in totals.items()}


def _columns(findings: Sequence[Finding], *names: str) -> Iterator[tuple[Any, ...]]:
    """The findings' values of columns `names`, a tuple per finding (see
    :func:`~billdrift.core.found.columns_of`)."""
    return zip(*columns_of(findings, *names), strict=True)


def _fails(status: str | None, review: str | None, only_new: bool) -> bool:
    """Whether a finding at or above the threshold fails the run (see decide_verdict),
    by its history's status and review decision. Without history (no status) every
    finding counts, as it always did."""
    if status is None:
        return True
    return review is None and (status != "ongoing" or not only_new)


def decide_verdict(
    findings: Sequence[Finding],
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
    if any(
        severity >= fail_on and _fails(status, review, only_new)
        for severity, status, review in _columns(findings, "severity", "status", "review")
    ):
        return Verdict.FAIL
    if findings or skips:
        return Verdict.WARN
    return Verdict.PASS
