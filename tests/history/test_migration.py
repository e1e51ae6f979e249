"""Schema version 2 (issue 18): a version-1 store upgrades without losing anything,
and the new layout reads back exactly what version 1 did, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest

from billdrift.history import HistoryStore, fingerprint, open_store, record_run, schema
from billdrift.history._sql import SqlStore
from billdrift.history._sql_rows import seen_run
from tests.history.helpers import at, report
from tests.history.old_stores import write_old_store
from tests.history.v1_store import (
    BLOCKED,
    FIXTURE,
    TABLES,
    UNPAID,
    record_scenario,
    snapshot,
)

V1: dict[str, Any] = orjson.loads(FIXTURE.read_bytes())


def _spans(store: HistoryStore) -> list[tuple[Any, ...]]:
    """Each span's finding, first run, last run (a current span's: its finding's last
    seen run) and message."""
    assert isinstance(store, SqlStore)
    with store._snapshot():
        return store._exec(
            "SELECT s.fingerprint, s.first_run, CASE WHEN s.id = f.last_span "
            f"THEN {seen_run()} ELSE s.last_run END, s.message FROM finding_spans s "
            "JOIN findings f ON f.fingerprint = s.fingerprint ORDER BY s.id"
        )


def _stored_ends(store: HistoryStore) -> list[int]:
    assert isinstance(store, SqlStore)
    with store._snapshot():
        return [
            int(row[0]) for row in store._exec("SELECT last_run FROM finding_spans ORDER BY id")
        ]


def test_a_version_1_store_upgrades_and_reads_back_exactly_as_before(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_old_store(store_location, monkeypatch, 1, V1, TABLES)
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST
        assert snapshot(store) == V1["expected"]
        # 16 observations became 10 spans: unchanged stretches are one span each, a
        # change, a gap (resolved, or an ERROR run) or a second sighting in a run is not.
        by_finding: dict[str, int] = {}
        for fp, *_ in _spans(store):
            by_finding[fp] = by_finding.get(fp, 0) + 1
        assert sorted(by_finding.values()) == [1, 3, 3, 3]

        # Recording goes on from the converted spans: unchanged BLOCKED only moves on.
        before = len(_spans(store))
        record_run(store, report(BLOCKED, UNPAID), at(7), at(7.1))
        assert len(_spans(store)) == before
        timeline = store.observations(fingerprint(BLOCKED))
        assert [o.run_id for o in timeline] == [1, 2, 5, 6, 7]
        assert timeline[-1].finding == BLOCKED


def test_the_new_layout_reads_back_what_version_1_read_for_the_same_runs(
    store: HistoryStore,
) -> None:
    record_scenario(store)
    assert snapshot(store) == V1["expected"]


def test_an_unchanged_finding_costs_no_new_span_and_a_change_costs_one(
    store: HistoryStore,
) -> None:
    record_run(store, report(BLOCKED, UNPAID), at(0), at(0.1))
    record_run(store, report(BLOCKED, UNPAID), at(1), at(1.1))
    assert [(first, last) for _, first, last, _ in _spans(store)] == [(1, 2), (1, 2)]
    assert _stored_ends(store) == [1, 1]  # seen again unchanged: no span was rewritten
    changed = dataclasses.replace(UNPAID, evidence={"billing": {"status": "past_due"}})
    record_run(store, report(BLOCKED, changed), at(2), at(2.1))
    assert [(first, last) for _, first, last, _ in _spans(store)] == [(1, 3), (1, 2), (3, 3)]
    assert _stored_ends(store) == [1, 2, 3]  # the replaced span was closed at its last run
    timeline = store.observations(fingerprint(UNPAID))
    assert [o.finding.evidence for o in timeline] == [UNPAID.evidence] * 2 + [changed.evidence]
    # A gap (a run that did not see it) starts a new span even if nothing changed.
    record_run(store, report(changed), at(3), at(3.1))
    record_run(store, report(BLOCKED, changed), at(4), at(4.1))
    assert [o.run_id for o in store.observations(fingerprint(BLOCKED))] == [1, 2, 3, 5]
    assert len(_spans(store)) == 4
