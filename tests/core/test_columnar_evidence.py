"""Evidence computed in SQL over all reported rows equals the evidence evaluated row by
row in Python from the same declared shape (issue 17).

The labelled rule tests are collected here again, as the push-down identity tests
collect them; while they run, every reported row's evidence as the engine computed it
(one SQL expression per rule) is compared, as JSON bytes (key order and number types
included), with the evidence evaluated in Python from that row without it, as for a
pushed-down run's rows. Then the shape's compilers are checked on each side of every
boundary they have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest

from billdrift.core import findings
from billdrift.core.model import Finding
from billdrift.core.report import Suppressed
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Row, Rule
from billdrift.core.rules.shape import (
    EVIDENCE_COLUMN,
    MAX_IDS,
    Group,
    Value,
    evaluate,
    evidence_sql,
)
from tests.builders import account, sub
from tests.core import test_rules
from tests.core.labelled import collect

collect(globals())


@pytest.fixture(autouse=True)
def both_ways(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each rule's reported rows, as the collected cases' runs build them, checked both
    ways before they are worded."""
    checked: list[int] = []
    build = findings.build
    evidence_only = findings.EVIDENCE_ONLY

    def build_both(
        rule: Rule, rows: Iterable[Row], found: list[Finding], suppressed: list[Suppressed]
    ) -> None:
        rows = list(rows)
        for row in rows:
            computed = row[EVIDENCE_COLUMN]  # present: the engine computed it in SQL
            plain = {key: value for key, value in row.items() if key != EVIDENCE_COLUMN}
            assert orjson.dumps(computed) == orjson.dumps(evaluate(rule.evidence, plain))
            # the fetch leaves the evidence-only columns out: the words must not need them
            trimmed = {key: value for key, value in row.items() if key not in evidence_only}
            assert vars(rule.build(trimmed)) == vars(rule.build(row))
        checked.append(len(rows))
        build(rule, rows, found, suppressed)

    monkeypatch.setattr(findings, "build", build_both)
    # every column fetched, so that the evidence can be evaluated from the row itself
    monkeypatch.setattr(findings, "EVIDENCE_ONLY", frozenset())
    return checked


def test_the_evidence_is_computed_in_sql_for_every_reported_row(both_ways: list[int]) -> None:
    """The check above is not vacuous: a case's rows reach it, with their evidence."""
    test_rules.test_entitling_status_and_app_denies_is_paid_but_blocked("active")
    assert sum(both_ways) >= 1


def test_every_rule_declares_its_evidence_once() -> None:
    """The rule's shape is what its findings carry: one definition per rule."""
    assert all(isinstance(rule.evidence, Group) for rule in ALL_RULES)


#: Rows for the compiler checks: each column on both sides of its boundary.
_ROWS: list[dict[str, Any]] = [
    {
        "name": "given",
        "decision": "grace",
        "when": "2026-01-01T00:00:00Z",
        "confidence": Decimal("0.95"),
        "fields": [{"field": "paid", "value": None}, {"field": "status", "value": "active"}],
        "plans": ["pro"],
        "ids": ", ".join(f"acc_{i}" for i in range(MAX_IDS + 1)),
        "flag": False,
    },
    {
        "name": None,
        "decision": "entitled",
        "when": None,
        "confidence": None,
        "fields": [],
        "plans": [],
        "ids": ", ".join(f"acc_{i}" for i in range(MAX_IDS)),
        "flag": None,
    },
    {
        "name": 'quote " and \\ and \n',
        "decision": None,
        "when": "2026-02-01T00:00:00Z",
        "confidence": Decimal("1.00"),
        "fields": None,
        "plans": None,
        "ids": None,
        "flag": True,
    },
]

_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("decision", pa.string()),
        ("when", pa.string()),
        ("confidence", pa.decimal128(3, 2)),
        ("fields", pa.list_(pa.struct([("field", pa.string()), ("value", pa.string())]))),
        ("plans", pa.list_(pa.string())),
        ("ids", pa.string()),
        ("flag", pa.bool_()),
    ]
)

_VALUES = (
    ("name", Value("name")),
    ("grace", Value("when", "instant", ("decision", "grace"))),
    ("confidence", Value("confidence", "number")),
    ("fields", Value("fields", "fields")),
    ("plans", Value("plans", "nonempty")),
    ("ids", Value("ids", "ids")),
    ("flag", Value("flag")),
)


@pytest.mark.parametrize("drop_nulls", [True, False])
def test_the_sql_and_the_python_of_a_shape_agree(drop_nulls: bool) -> None:
    shape = Group((*_VALUES, ("nested", Group(_VALUES, drop_nulls=drop_nulls))), drop_nulls)
    table = pa.Table.from_pylist(_ROWS, schema=_SCHEMA)
    con = duckdb.connect()
    con.register("rows", table)
    texts = [
        text for (text,) in con.execute(f"SELECT {evidence_sql(shape)} FROM rows f").fetchall()
    ]
    python_rows = table.to_pylist()  # as the engine's rows reach Python: decimals and all
    assert [orjson.loads(text) for text in texts] == [evaluate(shape, r) for r in python_rows]


def test_a_shape_shows_each_value_as_the_report_does() -> None:
    shape = Group(_VALUES)
    given, empty, other = (
        evaluate(shape, row) for row in pa.Table.from_pylist(_ROWS, schema=_SCHEMA).to_pylist()
    )
    assert given["grace"] == "2026-01-01T00:00:00Z"  # only while the decision is grace
    assert "grace" not in other
    assert given["confidence"] == 0.95 and other["confidence"] == 1.0  # numbers, not "1.00"
    assert given["fields"] == {"paid": None, "status": "active"}  # null field values kept
    assert empty["fields"] == {}
    assert given["plans"] == ["pro"] and "plans" not in empty  # an empty list is absent
    assert given["ids"] == [f"acc_{i}" for i in range(MAX_IDS)]  # 51 listed: 50 shown
    assert empty["ids"] == [f"acc_{i}" for i in range(MAX_IDS)]  # 50: all shown
    assert other["ids"] == [""]
    assert given["flag"] is False and "flag" not in empty and "name" not in empty
    assert evaluate(Group(_VALUES, drop_nulls=False), _ROWS[1])["name"] is None


def test_one_rule_is_fetched_ahead_so_at_most_two_rules_rows_are_held(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database fetches the next rule's rows while Python words the current one's,
    but no further ahead: rule k+2 is fetched only once rule k is worded (all rules
    fetched at once held every rule's rows and evidence together: +50 MiB at 1M).

    While the first rule is worded, the fetch of the third is waited for (2 s): it must
    not start. (Fetched all at once, it starts as soon as the second one is done.)"""
    started: list[int] = []
    third = threading.Event()
    fetch = findings._fetch

    def fetched(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
        started.append(len(started))
        if len(started) == 3:
            third.set()
        return fetch(con, query)

    worded: list[bool] = []

    def word(
        rule: Rule, rows: Iterable[Row], found: list[Finding], suppressed: list[Suppressed]
    ) -> None:
        worded.append(third.wait(timeout=2.0) if not worded else third.is_set())

    monkeypatch.setattr(findings, "_fetch", fetched)
    monkeypatch.setattr(findings, "build", word)
    test_rules.run([sub("sub_1", "cus_1", "active")], [account("a1", "cus_1", access=False)])
    assert len(worded) > 2 and len(started) == len(worded)
    assert worded[0] is False  # the third rule was not fetched while the first was worded
