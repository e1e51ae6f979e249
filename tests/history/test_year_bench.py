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


def test_precomputed_observations_are_the_librarys() -> None:
    """``--precomputed`` builds each run's table from rows cached per finding version:
    it must be exactly what run_table.observations computes from the report."""
    from datetime import timedelta

    from billdrift.history import run_table

    population = history_year.Population(60, seed=3)
    for day in range(4):
        if day:
            population.drift(0.2)
        report = population.report(history_year.START + timedelta(days=day))
        real = run_table.observations(report)
        cached = population.observations()
        assert cached.table.equals(real.table)
        assert list(cached.fingerprints) == list(real.fingerprints)
        assert list(cached.text_digests) == list(real.text_digests)
        every = range(real.num_rows)
        assert cached.contents(every) == real.contents(every)
        assert list(cached.findings) == list(real.findings)


def test_a_precomputed_year_stores_what_the_recording_path_stores(tmp_path: Path) -> None:
    from billdrift.history._sql import SqlStore

    def dump(location: str) -> list[object]:
        with open_store(location) as store:
            assert isinstance(store, SqlStore)
            with store._snapshot():
                return [
                    store._exec(f"SELECT * FROM {table} ORDER BY 1")
                    for table in ("findings", "finding_spans")
                ]

    stores = [str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")]
    for location, precomputed in zip(stores, (False, True), strict=True):
        history_year.simulate(
            location,
            "sqlite",
            runs=4,
            findings=60,
            churn=0.2,
            workdir=tmp_path,
            repeats=1,
            precomputed=precomputed,
        )
    assert dump(stores[0]) == dump(stores[1])
