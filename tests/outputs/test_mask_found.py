"""Masking the engine's findings as columns (billdrift.outputs.mask_found): the same
report as masking the finding objects, without building them."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import orjson
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.found import Found
from billdrift.core.model import Kind
from billdrift.core.report import Report
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.wording import ident, text
from billdrift.outputs import mask_found as mask_found_module
from billdrift.outputs.mask import Masker, mask_report
from billdrift.outputs.mask_found import mask_found, maskable
from billdrift.outputs.render import render
from tests.builders import NOW, account, app, billing, inputs, sub, tracked_as_new
from tests.outputs.mask_check import KEY, check_masking


def _every_kind() -> Report:
    """Every kind of finding, with emails and hostile text where the words show them."""
    later = (NOW + timedelta(days=20)).isoformat()
    subs = [
        sub("sub_B", "cus_B", amount=1000, email="ann.b@example.com"),
        sub("sub_E", "cus_E", "canceled", amount=2500),
        sub("sub_O", "cus_O", current_period_end=later, currency="eur", email="o@example.org"),
        sub("sub_S", "cus_S"),
        sub("sub_P", "cus_P", price="price_team", amount=999),
        sub("sub_U", "cus_U", "weird 'status' \u00e9"),  # quoted and non-ASCII: Python words it
        sub("sub_M1", "cus_M1", email="same@example.com"),
        sub("sub_M2", "cus_M2", email="same@example.com"),
    ]
    accounts = [
        account("a_B", "cus_B", access=False, email="ann.b@example.com"),
        account("a_E", "cus_E", access=True, email="e@example.com"),
        account("a_N", None, access=True, email="nolink@example.com"),
        account("a_G", "cus_Gone", access=True),
        account("a, S1", "cus_S", access=True),  # ", " inside an id of a joined list
        account("a_S2", "cus_S", access=True),
        account("a_P", "cus_P", access=True, plan="pro mail@plan.example.com"),
        account("a_U", "cus_U", access=True),
        account("a_M", None, access=True, email="same@example.com"),  # two candidates
    ]
    policy = {"plans": {"price_team": "team"}}
    return reconcile(inputs(billing(*subs), app(*accounts), policy))


@pytest.fixture(scope="module")
def report() -> Report:
    return _every_kind()


def test_every_rule_can_be_masked_as_columns() -> None:
    assert all(maskable(rule) for rule in ALL_RULES)


@pytest.mark.parametrize("in_sql", [True, False])
def test_columns_and_objects_mask_alike(
    report: Report, in_sql: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The words masked columns give, worded in SQL (as for a rule with many rows; a
    quoted status with an accent is worded in Python even so) and in Python."""
    monkeypatch.setattr(mask_found_module, "WORDED_IN_SQL_FROM", 0 if in_sql else 10**9)
    kinds = {finding.kind for finding in report.findings}
    assert {Kind.PAID_BUT_BLOCKED, Kind.DUPLICATE_CUSTOMER, Kind.AMBIGUOUS} <= kinds
    check_masking(report)


def test_masked_columns_hide_every_id_and_email(report: Report) -> None:
    document = render("json", mask_report(report, "all", KEY))
    for value in ("a_B", "cus_B", "sub_B", "ann.b@example.com", "a, S1", "cus_S", "a_S2"):
        assert value not in document, value
    # an email in plain text is masked too: in the evidence and in the words
    assert "mail@plan.example.com" not in document
    assert '"plan":"pro m***@p***.com"' in document and "'pro m***@p***.com'" in document
    emails = render("json", mask_report(report, "emails", KEY))
    assert "a_B" in emails and "cus_B" in emails and "ann.b@example.com" not in emails


def test_a_rule_reading_a_column_two_ways_is_masked_as_objects(report: Report) -> None:
    found = report.findings
    assert isinstance(found, Found)
    (rule, rows), *others = found.parts
    twice = dataclasses.replace(rule, message=(ident("account_id"), " ", text("account_id")))
    assert maskable(rule) and not maskable(twice)
    mixed = Found.of_rules([(twice, rows), *others])
    assert mask_found(mixed, Masker("all", KEY)) is None
    masked = mask_report(dataclasses.replace(report, findings=mixed), "all", KEY)
    assert isinstance(masked.findings, tuple)  # masked as objects
    # the id is masked where the words name it, shown where they read it as text: masking
    # the column would have hidden both
    first = masked.findings[0]
    assert first.account_id is not None and first.message == f"{first.account_id} a_B"


def test_review_notes_are_masked_once(report: Report) -> None:
    found = report.findings
    assert isinstance(found, Found)
    note = {"decision": "acknowledged", "by": "ops", "note": "asked ann.b@example.com"}
    tracked = tracked_as_new(found, {0: [note]})
    tracked_report = dataclasses.replace(report, findings=tracked)
    check_masking(tracked_report)
    masked = mask_report(tracked_report, "all", KEY).findings
    (reviews,) = [f.evidence["reviews"] for f in masked if "reviews" in f.evidence]
    assert reviews == [{**note, "note": "asked a***@e***.com"}]
    document = orjson.loads(render("json", mask_report(tracked_report, "all", KEY)))
    assert document["findings"][0]["lifecycle"]["status"] == "new"


def test_no_findings_mask_to_no_findings() -> None:
    clean = reconcile(inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1"))))
    assert not clean.findings
    masked = mask_report(clean, "all", KEY)
    assert len(masked.findings) == 0 and render("json", masked) == render(
        "json", mask_report(dataclasses.replace(clean, findings=()), "all", KEY)
    )
