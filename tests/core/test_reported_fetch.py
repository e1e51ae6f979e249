"""Fetching the rules' reported rows in-process (issue 17): what the fetch leaves out
when it can, and that the rows it hands over are the same either way."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from billdrift.core import findings
from billdrift.core.found import rows_of
from billdrift.core.rules.shape import EVIDENCE_COLUMN
from billdrift.outputs.render.json_format import JsonRenderer
from tests.builders import NOW, account, sub
from tests.core import test_rules
from tests.core.test_found import _every_kind

SUBS = [sub("sub_1", "cus_1", "active"), sub("sub_2", "cus_2", "canceled")]
ACCOUNTS = [account("a1", "cus_1", access=False), account("a2", "cus_2", access=True)]


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every in-process fetch of a run: its query and the rows it handed over."""
    seen: list[tuple[str, list[dict[str, Any]]]] = []
    fetch = findings._fetch

    def recording(con: duckdb.DuckDBPyConnection, query: str, *added: Any) -> pa.Table:
        table = fetch(con, query, *added)
        seen.append((query, rows_of(table)))
        return table

    monkeypatch.setattr(findings, "_fetch", recording)
    return seen


def test_without_exceptions_the_fetch_does_not_look_for_them(
    fetched: list[tuple[str, list[dict[str, Any]]]],
) -> None:
    """The policy lists no exception: no per-row exceptions subquery (a tenth of a
    rule's fetch at 1M), and nothing is suppressed."""
    report = test_rules.run(SUBS, ACCOUNTS)
    assert fetched and all("exceptions" not in query for query, _ in fetched)
    assert report.suppressed == () and len(report.findings) == 2
    assert all(row["suppressed_by"] is None for _, rows in fetched for row in rows)


def test_with_an_exception_the_fetch_looks_for_it(
    fetched: list[tuple[str, list[dict[str, Any]]]],
) -> None:
    report = test_rules.run(SUBS, ACCOUNTS, {"exceptions": [{"account": "a2", "reason": "comp"}]})
    assert all("exceptions" in query for query, _ in fetched)
    assert [s.reason for s in report.suppressed] == ["comp"]
    assert [f.account_id for f in report.findings] == ["a1"]


def test_decimals_reach_python_as_floats(
    fetched: list[tuple[str, list[dict[str, Any]]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Confidences are SQL decimals: fetched as doubles (a Decimal per cell cost half of
    the conversion), and the findings and evidence show them as before."""
    monkeypatch.setattr(findings, "EVIDENCE_ONLY", frozenset())  # match_confidence kept
    report = test_rules.run(SUBS, ACCOUNTS)
    rows = [row for _, rows in fetched for row in rows]
    assert rows and all(type(row["match_confidence"]) is float for row in rows)
    assert all(type(row["confidence"]) is float for row in rows)
    assert [f.confidence for f in report.findings] == [1.0, 1.0]
    assert [f.evidence["match"]["confidence"] for f in report.findings] == [1.0, 1.0]


def test_columns_only_the_evidence_reads_stay_in_the_database(
    fetched: list[tuple[str, list[dict[str, Any]]]],
) -> None:
    """The evidence, computed by the database, still shows them; the rows handed to the
    builders no longer carry them (the builders never read them: see
    tests/core/test_columnar_evidence.py)."""
    report = test_rules.run(SUBS, ACCOUNTS)
    rows = [row for _, rows in fetched for row in rows]
    assert rows and not any(findings.EVIDENCE_ONLY & row.keys() for row in rows)
    assert all({"subscription_id", "status", EVIDENCE_COLUMN} <= row.keys() for row in rows)
    evidence = report.findings[0].evidence
    assert evidence["billing"]["source"] and evidence["app"]["source"]
    assert evidence["billing"]["subscriptions"] == [
        {"subscription_id": "sub_1", "status": "active"}
    ]
    assert evidence["match"]["confidence"] == 1.0


def test_the_evidence_of_each_row_is_its_own_in_order() -> None:
    """The evidence texts are joined by Arrow and parsed at once: each row still gets
    its own (order kept), and a rule with no rows gets none."""
    con = duckdb.connect()
    query = (
        f"SELECT id, '{{\"n\":' || id || '}}' AS {EVIDENCE_COLUMN} FROM range(3) t(id) "
        "ORDER BY id DESC"
    )
    rows = rows_of(findings._fetch(con, query))
    assert [(row["id"], row[EVIDENCE_COLUMN]) for row in rows] == [
        (2, {"n": 2}),
        (1, {"n": 1}),
        (0, {"n": 0}),
    ]
    assert rows_of(findings._fetch(con, query + " LIMIT 0")) == []
    assert rows_of(findings._fetch(con, "SELECT 1 AS one")) == [{"one": 1}]  # no evidence


def test_rules_worded_in_sql_are_fetched_side_by_side(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetching a rule's rows is mostly one thread's work, so with several rules in SQL
    each runs on a cursor of its own, one per DuckDB thread (issue 17). A cursor does
    not see the relations registered on the engine's connection: the exceptions in
    force are a stage (a table) for that reason, and one exception in force and one
    expired must come out as they do when the fetches run one after another."""
    names: list[str] = []
    fetch = findings._fetch

    def recording(con: duckdb.DuckDBPyConnection, query: str, *added: Any) -> pa.Table:
        names.append(threading.current_thread().name)
        return fetch(con, query, *added)

    monkeypatch.setattr(findings, "_fetch", recording)
    monkeypatch.setattr(findings, "WORDED_IN_PYTHON_MAX", -1)  # every rule in SQL
    config: dict[str, object] = {
        "exceptions": [
            {"account": "a_E", "reason": "comped"},
            {"account": "a_B", "reason": "lapsed", "expires": NOW - timedelta(days=1)},
        ]
    }
    documents = []
    for threads, on in ((2, "fetch"), (1, "MainThread")):
        monkeypatch.setattr(findings, "_THREADS", f"SELECT {threads}")
        names.clear()
        report = _every_kind(config)
        assert len(names) >= 7 and all(name.startswith(on) for name in names)
        assert [(s.finding.account_id, s.reason) for s in report.suppressed] == [("a_E", "comped")]
        assert "a_B" in {f.account_id for f in report.findings}
        documents.append(JsonRenderer().render_bytes(report))
    assert documents[0] == documents[1]
