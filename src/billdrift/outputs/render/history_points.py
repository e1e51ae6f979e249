"""One past run as the HTML trend chart sees it.

The history store owns how runs are kept; the chart only needs these four facts
per run. Keeping the chart's input this small means the store can change its
format (or be replaced) without the renderer noticing, and tests can build a
history from literals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from billdrift.core.report import Report


@dataclass(frozen=True)
class RunPoint:
    """A finished run: when, its verdict, findings per kind and exposure per currency.

    ``as_of`` is the instant the run evaluated the data at (``--as-of``, else its start):
    the chart places a run there, so a report made ``--as-of`` a past instant charts
    its own run at that instant, not at the wall-clock time it happened to run. Points
    without it (built from an older store) fall back to ``finished_at``.

    ``verdict`` is a plain string (PASS, WARN, FAIL, ERROR), not the enum, because
    old runs may have been written by another version. ``exposure`` maps an ISO
    currency code to a decimal string in major units: amounts stay strings so no
    float rounding creeps in between the store and the chart's tooltips, and
    currencies are never added together.
    """

    finished_at: datetime
    verdict: str
    by_kind: dict[str, int] = field(default_factory=dict)
    exposure: dict[str, str] = field(default_factory=dict)
    as_of: datetime | None = None

    @property
    def findings(self) -> int:
        return sum(self.by_kind.values())

    @property
    def when(self) -> datetime:
        """``as_of`` (else ``finished_at``) in UTC; a naive time is taken as UTC so runs
        always sort."""
        moment = self.as_of or self.finished_at
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def run_point(report: Report, finished_at: datetime) -> RunPoint:
    """The point a report contributes to the history (for the store, or to chart the
    current run next to past ones)."""
    return RunPoint(
        finished_at=finished_at,
        verdict=report.verdict.value,
        by_kind=report.by_kind,
        exposure=report.exposure_by_currency,
        as_of=report.as_of,
    )
