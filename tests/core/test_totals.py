"""A report's totals as column work (billdrift.core.totals): counts per kind and
severity, money per currency and per kind. The engine's columns and finding objects
give the same totals: tests/core/test_found.py compares them on a labelled run."""

from __future__ import annotations

import subprocess
import sys

import pyarrow as pa
import pytest

from billdrift.core import totals
from billdrift.core.model import Finding, Kind, Severity, Verdict
from billdrift.core.report import Report
from tests.builders import NOW
from tests.outputs.alerts.samples import finding


def _report(*findings: Finding) -> Report:
    return Report(verdict=Verdict.FAIL, as_of=NOW, fail_on=Severity.HIGH, findings=findings)


def test_counts_follow_kind_and_severity_order() -> None:
    report = _report(
        finding(Kind.PAID_BUT_BLOCKED, "a1", "c1", "s1"),
        finding(Kind.DUPLICATE_CUSTOMER, None, "c2", None, severity=Severity.MEDIUM),
        finding(Kind.PAID_BUT_BLOCKED, "a3", "c3", "s3"),
        finding(Kind.STALE_BILLING_LINK, "a4", "c4", None, severity=Severity.LOW),
    )
    assert list(report.by_kind.items()) == [
        ("paid_but_blocked", 2),
        ("stale_billing_link", 1),
        ("duplicate_customer", 1),
    ]
    assert list(report.by_severity.items()) == [("high", 2), ("medium", 1), ("low", 1)]


def test_no_findings_no_totals() -> None:
    report = _report()
    assert (report.by_kind, report.by_severity) == ({}, {})
    assert (report.exposure_by_currency, report.exposure_by_kind) == ({}, {})


def test_a_subscription_counts_as_its_first_finding_has_it() -> None:
    without_money = finding(Kind.PAID_BUT_BLOCKED, "a1", "c1", "s1", amount=None)
    with_money = finding(Kind.PLAN_DRIFT, "a1", "c1", "s1", amount="29.00")
    # first without money: the subscription adds nothing, though a later finding has some
    assert _report(without_money, with_money).exposure_by_currency == {}
    # first with money: counted once
    assert _report(with_money, without_money, with_money).exposure_by_currency == {"USD": "29.00"}
    # per kind, every finding's money counts
    assert _report(with_money, with_money).exposure_by_kind == {"plan_drift": {"USD": "58.00"}}


def test_findings_without_a_subscription_each_count() -> None:
    report = _report(
        finding(Kind.ORPHANED_SUBSCRIPTION, None, "c1", None, amount="10.00"),
        finding(Kind.ORPHANED_SUBSCRIPTION, None, "c2", None, amount="10.00"),
        finding(Kind.ORPHANED_SUBSCRIPTION, None, "c3", "s3", amount="10.00"),
        finding(Kind.ORPHANED_SUBSCRIPTION, None, "c3", "s3", amount="10.00"),
    )
    assert report.exposure_by_currency == {"USD": "30.00"}
    assert report.exposure_by_kind == {"orphaned_subscription": {"USD": "40.00"}}


def test_money_is_summed_exactly_per_currency_and_kind() -> None:
    report = _report(
        finding(Kind.PAID_BUT_BLOCKED, "a1", "c1", "s1", amount="0.10"),
        finding(Kind.PAID_BUT_BLOCKED, "a2", "c2", "s2", amount="0.20"),
        finding(Kind.PAID_BUT_BLOCKED, "a3", "c3", "s3", amount="5000", currency="JPY"),
        finding(Kind.UNPAID_BUT_ACTIVE, "a4", "c4", "s4", amount="1" + "0" * 40),
        finding(Kind.UNPAID_BUT_ACTIVE, "a5", "c5", "s5", amount="0.01"),
    )
    # exact decimals (no 0.30000000000000004, no 1E+40), currencies apart and in order
    assert report.exposure_by_currency == {"JPY": "5000", "USD": "1" + "0" * 40 + ".31"}
    assert report.exposure_by_kind == {
        "paid_but_blocked": {"JPY": "5000", "USD": "0.30"},
        "unpaid_but_active": {"USD": "1" + "0" * 40 + ".01"},
    }


@pytest.mark.parametrize("rows", [1, 7, 300])
def test_distinct_combinations_are_counted_whatever_the_columns(rows: int) -> None:
    """Codes combine column by column: every combination counted, none merged."""
    first = [f"k{i % 3}" for i in range(rows)]
    second = [None if i % 5 == 0 else f"v{i % 4}" for i in range(rows)]
    table = pa.table({"a": first, "b": second})
    expected: dict[tuple[object, ...], int] = {}
    for pair in zip(first, second, strict=True):
        expected[pair] = expected.get(pair, 0) + 1
    got = {(a, b): n for a, b, n in totals._distinct(table, ("a", "b"))}
    assert got == expected


def test_totals_do_not_load_arrow_query_engine() -> None:
    """Table.group_by would import pyarrow.acero and pyarrow.dataset (20 ms)."""
    code = (
        "import sys\n"
        "from billdrift.core.report import Report\n"
        "from billdrift.core.model import Severity, Verdict\n"
        "from tests.outputs.alerts.samples import PAID_JANE, PAID_OPS\n"
        "from tests.builders import NOW\n"
        "r = Report(verdict=Verdict.FAIL, as_of=NOW, fail_on=Severity.HIGH,"
        " findings=(PAID_JANE, PAID_OPS, PAID_JANE))\n"
        "assert r.exposure_by_currency and r.exposure_by_kind and r.by_kind\n"
        "print('pyarrow.acero' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"
