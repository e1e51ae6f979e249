"""Recording a run in the history store, so findings become new, ongoing,
reopened or resolved, and each finding carries its history in the report."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billdrift.config import Config
from billdrift.core.model import Finding
from billdrift.core.report import Report
from billdrift.history import fingerprint, open_store, record_run
from billdrift.history.lifecycle import Lifecycle
from billdrift.history.store import Review
from billdrift.outputs.render.history_points import RunPoint

#: Runs the HTML report charts.
CHART_RUNS = 60


@dataclass(frozen=True)
class Recorded:
    report: Report
    lifecycle: Lifecycle
    history: tuple[RunPoint, ...]


def record(config: Config, report: Report, started: datetime, finished: datetime) -> Recorded:
    """Record the run and tell each finding's status in the report's notes.

    Raises HistoryError (exit 2) if the store cannot be written; the caller still
    writes the report.
    """
    location = config.history.location
    store = open_store(location, timeout=config.history.timeout_seconds)
    try:
        lifecycle = record_run(store, report, started, finished)
        runs = store.recent_runs(CHART_RUNS)
        reviews = store.reviews_for([fingerprint(finding) for finding in report.findings])
    finally:
        store.close()
    report = dataclasses.replace(
        report, findings=tuple(_annotated(f, lifecycle, reviews) for f in report.findings)
    )
    summary = (
        f"history: {len(lifecycle.new)} new, {len(lifecycle.reopened)} reopened, "
        f"{len(lifecycle.ongoing)} ongoing, {len(lifecycle.resolved)} resolved since the "
        f"last run (run {lifecycle.run_id})"
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
    )
    noted = dataclasses.replace(report, notes=(*report.notes, summary))
    return Recorded(noted, lifecycle, points)


def _annotated(
    finding: Finding, lifecycle: Lifecycle, reviews: Mapping[str, Sequence[Review]]
) -> Finding:
    """The finding with its history in the evidence: status, first seen, and every
    review note so far (decisions are never lost and show in later reports)."""
    key = fingerprint(finding)
    history: dict[str, Any] = {
        "fingerprint": key[:12],
        "status": lifecycle.status_of.get(key),
        "first_seen": _iso(lifecycle.first_seen.get(key)),
    }
    notes = [
        {
            "action": str(review.action),
            "note": review.note,
            "by": review.who,
            "at": _iso(review.at),
            **({"until": _iso(review.until)} if review.until else {}),
        }
        for review in reviews.get(key, ())
    ]
    if notes:
        history["reviews"] = notes
    return dataclasses.replace(finding, evidence={**finding.evidence, "history": history})


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")
