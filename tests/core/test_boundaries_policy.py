"""Every `[policy]`, `[plans]`, `[[exceptions]]` and `fail_on` setting of the README's
configuration section, pinned one step either side of its boundary, at its default
and at another value (issue 19)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from tests.builders import NOW, account, app, billing, inputs, sub, ts

SECOND = timedelta(seconds=1)


def run(
    subs: list[Any], accounts: list[Any], config: dict[str, Any] | None = None, **kw: Any
) -> Report:
    return reconcile(inputs(billing(*subs), app(*accounts, **kw), config))


def kinds(report: Report) -> list[tuple[str, str | None]]:
    return [(f.kind.value, f.account_id or f.customer_id) for f in report.findings]


# --- partial data: partial_min_links and partial_max_missing_ratio ------------------


def links(linked: int, missing: int, config: dict[str, Any] | None = None) -> Report:
    """`linked` accounts each linked to its own customer, of which the billing data
    lacks `missing` (plus one unlinked account, which must not count as a link)."""
    present = linked - missing
    subs = [sub(f"sub_{i}", f"cus_{i}") for i in range(present)] or [sub("sub_x", "cus_x")]
    accounts = [account(f"a{i}", f"cus_{i}") for i in range(linked)]
    accounts.append(account("unlinked", None, access=False))
    return run(subs, accounts, config)


def is_partial(report: Report) -> bool:
    partial = any("looks partial" in error for error in report.errors)
    assert partial is (report.verdict is Verdict.ERROR)  # no other reason for ERROR here
    assert not (partial and report.findings)  # partial data lists no findings
    return partial


@pytest.mark.parametrize(
    ("linked", "missing", "policy", "partial"),
    [
        # partial_min_links (default 20), with all but one link unknown
        (19, 18, {}, False),
        (20, 19, {}, True),
        (4, 3, {"partial_min_links": 5}, False),
        (5, 4, {"partial_min_links": 5}, True),
        (20, 19, {"partial_min_links": 21}, False),
        # partial_max_missing_ratio (default 0.5): more than the share, not at it
        (20, 10, {}, False),
        (20, 11, {}, True),
        (20, 5, {"partial_max_missing_ratio": 0.25}, False),
        (20, 6, {"partial_max_missing_ratio": 0.25}, True),
        (20, 16, {"partial_max_missing_ratio": 0.8}, False),
        (20, 17, {"partial_max_missing_ratio": 0.8}, True),
        (20, 20, {"partial_max_missing_ratio": 1}, False),  # 1: never partial
        # compared as the decimal written, not in binary: 0.29 * 100 < 29 in a double
        (100, 29, {"partial_max_missing_ratio": 0.29}, False),
        (100, 30, {"partial_max_missing_ratio": 0.29}, True),
        # both settings together
        (9, 3, {"partial_min_links": 10, "partial_max_missing_ratio": 0.2}, False),
        (10, 2, {"partial_min_links": 10, "partial_max_missing_ratio": 0.2}, False),
        (10, 3, {"partial_min_links": 10, "partial_max_missing_ratio": 0.2}, True),
    ],
)
def test_partial_billing_data_boundaries(
    linked: int, missing: int, policy: dict[str, Any], partial: bool
) -> None:
    report = links(linked, missing, {"policy": policy} if policy else None)
    assert is_partial(report) is partial
    if not partial:
        assert report.by_kind.get("stale_billing_link", 0) == missing


# --- internal_roles and free_plans ---------------------------------------------------


@pytest.mark.parametrize(
    ("policy", "role", "excepted"),
    [
        ({}, "admin", True),
        ({}, " Staff ", True),
        ({}, "owner", False),
        ({"internal_roles": ["owner"]}, "Owner", True),
        ({"internal_roles": ["owner"]}, "admin", False),  # the override replaces the list
        ({"internal_roles": []}, "admin", False),
    ],
)
def test_internal_roles_are_configurable(policy: dict[str, Any], role: str, excepted: bool) -> None:
    accounts = [account("a1", "cus_1"), account("a2", None, role=role)]
    report = run([sub("sub_1", "cus_1")], accounts, {"policy": policy})
    assert kinds(report) == ([] if excepted else [("missing_billing_link", "a2")])
    assert report.classification.get("internal", 0) == (1 if excepted else 0)


@pytest.mark.parametrize(
    ("policy", "plan", "excepted"),
    [
        ({}, "free", True),
        ({}, "Hobby", True),
        ({}, "gratis", False),
        ({"free_plans": ["gratis"]}, " Gratis", True),
        ({"free_plans": ["gratis"]}, "free", False),  # the override replaces the list
        ({"free_plans": []}, "free", False),
    ],
)
def test_free_plans_are_configurable(policy: dict[str, Any], plan: str, excepted: bool) -> None:
    accounts = [account("a1", "cus_1"), account("a2", None, plan=plan)]
    report = run([sub("sub_1", "cus_1")], accounts, {"policy": policy})
    assert kinds(report) == ([] if excepted else [("missing_billing_link", "a2")])
    assert report.classification.get("free_plan", 0) == (1 if excepted else 0)


@pytest.mark.parametrize(
    ("policy", "role", "expected"),
    [
        ({}, "admin", []),
        ({}, "owner", [("unpaid_but_active", "a1")]),
        ({"internal_roles": ["owner"]}, "owner", []),
        ({"internal_roles": ["owner"]}, "admin", [("unpaid_but_active", "a1")]),
    ],
)
def test_an_internal_account_granted_without_paying_is_no_finding(
    policy: dict[str, Any], role: str, expected: list[tuple[str, str]]
) -> None:
    """An internal account may be granted access its canceled subscription no longer
    pays for (a staff member's old test subscription): state `internal`, no finding."""
    report = run(
        [sub("sub_1", "cus_1", "canceled")],
        [account("a1", "cus_1", role=role)],
        {"policy": policy},
    )
    assert kinds(report) == expected


@pytest.mark.parametrize(
    ("role", "expected"), [("admin", []), ("owner", [("stale_billing_link", "a2")])]
)
def test_an_internal_account_linked_to_an_absent_customer_is_no_finding(
    role: str, expected: list[tuple[str, str]]
) -> None:
    accounts = [account("a1", "cus_1"), account("a2", "cus_gone", role=role)]
    assert kinds(run([sub("sub_1", "cus_1")], accounts)) == expected


@pytest.mark.parametrize(
    ("linked_to", "expected"), [("cus_1", [("unpaid_but_active", "a1")]), (None, [])]
)
def test_a_free_plan_excuses_only_an_unlinked_account(
    linked_to: str | None, expected: list[tuple[str, str]]
) -> None:
    """A free plan excepts an account with no billing link; one linked to a canceled
    subscription that still grants access is drift whatever its plan."""
    subs = [sub("sub_1", "cus_1", "canceled"), sub("sub_2", "cus_2", "canceled")]
    report = run(subs, [account("a1", linked_to, plan="free")])
    assert kinds(report) == expected


# --- plan map: every key a subscription item can be mapped by -----------------------


def item(**keys: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """sub_1 of cus_1 whose single item carries only the given keys."""
    row, it = sub("sub_1", "cus_1")
    empty: dict[str, str | None] = {
        "price_id": None,
        "lookup_key": None,
        "product_id": None,
        "plan_name": None,
    }
    return row, {**it, **empty, **keys}


KEYS = ["price_id", "lookup_key", "product_id", "plan_name"]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize(("app_plan", "drift"), [("pro", False), ("basic", True)])
def test_plan_map_matches_every_item_key(key: str, app_plan: str, drift: bool) -> None:
    config = {"plans": {"the-key": "pro", "other-key": "basic"}}
    report = run([item(**{key: "the-key"})], [account("a1", "cus_1", plan=app_plan)], config)
    assert kinds(report) == ([("plan_drift", "a1")] if drift else [])
    if drift:
        assert report.findings[0].evidence["expected_plans"] == ["pro"]


def test_an_unmapped_item_is_not_plan_drift() -> None:
    config = {"plans": {"the-key": "pro"}}
    report = run([item(lookup_key="another")], [account("a1", "cus_1", plan="basic")], config)
    assert report.findings == ()


def test_a_plan_matches_when_it_is_any_of_the_mapped_plans() -> None:
    """Keys of one item (a price and its product) or of several items may map to
    several plans: the app's plan is drift only when it is none of them."""
    config = {"plans": {"price_pro": "pro", "prod_addon": "addon"}}
    subs = [item(price_id="price_pro", product_id="prod_addon")]
    for plan, expected in (("pro", []), ("Addon", []), ("basic", [("plan_drift", "a1")])):
        report = run(subs, [account("a1", "cus_1", plan=plan)], config)
        assert kinds(report) == expected, plan
    assert report.findings[0].evidence["expected_plans"] == ["addon", "pro"]


@pytest.mark.parametrize(
    ("status", "access", "expected"),
    [
        ("active", True, [("plan_drift", "a1")]),
        ("active", False, [("paid_but_blocked", "a1")]),  # not granted: no plan drift
        ("canceled", True, [("unpaid_but_active", "a1")]),  # not entitled: none either
        ("canceled", False, []),
    ],
)
def test_plan_drift_only_when_entitled_and_granted(
    status: str, access: bool, expected: list[tuple[str, str]]
) -> None:
    config = {"plans": {"price_pro": "pro"}}
    subs = [sub("sub_1", "cus_1", status, price="price_pro")]
    report = run(subs, [account("a1", "cus_1", plan="basic", access=access)], config)
    assert kinds(report) == expected


# --- duplicate customers --------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_accounts", "team_billing", "duplicate"),
    [(1, False, False), (2, False, True), (2, True, False), (3, True, False)],
)
def test_duplicate_customer_from_two_accounts_unless_team_billing(
    n_accounts: int, team_billing: bool, duplicate: bool
) -> None:
    accounts = [account(f"a{i}", "cus_1") for i in range(n_accounts)]
    report = run([sub("sub_1", "cus_1")], accounts, {"policy": {"team_billing": team_billing}})
    assert kinds(report) == ([("duplicate_customer", "cus_1")] if duplicate else [])


# --- exceptions: until they expire ----------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "suppresses"),
    [
        (NOW + SECOND, True),
        (NOW, False),  # expiry at as-of: no longer suppresses
        (NOW - SECOND, False),
        (None, True),  # no expiry: suppresses for good
    ],
    ids=["1s-after-as-of", "at-as-of", "1s-before-as-of", "never"],
)
def test_an_exception_suppresses_until_its_expiry(expires: object, suppresses: bool) -> None:
    entry = {"account": "a1", "reason": "comped", "expires": expires}
    config = {"exceptions": [{k: v for k, v in entry.items() if v is not None}]}
    report = run([sub("sub_1", "cus_1", "canceled")], [account("a1", "cus_1")], config)
    assert kinds(report) == ([] if suppresses else [("unpaid_but_active", "a1")])
    assert [s.reason for s in report.suppressed] == (["comped"] if suppresses else [])
    expired_notes = [note for note in report.notes if "expired" in note]
    assert len(expired_notes) == (0 if suppresses or expires is None else 1)


@pytest.mark.parametrize(
    ("as_of", "suppresses"),
    [("2026-12-31T23:59:59+00:00", True), ("2027-01-01T00:00:00+00:00", False)],
)
def test_an_expiry_date_ends_at_midnight_utc(as_of: str, suppresses: bool) -> None:
    """`expires = 2027-01-01` (a TOML date) stops suppressing at 2027-01-01T00:00Z."""
    config = {"exceptions": [{"account": "a1", "reason": "comped", "expires": date(2027, 1, 1)}]}
    data = inputs(
        billing(sub("sub_1", "cus_1", "canceled")), app(account("a1", "cus_1")), config, ts(as_of)
    )
    assert (reconcile(data).findings == ()) is suppresses


@pytest.mark.parametrize(
    ("entry", "suppresses"),
    [
        ({"account": "a1"}, True),
        ({"account": "a2"}, False),
        ({"customer": "cus_1"}, True),
        ({"customer": "cus_2"}, False),
        ({"account": "a1", "customer": "cus_1"}, True),
        ({"account": "a1", "customer": "cus_2"}, False),  # both given: both must match
        ({"account": "a1", "kind": "unpaid_but_active"}, True),
        ({"account": "a1", "kind": "paid_but_blocked"}, False),
    ],
)
def test_an_exception_suppresses_only_what_it_names(
    entry: dict[str, str], suppresses: bool
) -> None:
    config = {"exceptions": [{**entry, "reason": "reviewed"}]}
    report = run([sub("sub_1", "cus_1", "canceled")], [account("a1", "cus_1")], config)
    assert (report.findings == ()) is suppresses


# --- fail_on ---------------------------------------------------------------------------

#: One finding of each severity: high (paid_but_blocked), medium (orphaned), low (a
#: stale link on an account without access).
ONE_FINDING_OF = {
    "high": ([sub("sub_1", "cus_1")], [account("a1", "cus_1", access=False)]),
    "medium": (
        [sub("sub_1", "cus_1"), sub("sub_2", "cus_2")],
        [account("a1", "cus_1")],
    ),
    "low": ([sub("sub_1", "cus_1")], [account("a1", "cus_1"), account("a2", "x", access=False)]),
}


@pytest.mark.parametrize("severity", ["high", "medium", "low"])
@pytest.mark.parametrize("fail_on", ["high", "medium", "low"])
def test_a_finding_at_or_above_fail_on_fails(severity: str, fail_on: str) -> None:
    subs, accounts = ONE_FINDING_OF[severity]
    report = run(subs, accounts, {"output": {"fail_on": fail_on}})
    assert [f.severity.label for f in report.findings] == [severity]
    order = ["low", "medium", "high"]
    fails = order.index(severity) >= order.index(fail_on)
    assert (report.verdict, report.exit_code) == ((Verdict.FAIL, 1) if fails else (Verdict.WARN, 0))
