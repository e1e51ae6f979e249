"""A rule with few reported rows is worded in Python, one with many in SQL (issue 17).

Planning a rule's evidence and word expressions costs DuckDB milliseconds whatever the
rows, so a small check words its findings in Python from the same declarations
(:data:`billdrift.core.findings.WORDED_IN_PYTHON_MAX`). The report must not tell which:
``tests/core/test_columnar_evidence.py`` holds every labelled case's rows to the same
text both ways; here the switch itself is held on both sides of its boundary.
"""

from __future__ import annotations

import orjson
import pytest

from billdrift.core import findings
from billdrift.core.engine import reconcile
from billdrift.core.found import Found
from billdrift.core.model import Kind
from billdrift.core.report import Report
from billdrift.outputs.render.csv_format import CsvRenderer
from billdrift.outputs.render.json_format import JsonRenderer
from tests.builders import account, app, billing, inputs, sub
from tests.core.test_found import _every_kind

#: Paid-but-blocked findings in :func:`_blocked`.
BLOCKED = 4


def _blocked() -> Report:
    subs = [sub(f"sub_{i}", f"cus_{i}", amount=100 * (i + 1)) for i in range(BLOCKED)]
    accounts = [account(f"a_{i}", f"cus_{i}", access=False) for i in range(BLOCKED)]
    accounts.append(account("a_free", None))  # one missing billing link
    return reconcile(inputs(billing(*subs), app(*accounts)))


@pytest.fixture()
def in_sql(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds whose rows the engine worded in SQL, in the order it fetched them."""
    kinds: list[str] = []
    worded = findings.worded

    def spied(rule, query, columns):  # type: ignore[no-untyped-def]
        kinds.append(rule.kind.value)
        return worded(rule, query, columns)

    monkeypatch.setattr(findings, "worded", spied)
    return kinds


@pytest.mark.parametrize(
    ("limit", "sql_kinds"), [(BLOCKED, []), (BLOCKED - 1, ["paid_but_blocked"])]
)
def test_the_switch_is_the_rule_s_row_count(
    limit: int, sql_kinds: list[str], in_sql: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(findings, "WORDED_IN_PYTHON_MAX", limit)
    report = _blocked()
    assert report.by_kind == {Kind.PAID_BUT_BLOCKED.value: BLOCKED, "missing_billing_link": 1}
    assert in_sql == sql_kinds  # the one-row rule is worded in Python either way


@pytest.mark.parametrize("build", [_blocked, _every_kind])
def test_the_report_does_not_tell_which_way(build, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    documents = []
    for limit in (-1, 10**9):  # every rule in SQL, then every rule in Python
        monkeypatch.setattr(findings, "WORDED_IN_PYTHON_MAX", limit)
        report = build()
        documents.append((JsonRenderer().render_bytes(report), CsvRenderer().render(report)))
        assert report.findings and tuple(report.findings)  # the objects build too
    assert documents[0] == documents[1]


def test_control_characters_read_the_same_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB escapes a control character with upper-case hex, orjson with lower case:
    the evidence text is orjson's either way, so the documents and the history's text
    digests cannot tell which way a rule's rows were worded."""
    odd = "x\x0b\x1b\x1f\u2028é\\u000B"  # the last six are text: a backslash and "u000B"
    subs = [sub("sub_1", "cus_1", amount=100)]
    accounts = [account("a_1", "cus_1", access=False, email=f"{odd}@example.com", plan=odd)]
    texts = []
    for limit in (-1, 10**9):
        monkeypatch.setattr(findings, "WORDED_IN_PYTHON_MAX", limit)
        found = reconcile(inputs(billing(*subs), app(*accounts))).findings
        assert isinstance(found, Found)
        (text,) = found.evidence_texts()
        assert text == orjson.dumps(orjson.loads(text)).decode() and "\\u001b" in text
        assert orjson.loads(text)["app"]["plan"] == odd
        texts.append(text)
    assert texts[0] == texts[1]
