"""What ``account_outcomes`` keeps of each account (issue 17).

Every account gets one state (``account_state``, a view); the engine stores a row of
its own only for an account a rule may report, and counts the others per state and
match method. These tests hold the line on both sides: each kind of account a rule
reads is kept, an account nothing reports is only counted, and the counts add up to
every account, per state and per match method.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile, workspace
from billdrift.core.model import BILLING_ITEMS, BillingData
from tests.builders import account, app, billing, inputs, sub
from tests.core.test_item_plans import CONFIG, _item

#: An account's outcome: its own row (kept) or only a count.
KEPT, COUNTED = True, False


def _outcomes(book: BillingData, *accounts: dict[str, Any], **app_options: Any) -> dict[str, Any]:
    """Which accounts `account_outcomes` keeps, and its counts set beside
    ``account_state``'s own, which must agree."""
    run = inputs(book, app(*accounts, **app_options), CONFIG)
    with workspace(run) as con:
        kept = con.sql(
            "SELECT account_id, accounts FROM account_outcomes WHERE account_id IS NOT NULL"
        ).fetchall()
        counted = con.sql(
            "SELECT state, match_method, sum(accounts) FROM account_outcomes GROUP BY ALL"
        ).fetchall()
        states = con.sql("SELECT state, match_method FROM account_state").fetchall()
    assert all(n == 1 for _, n in kept)
    assert Counter({(s, m): int(n) for s, m, n in counted}) == Counter(states)
    report = reconcile(run)
    assert sum(report.classification.values()) == len(accounts)
    return {"kept": {a for a, _ in kept}, "report": report}


@pytest.mark.parametrize(
    ("plan", "outcome"),
    [("pro", COUNTED), (" PRO ", COUNTED), ("basic", KEPT)],
    ids=["same-plan", "same-plan-written-otherwise", "other-plan"],
)
def test_an_in_sync_account_is_kept_only_when_its_carried_plan_differs(
    plan: str, outcome: bool
) -> None:
    found = _outcomes(
        billing(sub("sub_1", "cus_1", price="price_pro")), account("a1", "cus_1", plan=plan)
    )
    assert ("a1" in found["kept"]) is outcome
    assert found["report"].by_kind == ({"plan_drift": 1} if outcome else {})


def test_an_in_sync_account_without_a_paid_plan_is_counted() -> None:
    """Not entitled and no access: in sync, and no plan to compare."""
    found = _outcomes(
        billing(sub("sub_1", "cus_1", "canceled")), account("a1", "cus_1", access=False)
    )
    assert found["kept"] == set() and found["report"].classification["in_sync"] == 1


@pytest.mark.parametrize(
    ("access", "outcome", "kind"),
    [(False, COUNTED, None), (True, KEPT, "missing_billing_link")],
    ids=["no-billing-no-access", "access-without-billing"],
)
def test_an_account_without_billing_is_kept_only_when_a_rule_reports_it(
    access: bool, outcome: bool, kind: str | None
) -> None:
    found = _outcomes(
        billing(sub("sub_1", "cus_1")), account("a1", "cus_1"), account("a2", None, access=access)
    )
    assert ("a2" in found["kept"]) is outcome
    assert found["report"].by_kind.get(kind or "", 0) == (1 if kind else 0)


@pytest.mark.parametrize("kind", ["paid_but_blocked", "unpaid_but_active", "stale_billing_link"])
def test_an_account_in_a_reported_state_is_kept(kind: str) -> None:
    accounts = {
        "paid_but_blocked": account("a1", "cus_1", access=False),
        "unpaid_but_active": account("a1", "cus_2", access=True),
        "stale_billing_link": account("a1", "cus_gone", access=True),
    }
    book = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled"))
    found = _outcomes(book, accounts[kind])
    assert found["kept"] == {"a1"} and found["report"].by_kind[kind] == 1


@pytest.mark.parametrize(
    ("status", "outcome"), [("active", COUNTED), ("canceled", KEPT)], ids=["agree", "disagree"]
)
def test_an_in_sync_account_whose_fields_disagree_is_kept(status: str, outcome: bool) -> None:
    """In sync by its primary field (access granted, subscription active); a second
    field that says otherwise is a finding of its own."""
    found = _outcomes(
        billing(sub("sub_1", "cus_1")),
        account("a1", "cus_1", plan="pro", status=status),
        with_status=True,
    )
    assert ("a1" in found["kept"]) is outcome
    assert found["report"].by_kind == ({"app_fields_disagree": 1} if outcome else {})


@pytest.mark.parametrize(
    ("items", "outcome"),
    [
        ([_item("sub_1", price_id="price_pro"), _item("sub_1", product_id="prod_addon")], KEPT),
        ([_item("sub_1", price_id="price_none"), _item("sub_1", price_id="price_none")], COUNTED),
    ],
    ids=["mapped-plans", "no-mapped-plan"],
)
def test_with_several_items_a_paid_account_is_kept_when_its_plans_are_mapped(
    items: list[dict[str, Any]], outcome: bool
) -> None:
    """Subscriptions with several items carry no plan on the row: whether the app's plan
    is among theirs is decided against ``mapped_plans``, so every paid, in-sync
    account whose subscription maps to some plan is kept for it (and only drift is
    reported: here the app's plan is one of them)."""
    one = billing(sub("sub_1", "cus_1"))
    book = BillingData(
        subscriptions=one.subscriptions,
        items=pa.Table.from_pylist(items, schema=BILLING_ITEMS),
        description="two items",
    )
    found = _outcomes(book, account("a1", "cus_1", plan="addon"))
    assert ("a1" in found["kept"]) is outcome
    assert found["report"].by_kind == {}


@pytest.mark.parametrize(
    ("accounts", "state"),
    [
        ([account("a1", "cus_1", role="admin")], "internal"),  # unpaid, access, staff
        ([account("a1", None, plan="free")], "free_plan"),  # access, no link, free plan
    ],
    ids=["internal", "free-plan"],
)
def test_an_account_in_a_state_no_rule_reports_is_counted(
    accounts: list[dict[str, Any]], state: str
) -> None:
    """Granting access without paying is reported unless the account is staff or on a
    free plan: those states are told apart in the counts, and nothing else keeps them."""
    found = _outcomes(billing(sub("sub_1", "cus_1", "canceled")), *accounts)
    assert found["kept"] == set()
    assert found["report"].classification[state] == 1 and found["report"].by_kind == {}
