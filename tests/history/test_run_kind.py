"""Targeted runs (issue 16) are recorded as such (schema version 5) and stay out of
what only full runs mean: the trend, "since the previous run", and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from billdrift.config import parse_config
from billdrift.core.model import Kind
from billdrift.history import HistoryStore, open_store, record_run, schema
from billdrift.history._sql import SqlStore
from billdrift.history._sql_rows import RUN_COLUMNS
from billdrift.history.lifecycle import Scope, run_from_report
from billdrift.history.retention import Policy
from billdrift.mcp_server import tools
from billdrift.usecases import review
from billdrift.usecases.dashboard import dashboard
from billdrift.usecases.recording import record
from tests.history.helpers import at, finding, report

ONE = Scope(customers=frozenset({"cus_1"}), accounts=frozenset({"u1"}))
BLOCKED = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1")
#: The runs columns up to version 4 (version 5 added kind and customers at the end).
RUN_COLUMNS_V4 = RUN_COLUMNS[: RUN_COLUMNS.index("kind")]


def test_a_version_4_store_upgrades_with_its_runs_full(
    store_location: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:4])
        patch.setattr(schema, "LATEST", 4)
        old = open_store(store_location)
        assert isinstance(old, SqlStore)
        with old, old._locked():
            # A version-4 runs table has no kind column: a row as version 4 wrote it.
            row = old._run_to_row(run_from_report(report(), at(0), at(0)))
            old._exec(
                f"INSERT INTO runs ({', '.join(RUN_COLUMNS_V4)}) "
                f"VALUES ({', '.join('?' * len(RUN_COLUMNS_V4))})",
                row[: len(RUN_COLUMNS_V4)],
            )
            assert old._current_version() == 4
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST
        (run,) = store.recent_runs()
        assert (run.kind, run.customers) == ("full", [])
        assert [r.run_id for r in store.recent_runs(kind="full")] == [run.run_id]
        assert store.recent_runs(kind="targeted") == []


def test_a_targeted_run_is_recorded_with_its_customers(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED), at(0), at(0))
    record_run(store, report(BLOCKED), at(1), at(1), scope=ONE)
    full, targeted = store.recent_runs()
    assert (full.kind, full.customers) == ("full", [])
    assert (targeted.kind, targeted.customers) == ("targeted", ["cus_1"])
    assert store.recent_runs(kind="full") == [full]
    assert store.recent_runs(kind="targeted") == [targeted]


def test_retention_keeps_the_latest_full_run_behind_targeted_runs(store: HistoryStore) -> None:
    # Three finding-less full runs, then a targeted one: all past the cut-off. The
    # latest run (targeted) is kept as before; the latest FULL run is kept too, the
    # older full runs go.
    for hours in (0, 1, 2):
        record_run(store, report(), at(hours), at(hours))
    record_run(store, report(), at(3), at(3), scope=ONE)
    pruned = store.prune(Policy(keep_runs_days=1, keep_resolved_days=None), at(24 * 5))
    assert pruned.runs == 2
    left = store.recent_runs()
    assert [(r.run_id, r.kind) for r in left] == [(3, "full"), (4, "targeted")]


def _config(location: str, keep_days: int | None = None) -> object:
    retention = {} if keep_days is None else {"retention": {"keep_runs_days": keep_days}}
    return parse_config({"history": {"location": location, **retention}})


def test_full_runs_compare_with_the_previous_full_run_and_chart_only_full_runs(
    tmp_path: Path,
) -> None:
    location = str(tmp_path / "history.sqlite")
    config = _config(location)
    first = record(config, report(BLOCKED), at(0), at(0))  # type: ignore[arg-type]
    assert first.report.changes is not None and first.report.changes.previous_run_at is None
    targeted = record(config, report(BLOCKED), at(1), at(1), ONE)  # type: ignore[arg-type]
    # A targeted run says what changed since the run before it, whatever its kind...
    assert targeted.report.changes is not None
    assert targeted.report.changes.previous_run_at == at(0)
    second = record(config, report(BLOCKED), at(2), at(2))  # type: ignore[arg-type]
    # ... a full run since the previous FULL run; the trend has full runs only.
    assert second.report.changes is not None
    assert second.report.changes.previous_run_at == at(0)
    assert [point.finished_at for point in second.history] == [at(0), at(2)]
    board = dashboard(location)
    assert board.latest is not None and board.latest.finished_at == at(2)
    assert board.previous is not None and board.previous.finished_at == at(0)
    assert [point.finished_at for point in board.points] == [at(0), at(2)]


def test_a_targeted_run_does_not_prune_but_a_full_run_does(tmp_path: Path) -> None:
    location = str(tmp_path / "history.sqlite")
    now = datetime.now(UTC).replace(microsecond=0)
    old = now - timedelta(days=30)
    with open_store(location) as store:
        for hours in (0, 1):
            record_run(store, report(), old + timedelta(hours=hours), old + timedelta(hours=hours))
    config = _config(location, keep_days=7)
    record(config, report(), now, now, ONE)  # type: ignore[arg-type]
    with open_store(location) as store:
        assert len(store.recent_runs(10)) == 3  # nothing pruned
    record(config, report(), now, now)  # type: ignore[arg-type]
    with open_store(location) as store:
        # The old full runs went; the targeted run is inside the 7 days.
        assert [r.kind for r in store.recent_runs(10)] == ["targeted", "full"]


def test_the_last_run_is_the_last_full_run_unless_another_kind_is_asked_for(
    store: HistoryStore,
) -> None:
    assert store.last_run() is None
    record_run(store, report(BLOCKED), at(0), at(0))
    record_run(store, report(BLOCKED), at(1), at(1), scope=ONE)
    full, targeted = store.recent_runs()
    assert store.last_run() == full  # not the targeted run recorded after it
    assert store.last_run("targeted") == targeted
    assert store.last_run(None) == targeted  # any kind: the latest


def test_the_review_header_and_the_agent_server_name_the_last_full_run(tmp_path: Path) -> None:
    location = tmp_path / "history.sqlite"
    with open_store(str(location)) as store:
        record_run(store, report(BLOCKED), at(0), at(0))
        record_run(store, report(BLOCKED), at(1), at(1), scope=ONE)
        full = store.recent_runs()[0]
    header = review.queue(str(location)).last_run
    assert header is not None and (header.run_id, header.kind) == (full.run_id, "full")
    config = tmp_path / "billdrift.toml"
    config.write_text(f'[history]\nlocation = "{location}"\n', encoding="utf-8")
    listed = tools.list_findings(tools.Settings(str(config)), None, None, "open", "any", 10)
    assert listed.last_run is not None and listed.last_run["run_id"] == full.run_id
