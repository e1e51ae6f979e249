"""Every output format: snapshots, JSON schema validity, 80 columns, masking."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.outputs.mask import Masker, mask_email, mask_report
from billdrift.outputs.render import RENDERERS, render, render_bytes, renderer_class
from tests.builders import account, app, billing, inputs, sub

SCHEMA = json.loads(
    (resources.files("billdrift") / "schema" / "report.schema.json").read_text("utf-8")
)


def sample_report() -> Report:
    subs = billing(
        sub("sub_1", "cus_1", email="ann@example.com"),
        sub("sub_2", "cus_2", "canceled"),
        sub("sub_3", "cus_3", amount=5000, currency="jpy"),
        sub("sub_4", "cus_4", "inactive"),
        sub("sub_5", "cus_5", price="price_basic"),
    )
    accounts = app(
        account("a1", "cus_1", access=False, email="ann@example.com"),
        account("a2", "cus_2", access=True, email="bob@example.com", status="active"),
        account("a4", "cus_4", access=True, status="active"),
        account("a5", "cus_5", plan="pro", status="canceled"),
        account("a6", None, plan="pro", email="nolink@example.com", status="active"),
        account("a7", "cus_7", access=False),
        with_status=True,
    )
    config = {
        "plans": {"price_basic": "basic"},
        "exceptions": [{"account": "a7", "reason": "legacy import"}],
        "policy": {"partial_min_links": 100},
    }
    return reconcile(inputs(subs, accounts, config))


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_every_format_matches_its_snapshot(name: str, snapshot) -> None:  # type: ignore[no-untyped-def]
    # LF: the snapshot fixture reads with newline translation, and CSV ends lines in CRLF.
    snapshot(f"report.{name}", render(name, sample_report()).replace("\r\n", "\n"))


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_the_bytes_written_are_the_document_in_utf8(name: str) -> None:
    """The CLI writes render_bytes (JSON skips a decode and re-encode); every format
    must write exactly its text document."""
    report = sample_report()
    document = render(name, report)
    assert document
    assert render_bytes(name, report) == document.encode("utf-8")


def test_format_registry_is_exhaustive() -> None:
    assert sorted(RENDERERS) == ["csv", "html", "json", "markdown", "text"]
    assert {name: renderer_class(name).name for name in RENDERERS} == {
        name: name for name in RENDERERS
    }


def test_a_format_loads_only_its_own_renderer() -> None:
    """A check writes one format: the others' modules are not imported (issue 17)."""
    probe = (
        "import sys\n"
        "from billdrift.outputs.render import render\n"
        "from tests.outputs.test_render import sample_report\n"
        "render('json', sample_report())\n"
        "print(sorted(m for m in sys.modules if m.startswith('billdrift.outputs.render.')"
        " and m.rsplit('.', 1)[1] in ('html', 'markdown', 'csv_format', 'text')))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"


def test_json_validates_against_the_schema() -> None:
    document = json.loads(render("json", sample_report()))
    jsonschema.validate(document, SCHEMA)
    assert document["verdict"] == "FAIL" and document["exit_code"] == 1
    assert document["summary"]["by_kind"]["paid_but_blocked"] == 1
    assert document["summary"]["exposure"] == {"JPY": "5000", "USD": "116.00"}
    assert document["suppressed"][0]["suppressed_reason"] == "legacy import"


def test_error_report_validates_and_has_no_findings() -> None:
    report = reconcile(inputs(billing(), app(account("a1", "cus_1"))))
    assert report.verdict is Verdict.ERROR
    document = json.loads(render("json", report))
    jsonschema.validate(document, SCHEMA)
    assert document["findings"] == [] and document["exit_code"] == 2
    assert "ERROR" in render("text", report) and "ERROR" in render("markdown", report)


def test_text_fits_80_columns_and_lists_urgent_first() -> None:
    text = render("text", sample_report())
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text.index("Paid but blocked") < text.index("Unpaid but active")
    assert text.splitlines()[0].startswith("billdrift: FAIL")


def test_markdown_escapes_table_cells() -> None:
    report = sample_report()
    text = render("markdown", report)
    assert text.startswith("## billdrift: FAIL")
    for line in text.splitlines():
        if line.startswith("| high") or line.startswith("| medium"):
            assert line.count(" | ") == 6  # seven columns, no stray pipes


def test_mask_helpers() -> None:
    assert mask_email("jane.doe@example.com") == "j***@e***.com"
    masker = Masker("all", key=b"k")
    assert masker.id("cus_N3x8Q2abc9").startswith("cus_…")
    assert masker.id("42") != masker.id("43")  # short ids no longer all become "…"
    assert "42" not in masker.id("42")


def test_masked_report_leaks_no_email_or_id() -> None:
    masked = mask_report(sample_report())
    for name in RENDERERS:
        text = render(name, masked)
        for secret in (
            "ann@example.com",
            "bob@example.com",
            "nolink@example.com",
            "cus_1",
            "sub_1",
            "cus_7",
        ):
            assert secret not in text, (name, secret)
    assert masked.findings[0].kind == sample_report().findings[0].kind
