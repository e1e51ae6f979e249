"""A message or fix declared once compiles to SQL and to Python that agree (issue 17).

The in-process engine words every reported row in SQL; a pushed-down run's rows and
the finding objects are worded in Python from the same template. Every reported row
of every labelled case is compared in tests/core/test_columnar_evidence.py; here each
kind of part is checked on both sides of its boundaries and on hostile text, and a
row SQL cannot word exactly (left NULL) is worded in Python in the report.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.found import Found
from billdrift.core.model import Kind
from billdrift.core.rules.wording import (
    Capital,
    Choice,
    Fields,
    IdList,
    Joined,
    Quoted,
    Template,
    When,
    capitalized,
    email,
    ident,
    text,
    to_sql,
    to_text,
    to_words,
)
from billdrift.core.words import Ref
from billdrift.outputs.render import render_bytes
from tests.builders import account, app, billing, inputs, sub

_FIELD = pa.struct([("field", pa.string()), ("value", pa.string())])
_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("other", pa.string()),
        ("n", pa.int64()),
        ("flag", pa.bool_()),
        ("ids", pa.list_(pa.string())),
        ("joined", pa.string()),
        ("plans", pa.list_(pa.string())),
        ("fields", pa.list_(_FIELD)),
    ]
)

#: Each column on both sides of its boundaries, and text SQL must not mangle.
_ROWS: list[dict[str, Any]] = [
    {
        "name": "stripe",
        "other": "cus_1",
        "n": 3,
        "flag": True,
        "ids": ["cus_A", "cus_B"],
        "joined": ", ".join(f"a{i}" for i in range(12)),
        "plans": ["pro", "team"],
        "fields": [{"field": "paid", "value": None}, {"field": "status", "value": "active"}],
    },
    {
        "name": None,
        "other": None,
        "n": None,
        "flag": None,
        "ids": None,
        "joined": None,
        "plans": None,
        "fields": None,
    },
    {
        "name": "",
        "other": "",
        "n": 0,
        "flag": False,
        "ids": [],
        "joined": "",
        "plans": [],
        "fields": [],
    },
    {
        "name": 'O\'Brien \\ "x"\n\u00e9',  # quotes, a backslash, a newline, not ASCII
        "other": '=HYPERLINK("http://x")',
        "n": -(2**62),
        "flag": False,
        "ids": [None, "", "Ünïcode"],
        "joined": ", ".join(f"a{i}" for i in range(10)),
        "plans": ["x"],
        "fields": [{"field": "a=b", "value": "c, d"}],
    },
    {
        "name": "ßtraße",  # Python upper-cases ß to SS: SQL leaves it to Python
        "other": "plain plan",
        "n": 10,
        "flag": True,
        "ids": ["only"],
        "joined": "a, b",
        "plans": None,
        "fields": None,
    },
]

_TEMPLATES: dict[str, Template] = {
    "literal": ('It\'s 100% "plain" text; {no} holes',),
    "text": ("[", text("name"), "] [", text("n"), "]"),
    "or": (text("name", "other"), "|", text("other", default="none given")),
    "ids": (ident("name"), " ", ident("name", "other"), " ", email("other")),
    "capital": (Capital(text("name", default="billing")),),
    "choice": (
        Choice("name", (("stripe", ("S:", text("n"))), ("", ("empty",))), ("other:", text("name"))),
    ),
    "when": (When("flag", ("on",), ("off",), flag=True), When("name", ("named", text("name")))),
    "quoted": (Quoted("name", missing="no plan"), " ", Quoted("other", missing="-")),
    "joined": (Joined("plans"),),
    "list": (IdList("ids"),),
    "split": (IdList("joined", split=True, limit=10),),
    "fields": (Fields("fields"),),
    "missing column": (text("absent"), ident("absent"), When("absent", ("x",))),
}


@pytest.fixture(scope="module")
def sql_texts() -> dict[str, list[str | None]]:
    table = pa.Table.from_pylist(_ROWS, schema=_SCHEMA)
    con = duckdb.connect()
    con.register("rows", table)
    columns = frozenset(_SCHEMA.names)
    return {
        name: [t for (t,) in con.execute(f"SELECT {to_sql(tpl, columns)} FROM rows f").fetchall()]
        for name, tpl in _TEMPLATES.items()
    }


@pytest.mark.parametrize("name", sorted(_TEMPLATES))
def test_sql_words_each_row_as_python_does_or_leaves_it_to_python(
    name: str, sql_texts: dict[str, list[str | None]]
) -> None:
    python = [to_text(_TEMPLATES[name], row) for row in _ROWS]
    assert [s if s is not None else p for s, p in zip(sql_texts[name], python, strict=True)] == (
        python
    )


def test_only_text_sql_cannot_reproduce_is_left_to_python(
    sql_texts: dict[str, list[str | None]],
) -> None:
    """NULL exactly where Python's rules go beyond what SQL gives the same: repr of text
    needing escapes or other quotes, and upper-casing a first letter outside ASCII."""
    left = {
        name: [i for i, t in enumerate(texts) if t is None] for name, texts in sql_texts.items()
    }
    assert left.pop("quoted") == [3, 4]  # the second: not ASCII
    assert left.pop("capital") == [4]
    assert all(rows == [] for rows in left.values()), left


def test_python_shows_values_as_the_messages_always_did() -> None:
    given, none, empty, _, _ = (to_text(_TEMPLATES["text"], row) for row in _ROWS)
    assert given == "[stripe] [3]" and none == "[None] [None]" and empty == "[] [0]"
    assert to_text(_TEMPLATES["or"], _ROWS[2]) == "|none given"  # "" falls back, as `or`
    assert to_text(_TEMPLATES["quoted"], _ROWS[3]).startswith("'O\\'Brien")  # repr escapes
    assert to_text(_TEMPLATES["quoted"], _ROWS[1]) == "no plan -"
    assert to_text(_TEMPLATES["split"], _ROWS[0]).endswith("a9 and 2 more")
    assert to_text(_TEMPLATES["split"], _ROWS[3]).endswith("a9")  # exactly 10: no "more"
    assert to_text(_TEMPLATES["list"], _ROWS[1]) == "None"
    assert to_text(_TEMPLATES["joined"], _ROWS[2]) == "None"
    assert to_text(_TEMPLATES["fields"], _ROWS[0]) == "paid=null, status=active"
    assert to_text(_TEMPLATES["capital"], _ROWS[1]) == "Billing"


def test_ids_and_emails_are_kept_apart_for_masking() -> None:
    words = to_words(_TEMPLATES["ids"], _ROWS[0])
    assert words == (Ref("id", "stripe"), " ", Ref("id", "stripe"), " ", Ref("email", "cus_1"))
    # an empty or missing value is text, not something to mask
    assert to_words((ident("name"),), _ROWS[2]) == ("",)
    assert to_words((ident("name"),), _ROWS[1]) == ("None",)
    assert [p for p in to_words(_TEMPLATES["list"], _ROWS[3]) if isinstance(p, Ref)] == [
        Ref("id", "Ünïcode")
    ]


def test_capitalized_needs_literal_text_first() -> None:
    assert capitalized(("the app ", text("name"))) == ("The app ", text("name"))
    with pytest.raises(ValueError, match="literal"):
        capitalized((text("name"),))


def test_a_row_sql_cannot_word_is_worded_in_python_in_the_report() -> None:
    """A plan name with a quote: Python's repr picks other quotes, SQL leaves the message
    NULL, and the report's column holds Python's words, as the finding object does."""
    plan = 'Team\'s "pro"'
    report = reconcile(
        inputs(
            billing(sub("sub_1", "cus_1", price="price_team")),
            app(account("a1", "cus_1", access=True, plan=plan)),
            {"plans": {"price_team": "team"}},
        )
    )
    assert isinstance(report.findings, Found)
    (message,) = report.findings.column("message")
    assert message.endswith(f" {plan!r}.")
    (finding,) = report.findings
    assert finding.kind is Kind.PLAN_DRIFT and finding.message == message
    as_objects = replace(report, findings=(finding,))
    assert render_bytes("json", report) == render_bytes("json", as_objects)
