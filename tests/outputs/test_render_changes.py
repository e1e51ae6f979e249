"""Change first (issue 14): with a history store every format marks each finding
new / ongoing / reopened with its first-seen time and fingerprint, names what
resolved, and leads with what changed since when; without one, it says nothing."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import UTC, datetime

import jsonschema
import pytest

from billdrift.core.model import Exposure, Kind, Severity, Tracking
from billdrift.core.report import Changes, Gone, Report
from billdrift.outputs.render import RENDERERS, render
from billdrift.outputs.render.common import change_first
from tests.outputs.test_render import SCHEMA, sample_report

PREVIOUS = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)
FIRST = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
GONE_FP = "ab" * 32


def _fp(i: int) -> str:
    return f"{i:x}".rjust(2, "0") * 32


def tracked_report() -> Report:
    """The sample report as a history store would hand it over: the last finding
    new, the second-to-last reopened, the rest ongoing, one acknowledged, one resolved."""
    report = sample_report()
    n = len(report.findings)
    findings = []
    for i, finding in enumerate(report.findings):
        status = "new" if i == n - 1 else "reopened" if i == n - 2 else "ongoing"
        review = "acknowledged" if i == 0 else None
        tracking = Tracking(status, _fp(i + 1), PREVIOUS if status == "new" else FIRST, review)
        findings.append(dataclasses.replace(finding, tracking=tracking))
    gone = Gone(Kind.PLAN_DRIFT, "a9", "cus_9", "sub_9", GONE_FP, Severity.MEDIUM, None, FIRST)
    return dataclasses.replace(report, findings=tuple(findings), changes=Changes(PREVIOUS, (gone,)))


@pytest.mark.parametrize("name", ["text", "markdown", "html"])
def test_human_formats_lead_with_what_changed_and_mark_every_finding(name: str) -> None:
    report = tracked_report()
    document = render(name, report)
    new = sum(1 for f in report.findings if f.tracking and f.tracking.status == "new")
    assert f"Since the previous run (2026-12-03 06:00 UTC): {new} new" in document
    assert "1 reopened, 1 resolved;" in document
    assert "Resolved since 2026-12-03 06:00 UTC (1)" in document
    assert GONE_FP[:12] in document and "a9" in document
    for finding in report.findings:
        assert finding.tracking is not None
        assert finding.tracking.fingerprint[:12] in document
    assert "acknowledged" in document
    summary = document.index("Since the previous run")
    assert summary < document.index(report.findings[0].message.split(" (")[0][:30])


def test_markdown_puts_new_and_reopened_first() -> None:
    report = tracked_report()
    document = render("markdown", report)
    rows = [
        line for line in document.splitlines() if line.startswith("| **") or "| ongoing" in line
    ]
    assert rows[0].startswith("| **new**") and rows[1].startswith("| **reopened**")
    assert all("ongoing" in row for row in rows[2:])


def test_change_first_orders_by_status_then_urgency_then_severity_then_money() -> None:
    ordered = change_first(tracked_report().findings)
    statuses = [f.tracking.status for f in ordered if f.tracking]
    assert statuses[:2] == ["new", "reopened"] and set(statuses[2:]) == {"ongoing"}
    ongoing = ordered[2:]
    keys = [(f.kind is not Kind.PAID_BUT_BLOCKED, -f.severity) for f in ongoing]
    assert keys == sorted(keys)
    assert change_first(reversed(ordered)) != [] and change_first(ordered) == ordered


def test_change_first_never_compares_money_across_currencies() -> None:
    """Amounts in different currencies are not comparable (JPY 50000 is not more than
    USD 900): by currency, then the larger amount first; no money last."""
    base = dataclasses.replace(
        sample_report().findings[0], tracking=Tracking("ongoing", _fp(1), FIRST)
    )
    amounts = [("JPY", "50000"), ("USD", "20.00"), (None, None), ("USD", "900.00"), ("EUR", "100")]
    findings = [
        dataclasses.replace(
            base,
            account_id=f"a{i}",
            exposure=None if currency is None else Exposure(str(amount), currency),
        )
        for i, (currency, amount) in enumerate(amounts)
    ]
    shown = [
        None if f.exposure is None else (f.exposure.currency, f.exposure.monthly_amount)
        for f in change_first(findings)
    ]
    assert shown == [("EUR", "100"), ("JPY", "50000"), ("USD", "900.00"), ("USD", "20.00"), None]
    tracked = dataclasses.replace(
        sample_report(), findings=tuple(findings), changes=Changes(PREVIOUS, ())
    )
    document = render("markdown", tracked)
    rows = [line.split(" | ")[3] for line in document.splitlines() if "| ongoing |" in line]
    assert rows == ["a4", "a0", "a3", "a1", "a2"]


def test_json_has_the_full_fingerprint_status_and_what_resolved() -> None:
    report = tracked_report()
    document = json.loads(render("json", report))
    jsonschema.validate(document, SCHEMA)
    first = document["findings"][0]["lifecycle"]
    assert first == {
        "status": "ongoing",
        "fingerprint": _fp(1),
        "first_seen": "2026-11-01T06:00:00Z",
        "review": {"decision": "acknowledged", "until": None},
    }
    changes = document["changes"]
    assert changes["previous_run_at"] == "2026-12-03T06:00:00Z"
    assert (changes["new"], changes["reopened"]) == (1, 1)
    assert changes["resolved"][0]["fingerprint"] == GONE_FP


def test_csv_adds_history_columns_and_a_row_per_resolved_finding() -> None:
    rows = list(csv.DictReader(io.StringIO(render("csv", tracked_report()))))
    assert {row["status"] for row in rows} == {"new", "reopened", "ongoing", "resolved"}
    resolved = next(row for row in rows if row["status"] == "resolved")
    assert (resolved["kind"], resolved["account_id"], resolved["fingerprint"]) == (
        "plan_drift",
        "a9",
        GONE_FP,
    )
    assert all(len(row["fingerprint"]) == 64 for row in rows)


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_without_history_no_format_claims_a_status(name: str) -> None:
    document = render(name, sample_report())
    shown = document.split("</style>")[-1]  # the HTML stylesheet names every status
    for claim in ("Since the previous run", "Resolved since", "first seen", "ongoing"):
        assert claim not in shown
    if name == "json":
        parsed = json.loads(document)
        assert parsed["changes"] is None
        assert all(f["lifecycle"] is None for f in parsed["findings"])
    if name == "csv":
        assert "fingerprint" not in document.splitlines()[0]


def test_a_first_recorded_run_says_so() -> None:
    report = dataclasses.replace(tracked_report(), changes=Changes(None, ()))
    assert "First recorded run: 1 new" in render("text", report)
