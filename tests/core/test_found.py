"""The engine's findings as columns (issue 17): the report and its JSON read them
without making a finding object, and say exactly what the objects say."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta

import orjson
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.found import Found, Tracked
from billdrift.core.model import KIND_ORDER, Kind, Severity, Verdict
from billdrift.core.report import Changes, Gone, Report, decide_verdict
from billdrift.core.views import Chained, Picked
from billdrift.outputs.render import render_bytes
from billdrift.outputs.render.csv_format import CsvRenderer
from billdrift.outputs.render.json_format import JsonRenderer
from tests.builders import NOW, account, app, billing, inputs, sub, tracked_as_new


def _every_kind(config: dict[str, object] | None = None) -> Report:
    later = (NOW + timedelta(days=20)).isoformat()
    subs = [
        sub("sub_B", "cus_B", amount=1000),  # paid_but_blocked
        sub("sub_E", "cus_E", "canceled", amount=2500),  # unpaid_but_active
        sub("sub_O", "cus_O", current_period_end=later, currency="eur"),  # orphaned
        sub("sub_S", "cus_S"),  # duplicate_customer
        sub("sub_P", "cus_P", price="price_team", amount=999),  # plan_drift
        sub("sub_U", "cus_U", "weird_status"),  # ambiguous
    ]
    accounts = [
        account("a_B", "cus_B", access=False),
        account("a_E", "cus_E", access=True),
        account("a_N", None, access=True),  # missing_billing_link
        account("a_G", "cus_Gone", access=True),  # stale_billing_link
        account("a_S1", "cus_S", access=True),
        account("a_S2", "cus_S", access=True),
        account("a_P", "cus_P", access=True, plan="pro"),
        account("a_U", "cus_U", access=True),
    ]
    policy = {"plans": {"price_team": "team"}, **(config or {})}
    return reconcile(inputs(billing(*subs), app(*accounts), policy))


@pytest.fixture(scope="module")
def report() -> Report:
    return _every_kind()


def test_the_engine_gives_columns_in_report_order(report: Report) -> None:
    found = report.findings
    assert isinstance(found, Found) and len(found) >= 7
    severities = found.column("severity")
    assert severities == sorted(severities, reverse=True)  # most severe first
    for level in set(severities):  # within a severity, rules in kind order
        kinds = [k for k, s in zip(found.column("kind"), severities, strict=True) if s == level]
        positions = [[kind.value for kind in KIND_ORDER].index(k) for k in kinds]
        assert positions == sorted(positions)


def test_a_json_report_makes_no_finding_object(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The JSON document, the verdict and every total are read from the columns."""
    expected = JsonRenderer().render_bytes(replace(report, findings=tuple(report.findings)))

    def refuse(self: Found) -> None:
        raise AssertionError("a finding object was made")

    fresh = _every_kind()
    monkeypatch.setattr(Found, "objects", refuse)
    assert JsonRenderer().render_bytes(fresh) == expected
    assert fresh.verdict is Verdict.FAIL and fresh.by_kind and fresh.exposure_by_currency


def test_a_json_report_takes_the_evidence_as_the_engine_wrote_it(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No evidence is parsed for the document: each finding's is the engine's text, on
    one line, and says what the parsed evidence says."""
    texts = _every_kind().findings
    assert isinstance(texts, Found)
    parsed = texts.evidence()

    def refuse(self: Found) -> None:
        raise AssertionError("the evidence was parsed")

    fresh = _every_kind()
    monkeypatch.setattr(Found, "evidence", refuse)
    document = JsonRenderer().render_bytes(fresh)
    lines = [line for line in document.decode().splitlines() if '"evidence":' in line]
    assert len(lines) == len(parsed) == len(fresh.findings)
    assert [orjson.loads(line.split('"evidence": ', 1)[1].rstrip(",")) for line in lines] == parsed
    assert [f["evidence"] for f in orjson.loads(document)["findings"]] == parsed


def test_review_notes_are_added_to_the_evidence_text(report: Report) -> None:
    found = report.findings
    assert isinstance(found, Found)
    notes = {1: [{"decision": "acknowledged", "note": 'known, "VIP" é'}]}
    tracked = tracked_as_new(found, notes)
    texts = tracked.evidence_texts()
    assert [orjson.loads(text) for text in texts] == tracked.evidence()
    assert orjson.loads(texts[1])["reviews"] == notes[1]
    assert texts[0] == found.evidence_texts()[0] and "reviews" not in texts[0]
    document = orjson.loads(JsonRenderer().render_bytes(replace(report, findings=tracked)))
    assert document["findings"][1]["evidence"]["reviews"] == notes[1]


def _tracked(found: Found, notes: dict[int, list[dict[str, str]]] | None = None) -> Found:
    size = len(found)
    return found.tracked(
        Tracked(
            status=["new", "ongoing", "reopened"] * (size // 3) + ["new"] * (size % 3),
            fingerprint=[f"f{i}" for i in range(size)],
            first_seen=[NOW - timedelta(days=i) for i in range(size)],
            review=["acknowledged" if i % 2 else None for i in range(size)],
            review_until=[None] * size,
            notes=notes or {},
        )
    )


@pytest.mark.parametrize("recorded", [False, True])
def test_a_csv_report_is_written_from_the_columns(
    report: Report, recorded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CSV document from the columns is byte for byte the one written from finding
    objects (grouped order, formula-safe cells, evidence, history cells), and builds none."""
    found = report.findings
    assert isinstance(found, Found)
    if recorded:
        found = _tracked(found, {2: [{"decision": "snoozed", "note": "=cmd"}]})
        gone = Gone(Kind.PLAN_DRIFT, "=1+1", None, "sub_x", "f9", Severity.MEDIUM, None, NOW)
        report = replace(report, findings=found, changes=Changes(NOW, (gone,)))
    expected = CsvRenderer().render(replace(report, findings=tuple(found)))
    monkeypatch.setattr(Found, "objects", lambda self: pytest.fail("a finding object was made"))
    assert CsvRenderer().render(report) == expected
    rows = list(csv.reader(io.StringIO(expected)))
    kinds = [row[0] for row in rows[1 : len(found) + 1]]
    assert kinds == sorted(kinds, key=[kind.value for kind in KIND_ORDER].index)
    assert len(set(kinds)) >= 7 and (len(rows[0]) == 15) is recorded


def test_csv_cells_from_the_columns_are_formula_safe() -> None:
    """Ids an outsider controls, written from the columns, stay text a spreadsheet shows."""
    payload = '=HYPERLINK("https://evil.example","x")'
    report = reconcile(
        inputs(
            billing(sub("+sub", "-cus", amount=1000)),
            app(account(payload, "-cus", access=False)),
        )
    )
    assert isinstance(report.findings, Found)
    header, row = list(csv.reader(io.StringIO(CsvRenderer().render(report))))
    cells = dict(zip(header, row, strict=True))
    assert cells["account_id"] == "'" + payload
    assert (cells["customer_id"], cells["subscription_id"]) == ("'-cus", "'+sub")
    assert cells["monthly_amount"] == "10.00" and cells["confidence"] == "1.0"


def test_the_columns_say_what_the_objects_say(report: Report) -> None:
    found = report.findings
    assert isinstance(found, Found)
    objects = tuple(found)
    # the same document: evidence is taken as the engine wrote it, or written again compact
    as_objects = replace(report, findings=objects)
    assert render_bytes("json", report) == render_bytes("json", as_objects)
    for total in ("by_kind", "by_severity", "exposure_by_currency", "exposure_by_kind"):
        assert getattr(report, total) == getattr(as_objects, total), total
    # 10 + 25 + 9.99 + the ambiguous 29 (a duplicate link carries no money)
    assert report.exposure_by_currency == {"EUR": "29.00", "USD": "73.99"}
    for level in Severity:
        assert decide_verdict(found, (), (), level) == decide_verdict(objects, (), (), level)


def test_found_is_a_sequence_of_findings(report: Report) -> None:
    found = report.findings
    objects = tuple(found)
    assert found == objects and objects == found and list(found) == list(objects)
    assert found[0] == objects[0] and tuple(found[1:3]) == objects[1:3]
    assert found != objects[1:] and found != "text"
    assert repr(found) == f"Found({len(objects)} findings)"
    assert found.objects() is found.objects()  # made once


def test_suppressed_rows_leave_the_columns(report: Report) -> None:
    excused = _every_kind({"exceptions": [{"account": "a_E", "reason": "comped"}]})
    assert [s.finding.account_id for s in excused.suppressed] == ["a_E"]
    assert "a_E" not in excused.findings.column("account_id")  # type: ignore[attr-defined]
    assert len(excused.findings) == len(report.findings) - 1
    document = orjson.loads(JsonRenderer().render_bytes(excused))
    assert [s["account_id"] for s in document["suppressed"]] == ["a_E"]
    assert document["summary"]["findings"] == len(report.findings) - 1


def test_no_finding_is_an_empty_table() -> None:
    clean = reconcile(inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1"))))
    assert isinstance(clean.findings, Found) and len(clean.findings) == 0
    assert clean.verdict is Verdict.PASS and clean.by_kind == {}
    assert orjson.loads(render_bytes("json", clean))["findings"] == []


def test_the_lifecycle_views_make_no_object_for_a_count(
    report: Report, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = report.findings
    objects = tuple(found)
    extra = objects[:2]
    chained, picked = Chained(found, extra), Picked(found, [3, 0, 1])

    def refuse(self: Found) -> None:
        raise AssertionError("a finding object was made")

    with monkeypatch.context() as patched:
        patched.setattr(Found, "objects", refuse)
        assert len(chained) == len(objects) + 2 and len(picked) == 3 and bool(picked)
    assert tuple(chained) == objects + extra and chained[-1] == extra[-1]
    assert chained[len(objects)] == extra[0] and tuple(chained[-3:]) == (objects[-1], *extra)
    assert picked == (objects[3], objects[0], objects[1]) and picked[-1] == objects[1]
    assert tuple(picked[1:]) == (objects[0], objects[1]) and repr(picked) == "Picked(3 findings)"
    with pytest.raises(IndexError):
        picked[3]
    assert Picked(found, []) == () and not Picked(found, [])
