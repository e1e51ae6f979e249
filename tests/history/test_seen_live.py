"""Schema version 7 (issue 18): a full run that sees a finding again unchanged writes
nothing to its row (``findings.seen_live``), and every reader still gets the run
that last saw it; a version-6 store upgrades without losing anything. On SQLite and
PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from billdrift.core.model import Severity
from billdrift.history import HistoryStore, fingerprint, open_store, record_run, schema
from billdrift.history._sql import SqlStore
from billdrift.history.browse import run_changes
from billdrift.history.lifecycle import Scope
from billdrift.history.queue import QueueQuery, queue_page
from tests.history.helpers import at, error_report, report
from tests.history.old_stores import write_old_store
from tests.history.v1_store import BLOCKED, DRIFT, UNPAID
from tests.history.v6_store import TABLES, load_fixture, record_v6_scenario, snapshot

V6 = load_fixture()


def _rows(store: HistoryStore) -> list[tuple[Any, ...]]:
    """The findings table as stored (every column)."""
    assert isinstance(store, SqlStore)
    with store._snapshot():
        return store._exec("SELECT * FROM findings ORDER BY fingerprint")


def _last_seen(store: HistoryStore, finding: Any) -> tuple[int, Any]:
    state = store.finding(fingerprint(finding))
    assert state is not None
    return state.last_seen_run, state.last_seen_at


def test_a_full_run_seeing_its_findings_again_unchanged_writes_no_findings_row(
    store: HistoryStore,
) -> None:
    record_run(store, report(BLOCKED, UNPAID), at(0), at(0.1))
    record_run(store, report(BLOCKED, UNPAID), at(1), at(1.1))  # new -> ongoing: written
    before = _rows(store)
    record_run(store, report(BLOCKED, UNPAID), at(2), at(2.1))
    assert _rows(store) == before
    assert _last_seen(store, BLOCKED) == (3, at(2.1))
    assert [o.run_id for o in store.observations(fingerprint(UNPAID))] == [1, 2, 3]
    assert run_changes(store, 3).by_change == {"ongoing": 2}
    # each run's changes as it recorded them (schema 8), not as later runs left the rows
    assert run_changes(store, 2).by_change == {"ongoing": 2}
    assert run_changes(store, 1).by_change == {"new": 2}
    # The other side: a detail changes (severity), so that finding's row is written.
    lower = dataclasses.replace(BLOCKED, severity=Severity.MEDIUM)
    record_run(store, report(lower, UNPAID), at(3), at(3.1))
    after = _rows(store)
    assert after != before
    unpaid = next(i for i, row in enumerate(before) if row[0] == fingerprint(UNPAID))
    assert after[unpaid] == before[unpaid]
    assert store.finding(fingerprint(BLOCKED)).severity is Severity.MEDIUM  # type: ignore[union-attr]
    assert _last_seen(store, BLOCKED) == _last_seen(store, UNPAID) == (4, at(3.1))


def test_a_finding_a_full_run_does_not_see_keeps_the_run_that_last_saw_it(
    store: HistoryStore,
) -> None:
    for hour in range(3):
        record_run(store, report(BLOCKED, UNPAID, DRIFT), at(hour), at(hour + 0.1))
    record_run(store, error_report(), at(3), at(3.1))  # nothing seen, nothing resolved
    assert _last_seen(store, BLOCKED) == (3, at(2.1))
    lifecycle = record_run(store, report(BLOCKED, DRIFT), at(4), at(4.1))
    assert [(item.fingerprint, item.last_seen) for item in lifecycle.resolved] == [
        (fingerprint(UNPAID), at(2.1))
    ]
    assert _last_seen(store, UNPAID) == (3, at(2.1))
    assert _last_seen(store, BLOCKED) == (5, at(4.1))
    record_run(store, report(BLOCKED, DRIFT), at(5), at(5.1))
    assert _last_seen(store, UNPAID) == (3, at(2.1))
    assert _last_seen(store, DRIFT) == (6, at(5.1))
    assert [o.run_id for o in store.observations(fingerprint(BLOCKED))] == [1, 2, 3, 5, 6]
    page = queue_page(store, QueueQuery(sort="last_seen"), at(6))
    assert [item.state.last_seen_run for item in page.items] == [6, 6]


def test_targeted_runs_and_live_findings(store: HistoryStore) -> None:
    # Three full runs: the third sees them again live (their rows still say run 2).
    for hour in range(3):
        record_run(store, report(BLOCKED, UNPAID, DRIFT), at(hour), at(hour + 0.1))
    # Seen by a targeted run: last seen there; outside its scope: still the full run's.
    record_run(store, report(BLOCKED), at(3), at(3.1), scope=Scope(frozenset({"cus_1"})))
    assert _last_seen(store, BLOCKED) == (4, at(3.1))
    assert _last_seen(store, DRIFT) == (3, at(2.1))
    # Resolved by a targeted run: last seen by the latest full run before it.
    record_run(store, report(), at(4), at(4.1), scope=Scope(frozenset({"cus_2"})))
    state = store.finding(fingerprint(UNPAID))
    assert state is not None and state.status == "resolved" and state.resolved_run == 5
    assert _last_seen(store, UNPAID) == (3, at(2.1))
    record_run(store, report(BLOCKED, DRIFT), at(5), at(5.1))
    assert _last_seen(store, UNPAID) == (3, at(2.1))
    assert _last_seen(store, BLOCKED) == _last_seen(store, DRIFT) == (6, at(5.1))
    assert [o.run_id for o in store.observations(fingerprint(DRIFT))] == [1, 2, 3, 6]
    assert [o.run_id for o in store.observations(fingerprint(BLOCKED))] == [1, 2, 3, 4, 6]


def test_a_version_6_store_upgrades_and_reads_back_exactly_as_before(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_old_store(store_location, monkeypatch, 6, V6, TABLES)
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST == 9
        assert snapshot(store) == V6["expected"]
        # Recording goes on: the same run on the upgraded store and on one this code
        # wrote from the start reads back the same.
        record_run(store, report(BLOCKED, DRIFT), at(13), at(13.1))
        record_run(store, report(BLOCKED, UNPAID), at(14), at(14.1))
        upgraded = snapshot(store)
    assert _last_seen_of(upgraded, BLOCKED) == 14


def test_this_code_reads_back_what_version_6_read_for_the_same_runs(
    store: HistoryStore,
) -> None:
    record_v6_scenario(store)
    assert snapshot(store) == V6["expected"]


def _last_seen_of(snap: dict[str, Any], finding: Any) -> int:
    return int(snap["findings"][fingerprint(finding)]["state"]["last_seen_run"])
