"""The engine's partial-data guards, each on both sides of its boundary.

A guard that fires one row too early turns a usable export into ERROR; one that fires
one row too late lets a truncated export through as a flood of findings or a false
PASS. Each test below puts the data exactly at the documented limit and one step past
it, so moving a comparison by one (``>`` for ``>=``) fails a test.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import AppData, BillingData, Skip, Verdict
from billdrift.core.report import Report
from tests.builders import NOW, account, app, billing, inputs, sub


def _skips(side: str, n: int) -> tuple[Skip, ...]:
    return tuple(Skip(side, f"{side}.csv", f"line {i + 2}", "bad date") for i in range(n))


def _with_skips(side: str, rows: int, skipped: int, ratio: float) -> Report:
    """`rows` readable rows on `side` (the other side matches them one to one) plus
    `skipped` unreadable ones, under ``policy.max_skipped_ratio = ratio``."""
    subs = [sub(f"sub_{i}", f"cus_{i}") for i in range(rows)]
    accounts = [account(f"a{i}", f"cus_{i}") for i in range(rows)]
    billing_data: BillingData = billing(*subs)
    app_data: AppData = app(*accounts)
    if side == "billing":
        billing_data = replace(billing_data, skips=_skips(side, skipped))
    else:
        app_data = replace(app_data, skips=_skips(side, skipped))
    config = {"policy": {"max_skipped_ratio": ratio}}
    return reconcile(inputs(billing_data, app_data, config))


@pytest.mark.parametrize("side", ["billing", "app"])
def test_skipped_rows_up_to_the_ratio_warn_and_one_more_is_an_error(side: str) -> None:
    # 1 of 10 rows unreadable is exactly 0.1: still judged (WARN, never PASS)
    at_limit = _with_skips(side, rows=9, skipped=1, ratio=0.1)
    assert at_limit.verdict is Verdict.WARN
    assert at_limit.errors == ()
    assert len(at_limit.skips) == 1
    # 2 of 10 is more than 0.1: ERROR, saying how many of how many and which setting
    over = _with_skips(side, rows=8, skipped=2, ratio=0.1)
    assert over.verdict is Verdict.ERROR and over.exit_code == 2
    assert over.findings == ()
    assert over.errors == (
        f"2 of 10 {side} rows could not be read (more than policy.max_skipped_ratio = 0.1); "
        "see the skipped rows",
    )


def test_the_skipped_ratio_is_judged_per_side() -> None:
    """Skips on one side are not diluted by (or added to) the other side's rows."""
    subs = [sub(f"sub_{i}", f"cus_{i}") for i in range(8)]
    many_accounts = [account(f"a{i}", f"cus_{i}") for i in range(8)] + [
        account(f"x{i}") for i in range(100)
    ]
    data = replace(billing(*subs), skips=_skips("billing", 2))
    report = reconcile(inputs(data, app(*many_accounts), {"policy": {"max_skipped_ratio": 0.1}}))
    assert report.verdict is Verdict.ERROR
    assert report.errors[0].startswith("2 of 10 billing rows")


def test_a_zero_ratio_refuses_any_skipped_row_and_passes_none() -> None:
    assert _with_skips("app", rows=5, skipped=0, ratio=0).verdict is Verdict.PASS
    assert _with_skips("app", rows=5, skipped=1, ratio=0).verdict is Verdict.ERROR


def _links(linked: int, stale: int, config: dict[str, Any] | None = None) -> Report:
    """`linked` accounts carrying a billing customer id, `stale` of them naming a
    customer the billing data does not hold, plus unlinked accounts (never counted)."""
    known = linked - stale
    subs = [sub(f"sub_{i}", f"cus_{i}") for i in range(max(known, 1))]
    accounts = [account(f"a{i}", f"cus_{i}") for i in range(known)]
    accounts += [account(f"s{i}", f"cus_gone_{i}") for i in range(stale)]
    accounts += [account(f"u{i}", None, access=False) for i in range(50)]
    return reconcile(inputs(billing(*subs), app(*accounts), config))


PARTIAL = "accounts link to customers the billing data does not contain"


def test_the_partial_guard_needs_partial_min_links_linked_accounts() -> None:
    # 19 linked accounts, 18 of them stale: too few links to judge the data partial
    below = _links(linked=19, stale=18)
    assert below.verdict is not Verdict.ERROR
    assert below.by_kind.get("stale_billing_link") == 18
    # 20 linked (the default partial_min_links), 19 stale: partial
    at = _links(linked=20, stale=19)
    assert at.verdict is Verdict.ERROR
    assert at.errors == (
        f"19 of 20 {PARTIAL}: the billing data looks partial (wrong account or mode, an "
        "export without canceled subscriptions, a truncated file)",
    )


def test_partial_min_links_is_read_from_the_policy() -> None:
    config = {"policy": {"partial_min_links": 5}}
    assert _links(linked=4, stale=4, config=config).verdict is not Verdict.ERROR
    assert _links(linked=5, stale=5, config=config).verdict is Verdict.ERROR


@pytest.mark.parametrize(
    ("ratio", "allowed"),
    [(0.5, 10), (0.25, 5), (0.9, 18), (1.0, 20)],
)
def test_partial_max_missing_ratio_allows_exactly_its_share(ratio: float, allowed: int) -> None:
    config = {"policy": {"partial_max_missing_ratio": ratio}}
    at = _links(linked=20, stale=allowed, config=config)
    assert at.verdict is not Verdict.ERROR
    assert at.by_kind.get("stale_billing_link") == allowed
    if allowed < 20:
        over = _links(linked=20, stale=allowed + 1, config=config)
        assert over.verdict is Verdict.ERROR
        assert PARTIAL in over.errors[0]


def test_empty_sides_name_what_was_read() -> None:
    """An empty input is an error that says which input was read, so the user can see
    the wrong file or the wrong account at a glance."""
    no_billing = reconcile(inputs(billing(), app(account("a1", "cus_1"))))
    assert no_billing.errors == (
        "the billing data holds no subscriptions: nothing to reconcile against "
        "(read: test billing: 0 subscriptions)",
    )
    no_app = reconcile(inputs(billing(sub("sub_1", "cus_1")), replace(app(), description="x.csv")))
    assert no_app.errors == ("the app data holds no accounts: nothing to reconcile (read: x.csv)",)
    both = reconcile(inputs(replace(billing(), description=""), replace(app(), description="")))
    assert both.errors == (
        "the billing data holds no subscriptions: nothing to reconcile against",
        "the app data holds no accounts: nothing to reconcile",
    )


def test_an_error_report_keeps_the_counts_notes_and_skips() -> None:
    data = replace(
        billing(sub("sub_1", "cus_1"), sub("sub_1", "cus_1")), skips=_skips("billing", 1)
    )
    report = reconcile(inputs(data, app()))
    assert report.verdict is Verdict.ERROR
    assert report.counts == {"accounts": 0, "subscriptions": 1, "customers": 1}
    assert len(report.skips) == 1
    assert any("1 billing rows repeat a subscription" in note for note in report.notes)


def test_an_exception_expiring_exactly_now_is_expired() -> None:
    subs = [sub("sub_1", "cus_1", "canceled")]
    accounts = [account("a1", "cus_1", access=True)]

    def run(expires: timedelta) -> Report:
        when = (NOW + expires).isoformat()
        config = {"exceptions": [{"account": "a1", "reason": "comped", "expires": when}]}
        return reconcile(inputs(billing(*subs), app(*accounts), config))

    still = run(timedelta(seconds=1))
    assert still.findings == () and still.notes == ()
    expired = run(timedelta(0))
    assert [f.kind.value for f in expired.findings] == ["unpaid_but_active"]
    assert expired.notes == (
        f"exception for a1 (comped) expired on {NOW.date().isoformat()} and no longer "
        "suppresses findings",
    )
