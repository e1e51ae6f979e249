"""Recording a run in the history store, so findings become new, ongoing,
reopened or resolved, and each finding carries its history in the report."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billdrift.config import Config
from billdrift.core.found import Found, Tracked
from billdrift.core.instants import utc_text
from billdrift.core.model import Finding
from billdrift.core.report import Changes, Gone, Report, decide_verdict
from billdrift.history import open_store, record_run
from billdrift.history.lifecycle import Lifecycle, ResolvedFinding, Scope
from billdrift.history.store import Review
from billdrift.outputs.render.history_points import RunPoint
from billdrift.usecases.retention import maintain

#: Runs the HTML report charts.
CHART_RUNS = 60


@dataclass(frozen=True)
class Recorded:
    report: Report
    lifecycle: Lifecycle
    history: tuple[RunPoint, ...]


def record(
    config: Config,
    report: Report,
    started: datetime,
    finished: datetime,
    scope: Scope | None = None,
) -> Recorded:
    """Record the run, then give the report its history: each finding's status,
    first seen, fingerprint and review decision (``Finding.tracking``), what
    resolved since the previous run (``Report.changes``), and the verdict again,
    now that reviewed findings no longer fail the run (see ``decide_verdict``).

    Raises HistoryError (exit 2) if the store cannot be written; the caller still
    writes the report. A targeted run (`scope`) resolves nothing outside it.
    """
    location = config.history.location
    store = open_store(location, timeout=config.history.timeout_seconds)
    try:
        lifecycle = record_run(store, report, started, finished, scope=scope)
        if scope is None:
            # Retention is the full runs' bookkeeping: a listener records a targeted
            # run per few customers, and must not prune (or compact) after each.
            maintain(store, config.history.retention, finished)
            runs = store.recent_runs(CHART_RUNS, kind="full")
            previous = runs[-2].finished_at if len(runs) >= 2 else None  # oldest first
        else:
            # The trend charts full runs only; a targeted run's findings were last
            # judged by whichever run came before it.
            runs = store.recent_runs(2)
            previous = runs[0].finished_at if len(runs) == 2 else None
    finally:
        store.close()
    findings = _with_history(report.findings, lifecycle)
    only_new = fails_on_new(config)
    report = dataclasses.replace(
        report,
        findings=findings,
        changes=Changes(previous, tuple(_gone(item) for item in lifecycle.resolved)),
        fail_on_new=only_new,
        verdict=decide_verdict(findings, report.skips, report.errors, report.fail_on, only_new),
    )
    points = tuple(
        RunPoint(
            run.finished_at,
            run.verdict.value,
            dict(run.counts_by_kind),
            dict(run.exposure_by_currency),
            run.as_of,
        )
        for run in runs
        if run.kind == "full"
    )
    return Recorded(report, lifecycle, points)


def fails_on_new(config: Config) -> bool:
    """``fail_on = "new"`` or ``"new:SEVERITY"``: fail only on new or reopened findings."""
    return config.output.fail_on.startswith("new")


def _with_history(findings: Sequence[Finding], lifecycle: Lifecycle) -> Sequence[Finding]:
    """The report's findings with their history: status, first seen, fingerprint and the
    review decision in force, and every review note so far in the evidence (decisions
    are never lost and show in later reports). As columns when the engine gave columns
    (no finding object is made), else each object given its tracking."""
    keys = lifecycle.fingerprints
    decisions = [lifecycle.decisions.get(key) for key in keys]
    tracked = Tracked(
        status=[lifecycle.status_of[key] for key in keys],
        fingerprint=keys,
        first_seen=[lifecycle.first_seen[key] for key in keys],
        review=[None if d is None else str(d.action) for d in decisions],
        review_until=[None if d is None else d.until for d in decisions],
        notes={
            position: _notes(reviews)
            for position, key in enumerate(keys)
            if (reviews := lifecycle.reviews.get(key))
        },
    )
    if isinstance(findings, Found):
        return findings.tracked(tracked)
    return tuple(tracked.given(findings))


def _notes(reviews: Sequence[Review]) -> list[dict[str, Any]]:
    """Every review so far, as the finding's evidence shows them."""
    return [
        {
            "action": str(review.action),
            "note": review.note,
            "by": review.who,
            "at": utc_text(review.at),
            **({"until": utc_text(review.until)} if review.until else {}),
        }
        for review in reviews
    ]


def _gone(item: ResolvedFinding) -> Gone:
    return Gone(
        kind=item.kind,
        account_id=item.account_id,
        customer_id=item.customer_id,
        subscription_id=item.subscription_id,
        fingerprint=item.fingerprint,
        severity=item.severity,
        exposure=item.exposure,
        first_seen=item.first_seen,
    )
