"""Retention and pruning (issue 18), on SQLite and PostgreSQL: what goes, and what is
always kept (every review, the latest observation of every kept finding, the runs
they refer to)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from billdrift.core.model import Kind
from billdrift.history import HistoryStore, fingerprint, open_store, record_run
from billdrift.history.retention import Policy
from billdrift.history.review import record_decision
from tests.history.helpers import at, error_report, finding, report

DAY = 24.0
KEPT = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1")
GONE = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2")
REVIEWED = finding(Kind.PLAN_DRIFT, "u3", "cus_3")


def _changing(day: int) -> object:
    """KEPT, saying something new every day (a new timeline entry per run)."""
    return finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", message=f"blocked, day {day}")


def _run(store: HistoryStore, day: float, *findings: object) -> None:
    record_run(store, report(*findings), at(day * DAY), at(day * DAY + 0.1))  # type: ignore[arg-type]


def _counts(store: HistoryStore) -> tuple[int, int, int, int]:
    rows = store._exec(  # type: ignore[attr-defined]
        "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM findings), "
        "(SELECT count(*) FROM finding_spans), (SELECT count(*) FROM reviews)"
    )
    return tuple(int(n) for n in rows[0])  # type: ignore[return-value]


def test_old_runs_and_timeline_entries_go_the_latest_entry_stays(store: HistoryStore) -> None:
    for day in range(10):
        _run(store, day, _changing(day))
    before = _counts(store)
    assert before == (10, 1, 10, 0)
    pruned = store.prune(Policy(keep_runs_days=3), at(9 * DAY + 1))
    # The runs of days 7, 8 and 9 (ids 8-10) finished within 3 days; run 1 stays too
    # (KEPT was first seen in it), its timeline entry does not.
    assert (pruned.runs, pruned.findings, pruned.spans) == (6, 0, 7)
    assert _counts(store) == (4, 1, 3, 0)
    assert [r.run_id for r in store.recent_runs(100)] == [1, 8, 9, 10]
    state = store.finding(fingerprint(KEPT))
    assert state is not None and state.first_seen_run == 1 and state.message == "blocked, day 9"
    timeline = store.observations(fingerprint(KEPT))
    assert [o.finding.message for o in timeline] == [f"blocked, day {d}" for d in (7, 8, 9)]
    # The next run carries on as before: the finding is ongoing, not new.
    _run(store, 10, _changing(10))
    assert store.finding(fingerprint(KEPT)).last_change == "ongoing"  # type: ignore[union-attr]


def test_an_open_findings_last_observation_is_kept_however_old(store: HistoryStore) -> None:
    _run(store, 0, KEPT)
    for day in range(1, 8):  # runs that could not judge: nothing resolves
        record_run(store, error_report(), at(day * DAY), at(day * DAY + 0.1))
    store.prune(Policy(keep_runs_days=2, keep_resolved_days=2), at(8 * DAY))
    state = store.finding(fingerprint(KEPT))
    assert state is not None and state.status == "open" and state.message
    assert [o.run_id for o in store.observations(fingerprint(KEPT))] == [1]
    assert store.last_run().run_id == 8  # type: ignore[union-attr]


def test_resolved_findings_go_whole_after_their_days_unless_reviewed(store: HistoryStore) -> None:
    _run(store, 0, KEPT, GONE, REVIEWED)
    state = store.finding(fingerprint(REVIEWED))
    assert state is not None
    record_decision(store, state, "acknowledged", "customer on a legacy plan", "ann", at(1))
    record_decision(store, state, "noted", "asked sales", "bob", at(2))
    _run(store, 1, KEPT)  # GONE and REVIEWED resolve at day 1
    cutoff_days = 5
    resolved_at = at(1 * DAY + 0.1)
    # One hour before the cut-off reaches them: both kept.
    early = resolved_at + timedelta(days=cutoff_days) - timedelta(hours=1)
    assert store.prune(Policy(keep_resolved_days=cutoff_days), early).findings == 0
    assert store.finding(fingerprint(GONE)) is not None
    # One hour after: the unreviewed one goes, with its timeline; the reviewed one stays.
    late = resolved_at + timedelta(days=cutoff_days) + timedelta(hours=1)
    pruned = store.prune(Policy(keep_resolved_days=cutoff_days), late)
    assert (pruned.findings, pruned.spans) == (1, 1)
    assert store.finding(fingerprint(GONE)) is None
    kept = store.finding(fingerprint(REVIEWED))
    assert kept is not None and kept.status == "resolved"
    reviews = store.reviews_for([fingerprint(REVIEWED)])[fingerprint(REVIEWED)]
    assert [(r.action, r.note) for r in reviews] == [
        ("acknowledged", "customer on a legacy plan"),
        ("noted", "asked sales"),
    ]
    assert store.observations(fingerprint(REVIEWED))  # its last word kept
    # A pruned finding that comes back is new (its history is gone); a kept one reopens.
    _run(store, 12, KEPT, GONE, REVIEWED)
    assert store.finding(fingerprint(GONE)).last_change == "new"  # type: ignore[union-attr]
    assert store.finding(fingerprint(REVIEWED)).last_change == "reopened"  # type: ignore[union-attr]


def test_no_review_is_ever_removed(store: HistoryStore) -> None:
    for day in range(6):
        _run(store, day, _changing(day), GONE if day < 2 else KEPT)
        state = store.finding(fingerprint(KEPT))
        assert state is not None
        record_decision(store, state, "noted", f"day {day}", "ann", at(day * DAY + 1))
    reviews_before = _counts(store)[3]
    store.prune(Policy(keep_runs_days=1, keep_resolved_days=1), at(30 * DAY))
    assert _counts(store)[3] == reviews_before == 6


def test_a_dry_run_counts_exactly_what_a_prune_removes_and_changes_nothing(
    store: HistoryStore,
) -> None:
    for day in range(6):
        _run(store, day, _changing(day), *((GONE,) if day < 2 else ()))
    policy = Policy(keep_runs_days=2, keep_resolved_days=2)
    before = _counts(store)
    dry = store.prune(policy, at(6 * DAY), dry_run=True)
    assert _counts(store) == before and dry.dry_run and dry.anything
    done = store.prune(policy, at(6 * DAY))
    assert (dry.runs, dry.findings, dry.spans) == (done.runs, done.findings, done.spans)
    assert _counts(store) != before
    again = store.prune(policy, at(6 * DAY))
    assert not again.anything  # pruning twice removes nothing more


def test_no_policy_removes_nothing(store: HistoryStore) -> None:
    for day in range(3):
        _run(store, day, _changing(day))
    before = _counts(store)
    assert not store.prune(Policy(), at(900 * DAY)).anything
    assert _counts(store) == before


def test_compaction_gives_a_sqlite_file_back_its_free_pages(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    with open_store(location) as store:
        for day in range(30):
            big = {"billing": {"note": "x" * 20_000, "day": day}}
            _run(store, day, finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", evidence=big))
        store.prune(Policy(keep_runs_days=2), at(30 * DAY))
        assert store.free_share() > 0.5
        before, after = store.compact()
        assert before is not None and after is not None and after < before / 3
        assert store.free_share() == 0
        assert after == location.stat().st_size


@pytest.mark.parametrize("dry_run", [False, True])
def test_pruning_waits_for_a_recording_run_like_any_writer(
    store: HistoryStore, dry_run: bool
) -> None:
    _run(store, 0, KEPT)
    with store.transaction(), pytest.raises(RuntimeError, match="do not nest"):
        store.prune(Policy(keep_runs_days=1), at(10 * DAY), dry_run=dry_run)
