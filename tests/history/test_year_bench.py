"""The simulated-year benchmark (bench/history_year.py) as a quick smoke run: a few
runs of a small population on SQLite and PostgreSQL, through the real recording path,
so the benchmark cannot rot between the times someone runs it in full."""

from __future__ import annotations

import sys
from pathlib import Path

from billdrift.history import open_store

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import history_year


def test_a_short_year_records_drifts_and_measures(store_location: str, tmp_path: Path) -> None:
    backend = "postgresql" if store_location.startswith("postgresql") else "sqlite"
    result = history_year.simulate(
        store_location, backend, runs=6, findings=90, churn=0.1, workdir=tmp_path, repeats=1
    )
    summary = result.summary()
    assert len(result.record_seconds) == 6 and summary["record_median_seconds"] > 0
    # 10% churn of 90: each run 3 reworded, 3 resolved, 3 new; the population holds.
    assert (result.findings_start, result.findings_end) == (90, 90)
    assert result.queue_total == 50 + 40  # every open finding, none decided
    assert result.store_bytes > 0 and result.store_bytes_after_prune > 0
    assert (result.tarball_bytes is not None) == (backend == "sqlite")
    with open_store(store_location) as store:
        assert len(store.recent_runs(100)) == 6
        assert len(store.open_findings()) == 90
        states = {s.last_change for s in store.open_findings()}
        assert states == {"new", "ongoing"}
        changed = next(
            s for s in store.open_findings() if s.message.endswith("change 1.")
        )  # a reworded finding's timeline has both wordings
        words = [o.finding.message[-9:] for o in store.observations(changed.fingerprint)]
        assert "change 0." in words and "change 1." in words
    assert "| store size after the year |" in history_year.markdown([summary])
