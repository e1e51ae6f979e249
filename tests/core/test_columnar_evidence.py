"""Evidence and words computed in SQL over all reported rows equal the evidence and
words evaluated row by row in Python from the same declarations (issue 17).

The labelled rule tests are collected here again, as the push-down identity tests
collect them; while they run, every reported row's evidence as the engine computed it
(one SQL expression per rule) is compared, as JSON bytes (key order and number types
included), with the evidence evaluated in Python from that row without it, as for a
pushed-down run's rows. Then the shape's compilers are checked on each side of every
boundary they have.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest

from billdrift.core import findings
from billdrift.core.found import FIX_COLUMN, MESSAGE_COLUMN, Found, rows_of
from billdrift.core.model import Severity, Verdict
from billdrift.core.report import Report
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Rule
from billdrift.core.rules.shape import (
    EVIDENCE_COLUMN,
    MAX_IDS,
    Group,
    Value,
    evaluate,
    evidence_sql,
)
from billdrift.core.rules.wording import to_text
from tests.builders import NOW
from tests.core import test_rules
from tests.core.keys import check_keys
from tests.core.labelled import collect
from tests.outputs.mask_check import check_masking

collect(globals())


@pytest.fixture(autouse=True)
def both_ways(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each rule's reported rows, as the collected cases' runs fetch them, checked both
    ways before the report takes them: the evidence and the words the engine computed
    in SQL against the same declarations evaluated in Python from the row without them
    (as for a pushed-down run's rows). Each row's key is checked to be its own too."""
    checked: list[int] = []
    of_rules = Found.of_rules
    evidence_only = findings.EVIDENCE_ONLY

    def of_rules_both(parts: Sequence[tuple[Rule, pa.Table]]) -> Found:
        for rule, table in parts:
            check_keys(rule, table)  # each row its own key: the report's order rests on it
            # the same columns made in Python (a rule with few rows): the same text
            python = findings.worded_in_python(rule, table.drop_columns(list(_COMPUTED)))
            texts = table.column(EVIDENCE_COLUMN).to_pylist()
            assert python.column(EVIDENCE_COLUMN).to_pylist() == texts
            for column in (MESSAGE_COLUMN, FIX_COLUMN):
                for in_sql, in_python in zip(
                    table.column(column).to_pylist(), python.column(column).to_pylist(), strict=True
                ):
                    assert in_sql in (None, in_python)
            rows = rows_of(table)
            checked_rows: list[int] = []
            for row in rows:
                computed = row[EVIDENCE_COLUMN]  # present: the engine computed it in SQL
                plain = {k: v for k, v in row.items() if k not in _COMPUTED}
                assert orjson.dumps(computed) == orjson.dumps(evaluate(rule.evidence, plain))
                # the text itself, as the JSON and CSV documents take it
                assert orjson.dumps(computed).decode() == texts[len(checked_rows)]
                checked_rows.append(1)
                for column, template in ((MESSAGE_COLUMN, rule.message), (FIX_COLUMN, rule.fix)):
                    # NULL: SQL cannot give this text exactly, and Python words the row
                    assert row[column] in (None, to_text(template, plain))
                # the report keeps no evidence-only column: the words must not need them
                trimmed = {k: v for k, v in row.items() if k not in evidence_only}
                assert vars(rule.build(trimmed)) == vars(rule.build(row))
            checked.append(len(rows))
        found = of_rules(parts)
        # masked as columns, the same report as masked as objects
        report = Report(verdict=Verdict.FAIL, as_of=NOW, fail_on=Severity.HIGH, findings=found)
        check_masking(report)
        return found

    monkeypatch.setattr(Found, "of_rules", of_rules_both)
    # every rule's evidence and words made in SQL, however few its rows
    monkeypatch.setattr(findings, "WORDED_IN_PYTHON_MAX", -1)
    # every column kept, so that the evidence can be evaluated from the row itself
    monkeypatch.setattr(findings, "EVIDENCE_ONLY", frozenset())
    return checked


#: The columns the engine computes in SQL from the others.
_COMPUTED = frozenset({EVIDENCE_COLUMN, MESSAGE_COLUMN, FIX_COLUMN})


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
