"""The check that the engine's findings as columns give the JSON document their objects
give, and that masking them as columns gives what masking them as
objects gives: the same JSON document, byte for byte, and equal finding objects, in
every mode. Used here and on every labelled rule case (tests/core/test_columnar_evidence.py)."""

from __future__ import annotations

from dataclasses import replace

from billdrift.core.found import Found
from billdrift.core.report import Report
from billdrift.outputs.mask import mask_report
from billdrift.outputs.render import render

#: A fixed key: the two ways must mask each id alike.
KEY = b"billdrift-test-key"


def check_masking(report: Report) -> None:
    """`report` (its findings as the engine gives them) masked as columns and as objects:
    the same document and findings, and the columns way really taken."""
    found = report.findings
    assert isinstance(found, Found)
    as_objects = replace(report, findings=tuple(found))
    # unmasked first: the findings' JSON written from the columns is the objects'
    assert render("json", report) == render("json", as_objects)
    for mode in ("emails", "all"):
        columns = mask_report(report, mode, KEY)
        objects = mask_report(as_objects, mode, KEY)
        assert isinstance(columns.findings, Found) and not columns.findings.parts
        assert render("json", columns) == render("json", objects), mode
        assert tuple(columns.findings) == objects.findings, mode
        for mine, theirs in zip(columns.findings, objects.findings, strict=True):
            assert vars(mine) == vars(theirs), mode  # words included: none either way
