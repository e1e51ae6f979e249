"""Recording a run and deciding what changed: new, ongoing, reopened, resolved.

:func:`record_run` is the one entry point ``check --history`` calls after a run.
It writes the run, every finding's observation and every finding's new state in
ONE transaction under the store's write lock, so the store holds either the
previous state or the whole new run, never half of one (a killed process, a full
disk or a second run at the same time included).

How each finding of the run is classified, by its fingerprint's stored state:

* ``new``: never seen before.
* ``ongoing``: already open (so seen by the previous run that could judge it).
* ``reopened``: was out of the open set, resolved or excused by a config
  exception, and is open again. Counted in ``times_reopened``.
* ``suppressed``: a config exception excused it in this run. Kept, so a later
  reappearance is "reopened", not "new", and not listed as resolved (it was
  excused, not fixed).

And each open (or suppressed) fingerprint the run did *not* report is
``resolved``, unless the run could not have seen it, in which case it is kept as
it was (``Lifecycle.kept``), because absence in partial data proves nothing:

* the run's verdict is ERROR (partial or unreadable data): nothing resolves
  (the findings it does hold, as a ``--strict`` run may, are still recorded);
* the finding's rule did not run this time (``report.rules_not_applied``, e.g.
  plan drift without a plan map);
* a row naming the finding's billing customer could not be read (a skip with
  that customer id: the rules held back judgement on that customer).

A *targeted* run (``scope``: the slice of the customers a webhook named) judges
only those customers, so it resolves only findings in its scope; every other open
finding is left exactly as it was (not resolved, not kept, not touched). It is
recorded with ``kind = "targeted"`` and the customers it covered.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from billdrift._version import __version__
from billdrift.core.found import columns_of
from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.core.report import Report
from billdrift.core.views import Picked
from billdrift.history import run_table
from billdrift.history.fingerprint import fingerprint
from billdrift.history.review import decision_for
from billdrift.history.store import FindingState, HistoryStore, NewRun, Review


@dataclass(frozen=True)
class ResolvedFinding:
    """A finding that was open (or excused) before this run and is gone now."""

    fingerprint: str
    kind: Kind
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    first_seen: datetime
    last_seen: datetime
    #: What the last run that saw it said (for "resolved: ..." messages).
    severity: Severity
    exposure: Exposure | None
    message: str
    #: Its status before it resolved: "open" or "suppressed".
    was: str


@dataclass(frozen=True)
class Scope:
    """What a targeted run could see: findings of these billing customers or these
    app accounts. Findings outside it are never resolved by that run."""

    customers: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()

    def covers(self, state: FindingState) -> bool:
        return (state.customer_id is not None and state.customer_id in self.customers) or (
            state.account_id is not None and state.account_id in self.accounts
        )


@dataclass(frozen=True)
class Lifecycle:
    """What one recorded run changed; what alert sinks and renderers consume.

    The finding lists keep the report's order (most severe first). A Finding is
    not hashable (its evidence is a dict), so per-finding lookups go by
    fingerprint: ``lifecycle.status(finding)`` or ``status_of[fingerprint(f)]``.
    """

    run_id: int
    verdict: Verdict
    #: Each in the report's order; sequences that make a finding object only when one
    #: is read (their lengths need none: see billdrift.core.found).
    new: Sequence[Finding]
    reopened: Sequence[Finding]
    ongoing: Sequence[Finding]
    #: Findings a config exception excused in this run (from report.suppressed).
    suppressed: Sequence[Finding]
    resolved: tuple[ResolvedFinding, ...]
    #: Fingerprints absent from this run but kept open because it could not judge them.
    kept: tuple[str, ...]
    #: fingerprint -> "new" | "ongoing" | "reopened" | "suppressed", for every finding
    #: (and suppressed finding) of this run.
    status_of: Mapping[str, str]
    #: fingerprint -> when it was first seen (this run's finish time for new ones).
    first_seen: Mapping[str, datetime]
    #: fingerprint -> the review decision in force (acknowledged, snoozed until a
    #: future date, expected) for findings of this run; alert sinks may stay quiet
    #: about these. New and reopened findings never have one.
    decisions: Mapping[str, Review]
    #: The fingerprint of each of the report's findings, in its order (computed once).
    fingerprints: tuple[str, ...] = ()
    #: fingerprint -> every review so far, oldest first, for findings of this run.
    reviews: Mapping[str, Sequence[Review]] = dataclasses.field(default_factory=dict)

    def status(self, finding: Finding) -> str:
        """ "new", "ongoing", "reopened" or "suppressed" for a finding of this run."""
        return self.status_of[fingerprint(finding)]

    def first_seen_of(self, finding: Finding) -> datetime:
        return self.first_seen[fingerprint(finding)]

    @property
    def changed(self) -> bool:
        """Whether anything is worth telling: something new, back, or resolved."""
        return bool(self.new or self.reopened or self.resolved)


#: The name the issue uses for record_run's result.
RunRecord = Lifecycle


def run_from_report(
    report: Report, started_at: datetime, finished_at: datetime, scope: Scope | None = None
) -> NewRun:
    """The run row: everything the charts and an audit need, none of the findings. With
    `scope`, a targeted run naming the customers it covered, and those of the findings
    it reported (one found through an account's email may name another customer):
    every customer whose findings it judged, which is what its spans rely on
    (:mod:`billdrift.history._sql_record`)."""
    judged = set()
    if scope is not None:
        judged = set(scope.customers)
        (customers,) = columns_of(report.findings, "customer_id")
        judged.update(customer for customer in customers if customer)
        judged.update(s.finding.customer_id for s in report.suppressed if s.finding.customer_id)
    return NewRun(
        kind="full" if scope is None else "targeted",
        customers=sorted(judged),
        started_at=started_at,
        finished_at=finished_at,
        as_of=report.as_of,
        verdict=report.verdict,
        fail_on=report.fail_on.label,
        sources=[{"side": s.side, "description": s.description} for s in report.sources],
        rows=dict(report.counts),
        counts_by_kind=report.by_kind,
        counts_by_severity=report.by_severity,
        exposure_by_currency=report.exposure_by_currency,
        classification=dict(report.classification),
        n_findings=len(report.findings),
        n_suppressed=len(report.suppressed),
        n_skips=len(report.skips),
        duration_seconds=max(0.0, (finished_at - started_at).total_seconds()),
        errors=list(report.errors),
        notes=list(report.notes),
        billdrift_version=__version__,
    )


def record_run(
    store: HistoryStore,
    report: Report,
    started_at: datetime,
    finished_at: datetime,
    *,
    before_commit: Callable[[], None] | None = None,
    scope: Scope | None = None,
) -> Lifecycle:
    """Record `report` as one run, atomically, and classify its findings.

    `started_at`/`finished_at` are the run's wall-clock bounds (aware datetimes);
    first/last seen times are the finish time of the runs that saw a finding.
    `before_commit` is called inside the transaction just before it commits: a
    fault-injection hook for tests (a crash there must leave the previous state).
    With `scope` (a targeted run), only findings it covers can resolve.
    Raises HistoryLockedError if another run holds the store past its lock
    timeout, HistoryError for any other store failure; nothing is recorded then.
    """
    if started_at.tzinfo is None or finished_at.tzinfo is None:
        raise ValueError("record_run needs aware datetimes (e.g. datetime.now(UTC))")
    run = run_from_report(report, started_at, finished_at, scope)
    observed = run_table.observations(report)
    with store.transaction() as tx:
        run_id = tx.insert_run(run)
        seen = tx.record_findings(run_id, finished_at, observed)
        unjudged = _unjudged(report)
        kept: list[str] = []
        resolved: list[ResolvedFinding] = []
        for state in seen.absent:
            if scope is not None and not scope.covers(state):
                continue  # a targeted run did not look there
            if unjudged(state):
                kept.append(state.fingerprint)
            else:
                resolved.append(_resolved(state))
        tx.resolve([item.fingerprint for item in resolved], run_id, finished_at)
        tx.set_changes(run_id, _counted_changes(seen.change, len(resolved)))
        if before_commit is not None:
            before_commit()
    by_change: dict[str, list[int]] = {c: [] for c in ("new", "ongoing", "reopened")}
    by_change["suppressed"] = []
    change = seen.change
    for ord_, fp in enumerate(observed.fingerprints):
        by_change[change[fp]].append(ord_)
    picked = {name: Picked(observed.findings, ords) for name, ords in by_change.items()}
    decisions: dict[str, Review] = {}
    for fp, reviews in seen.reviews.items():
        decision = decision_for(seen.opened_run[fp], reviews, finished_at)
        if decision is not None:
            decisions[fp] = decision
    return Lifecycle(
        run_id=run_id,
        verdict=report.verdict,
        new=picked["new"],
        reopened=picked["reopened"],
        ongoing=picked["ongoing"],
        suppressed=picked["suppressed"],
        resolved=tuple(resolved),
        kept=tuple(kept),
        status_of=change,
        first_seen=seen.first_seen,
        decisions=decisions,
        fingerprints=tuple(observed.fingerprints[: len(report.findings)]),
        reviews=seen.reviews,
    )


def _counted_changes(change: Mapping[str, str], resolved: int) -> dict[str, int]:
    """Findings by change (each fingerprint once), in a stable order: what the run
    changed, as :func:`billdrift.history.browse.run_changes` reports it."""
    counted = Counter(change.values())
    if resolved:
        counted["resolved"] = resolved
    return {name: counted[name] for name in sorted(counted)}


def _unjudged(report: Report) -> Callable[[FindingState], bool]:
    """Whether this run could not have seen a finding, so its absence proves nothing."""
    if report.verdict is Verdict.ERROR:
        return lambda state: True
    not_run = {kind for kind, _reason in report.rules_not_applied}
    unreadable = {skip.customer_id for skip in report.skips if skip.customer_id}
    return lambda state: state.kind.value in not_run or state.customer_id in unreadable


def _resolved(state: FindingState) -> ResolvedFinding:
    return ResolvedFinding(
        fingerprint=state.fingerprint,
        kind=state.kind,
        account_id=state.account_id,
        customer_id=state.customer_id,
        subscription_id=state.subscription_id,
        first_seen=state.first_seen_at,
        last_seen=state.last_seen_at,
        severity=state.severity,
        exposure=state.exposure,
        message=state.message,
        was=state.status,
    )
