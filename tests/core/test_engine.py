"""Engine plumbing that is not a rule: process state it touches must be restored."""

from __future__ import annotations

import gc
from dataclasses import replace

import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from tests.builders import account, app, billing, inputs, sub


@pytest.mark.parametrize("enabled_before", [True, False])
def test_garbage_collector_state_is_restored(enabled_before: bool) -> None:
    """The engine leaves the collector as the caller set it: pausing it is the use
    case's job (tests/usecases/test_check.py), in one place."""
    data = inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1", access=False)))
    was = gc.isenabled()
    try:
        if enabled_before:
            gc.enable()
        else:
            gc.disable()
        report = reconcile(data)
        assert gc.isenabled() is enabled_before
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()
    assert [finding.kind for finding in report.findings] == [Kind.PAID_BUT_BLOCKED]


def _findings(report: object) -> list[tuple[object, ...]]:
    return [
        (f.kind, f.account_id, f.customer_id, f.message, repr(f.evidence))
        for f in report.findings  # type: ignore[attr-defined]
    ]


def test_signals_out_of_account_order_give_the_same_findings() -> None:
    """The engine skips the account-to-signal join when the primary signals list the
    accounts in order; signals in any other order (a custom source) must be joined
    and judged identically."""
    book = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled"), sub("sub_3", "cus_3"))
    accounts = app(
        account("a1", "cus_1", access=False),
        account("a2", "cus_2", access=True),
        account("a3", "cus_3", access=True),
        account("a4", None, access=True),
        with_status=True,
    )
    aligned = reconcile(inputs(book, accounts))
    reordered = replace(accounts, signals=accounts.signals.take(pa.array([7, 6, 5, 4, 3, 2, 1, 0])))
    assert _findings(reconcile(inputs(book, reordered))) == _findings(aligned)
    assert {f.kind for f in aligned.findings} >= {
        Kind.PAID_BUT_BLOCKED,
        Kind.UNPAID_BUT_ACTIVE,
        Kind.MISSING_BILLING_LINK,
    }


def test_an_account_without_a_primary_signal_is_judged_as_denying_access() -> None:
    """A primary signal missing for one account breaks the alignment: that account
    reads as 'no access field set' (denied), exactly as through the join."""
    book = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2"))
    accounts = app(account("a1", "cus_1", access=True), account("a2", "cus_2", access=True))
    without = replace(accounts, signals=accounts.signals.slice(0, 1))
    report = reconcile(inputs(book, without))
    assert [(f.kind, f.account_id) for f in report.findings] == [(Kind.PAID_BUT_BLOCKED, "a2")]
    assert "no access field set" in report.findings[0].message


def _app_fields(report: object) -> dict[str | None, object]:
    findings = getattr(report, "findings", ())
    return {f.account_id: f.evidence.get("app", {}).get("fields") for f in findings}


def test_access_fields_evidence_whether_one_field_or_several() -> None:
    """With one (primary) access field the evidence (field -> raw value) comes from the account's
    own row, with several from every signal: both read the same."""
    book = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled"))
    one = app(account("a1", "cus_1", access=False), account("a2", "cus_2", access=True))
    assert _app_fields(reconcile(inputs(book, one))) == {
        "a1": {"has_paid_access": "false"},
        "a2": {"has_paid_access": "true"},
    }
    several = app(
        account("a1", "cus_1", access=False, status="active"),
        account("a2", "cus_2", access=True, status=None),
        with_status=True,
    )
    assert _app_fields(reconcile(inputs(book, several))) == {
        "a1": {"has_paid_access": "false", "subscription_status": "active"},
        "a2": {"has_paid_access": "true", "subscription_status": None},
    }
    # one field that is not marked primary: no shortcut, the signal still shows
    secondary = replace(
        one,
        signals=one.signals.set_column(
            one.signals.schema.get_field_index("is_primary"),
            "is_primary",
            pa.array([False, False]),
        ),
    )
    assert _app_fields(reconcile(inputs(book, secondary))) == {"a1": {"has_paid_access": "false"}}


def test_ids_are_ordered_naturally_within_a_severity() -> None:
    """Numbers in ids compare as numbers (issue 14: "19, 2, 6" read as a bug), text
    as text, and the same input always gives the same order."""
    ids = ["19", "2", "acct_10", "6", "acct_9", "02"]
    book = billing(*(sub(f"sub_{i}", f"cus_{i}") for i in ids))
    accounts = app(*(account(i, f"cus_{i}", access=False) for i in ids))
    first = reconcile(inputs(book, accounts))
    order = [f.account_id for f in first.findings]
    assert order == ["02", "2", "6", "19", "acct_9", "acct_10"]
    shuffled = app(*(account(i, f"cus_{i}", access=False) for i in reversed(ids)))
    assert [f.account_id for f in reconcile(inputs(book, shuffled)).findings] == order
