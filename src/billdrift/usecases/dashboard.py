"""What a dashboard shows of the history store: the latest run and the one before,
what changed, money at stake per kind and currency, and the runs to chart.

Read in one call so a front-end opens the store once per page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from billdrift.history.browse import KindExposure, RunChanges, open_exposure, run_changes
from billdrift.history.store import RunSummary
from billdrift.outputs.render.history_points import RunPoint
from billdrift.usecases.review import open_history

#: Runs charted on the dashboard (the trend chart's own limit is the same).
CHARTED_RUNS: Final = 60
MONTHS_PER_YEAR: Final = 12


@dataclass(frozen=True)
class CurrencyExposure:
    """One currency's money at stake: per kind, and the run's own total (which counts
    a subscription once even when two kinds name it)."""

    currency: str
    by_kind: tuple[KindExposure, ...]
    run_total: Decimal | None

    @property
    def run_total_annual(self) -> Decimal | None:
        return None if self.run_total is None else self.run_total * MONTHS_PER_YEAR


@dataclass(frozen=True)
class Dashboard:
    shown: str
    latest: RunSummary | None
    previous: RunSummary | None
    changes: RunChanges | None
    exposure: tuple[CurrencyExposure, ...]
    points: tuple[RunPoint, ...]


def _point(run: RunSummary) -> RunPoint:
    return RunPoint(
        finished_at=run.finished_at,
        verdict=run.verdict.value,
        by_kind=dict(run.counts_by_kind),
        exposure=dict(run.exposure_by_currency),
        as_of=run.as_of,
    )


def dashboard(location: str) -> Dashboard:
    with open_history(location) as store:
        # Targeted runs (a listener's, of a few customers) are not points of the trend.
        runs = store.recent_runs(CHARTED_RUNS, kind="full")
        latest = runs[-1] if runs else None
        previous = runs[-2] if len(runs) > 1 else None
        changes = run_changes(store, latest.run_id) if latest is not None else None
        by_kind = open_exposure(store)
        shown = store.shown
    totals = latest.exposure_by_currency if latest is not None else {}
    currencies = sorted({item.currency for item in by_kind} | set(totals))
    exposure = tuple(
        CurrencyExposure(
            currency,
            tuple(item for item in by_kind if item.currency == currency),
            Decimal(totals[currency]) if currency in totals else None,
        )
        for currency in currencies
    )
    return Dashboard(shown, latest, previous, changes, exposure, tuple(map(_point, runs)))


def recorded_runs(location: str, limit: int = 100) -> list[RunSummary]:
    """The latest `limit` runs, oldest first."""
    with open_history(location) as store:
        return store.recent_runs(limit)
