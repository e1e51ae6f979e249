"""When a subscription entitles, and how sure a finding is: each rule of the README's
"Rules" section pinned one step either side of its boundary (issue 19).

A boundary tested on one side only lets a one-line slip (``<`` for ``<=``, a dropped
condition) pass unnoticed; every case here has its twin on the other side.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Severity
from billdrift.core.report import Report
from tests.builders import NOW, account, app, billing, inputs, sub

SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def run(subs: list[Any], accounts: list[Any], config: dict[str, Any] | None = None) -> Report:
    return reconcile(inputs(billing(*subs), app(*accounts), config))


def kinds(report: Report) -> list[tuple[str, str | None]]:
    return [(f.kind.value, f.account_id or f.customer_id) for f in report.findings]


def at(delta: timedelta) -> str:
    """An instant relative to the run's as-of."""
    return (NOW + delta).isoformat()


def entitles(subscription: tuple[dict[str, Any], dict[str, Any]], **config: Any) -> bool:
    """Whether the subscription entitles, read from both app answers: an account that is
    denied access is `paid_but_blocked` exactly when one that is granted is in sync."""
    cfg = {"policy": config} if config else None
    denied = kinds(run([subscription], [account("a1", "cus_1", access=False)], cfg))
    granted = kinds(run([subscription], [account("a1", "cus_1", access=True)], cfg))
    if denied == [("paid_but_blocked", "a1")] and granted == []:
        return True
    if denied == [] and granted == [("unpaid_but_active", "a1")]:
        return False
    raise AssertionError(f"neither entitled nor not: denied={denied}, granted={granted}")


# --- scheduled cancellations ---------------------------------------------------------


@pytest.mark.parametrize("status", ["active", "trialing"])
@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # no cancellation scheduled: the period end alone never ends access (the
        # provider renews, or moves the status on, when it ends)
        ({"current_period_end": at(-DAY)}, True),
        ({"current_period_end": at(-DAY), "cancel_at_period_end": False}, True),
        ({"current_period_end": at(-DAY), "trial_end": at(-DAY)}, True),
        # cancel at period end: the period end at or before as-of ends access
        ({"current_period_end": at(SECOND), "cancel_at_period_end": True}, True),
        ({"current_period_end": at(timedelta(0)), "cancel_at_period_end": True}, False),
        ({"current_period_end": at(-DAY), "cancel_at_period_end": True}, False),
        # a cancel flag without a known period end cancels nothing yet
        ({"cancel_at_period_end": True}, True),
        # cancel_at: at or before as-of ends access, one second later does not
        ({"cancel_at": at(SECOND)}, True),
        ({"cancel_at": at(timedelta(0))}, False),
        ({"cancel_at": at(-DAY), "current_period_end": at(DAY)}, False),
    ],
    ids=[
        "period-ended-no-flag",
        "period-ended-flag-false",
        "trial-ended-no-flag",
        "cancel-at-period-end-1s-later",
        "cancel-at-period-end-exactly-now",
        "cancel-at-period-end-passed",
        "cancel-flag-no-period-end",
        "cancel-at-1s-later",
        "cancel-at-exactly-now",
        "cancel-at-passed-period-open",
    ],
)
def test_an_entitling_status_entitles_until_a_scheduled_cancellation(
    status: str, fields: dict[str, Any], expected: bool
) -> None:
    assert entitles(sub("sub_1", "cus_1", status, **fields)) is expected


# --- dunning grace -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("grace_days", "started", "expected"),
    [
        (7, -7 * DAY + SECOND, True),  # as_of = start + grace - 1 s
        (7, -7 * DAY, False),  # as_of = start + grace exactly
        (3, -3 * DAY + SECOND, True),
        (3, -3 * DAY, False),
        (1, -DAY + SECOND, True),
        (1, -DAY, False),
        (0, timedelta(0), False),  # no grace: not even at the very start
        (0, DAY, False),  # nor for a period that starts later
        (1, DAY, True),  # a start after as-of is inside any grace
    ],
)
def test_past_due_entitles_while_as_of_is_before_start_plus_grace(
    grace_days: int, started: timedelta, expected: bool
) -> None:
    past_due = sub("sub_1", "cus_1", "past_due", current_period_start=at(started))
    assert entitles(past_due, grace_days=grace_days) is expected


def test_a_status_moved_to_grace_follows_the_grace_rule() -> None:
    """The grace list is policy: a status listed there is judged by the window too."""
    statuses = {
        "stripe": {"entitled": ["active"], "grace": ["past_due", "unpaid"], "not_entitled": []}
    }
    inside = sub("sub_1", "cus_1", "unpaid", current_period_start=at(-DAY))
    outside = sub("sub_1", "cus_1", "unpaid", current_period_start=at(-8 * DAY))
    assert entitles(inside, statuses=statuses) is True
    assert entitles(outside, statuses=statuses) is False
    assert entitles(inside) is False  # by default unpaid never entitles


# --- severity by how the account was matched ---------------------------------------

MATCHES = {
    "customer_id": (account("a1", "cus_1"), 1.0),
    "subscription_id": (account("a1", None, subscription_id="sub_1"), 0.95),
    "email": (account("a1", None, email="ann.lee@example.com"), 0.9),
    "normalized_email": (account("a1", None, email=" Ann.Lee+app@Example.COM"), 0.7),
}


@pytest.mark.parametrize(
    ("status", "access", "kind"),
    [("canceled", True, "unpaid_but_active"), ("active", False, "paid_but_blocked")],
)
@pytest.mark.parametrize(
    ("method", "severity"),
    [
        ("customer_id", Severity.HIGH),
        ("subscription_id", Severity.HIGH),
        ("email", Severity.HIGH),
        ("normalized_email", Severity.MEDIUM),
    ],
)
def test_severity_is_high_unless_matched_by_normalized_email(
    status: str, access: bool, kind: str, method: str, severity: Severity
) -> None:
    matched, confidence = MATCHES[method]
    report = run(
        [sub("sub_1", "cus_1", status, email="ann.lee@example.com")],
        [{**matched, "access": access}],
    )
    assert kinds(report) == [(kind, "a1")]
    finding = report.findings[0]
    assert finding.evidence["match"]["method"] == method
    assert (finding.severity, finding.confidence) == (severity, confidence)


# --- orphaned subscriptions ----------------------------------------------------------


@pytest.mark.parametrize(
    ("subscription", "orphaned"),
    [
        (sub("sub_2", "cus_2", "active"), True),
        (sub("sub_2", "cus_2", "trialing"), True),
        (sub("sub_2", "cus_2", "past_due", current_period_start=at(-DAY)), True),
        (sub("sub_2", "cus_2", "past_due", current_period_start=at(-8 * DAY)), False),
        (sub("sub_2", "cus_2", "past_due"), False),  # grace undeterminable: not entitling
        (sub("sub_2", "cus_2", "canceled"), False),
        (sub("sub_2", "cus_2", "inactive"), False),  # unknown status
        (
            sub("sub_2", "cus_2", cancel_at_period_end=True, current_period_end=at(SECOND)),
            True,
        ),
        (
            sub("sub_2", "cus_2", cancel_at_period_end=True, current_period_end=at(-SECOND)),
            False,
        ),
    ],
    ids=[
        "active",
        "trialing",
        "past-due-in-grace",
        "past-due-beyond-grace",
        "past-due-no-start",
        "canceled",
        "unknown-status",
        "cancels-1s-later",
        "canceled-1s-ago",
    ],
)
def test_only_an_entitling_subscription_is_orphaned(
    subscription: tuple[dict[str, Any], dict[str, Any]], orphaned: bool
) -> None:
    report = run([sub("sub_1", "cus_1"), subscription], [account("a1", "cus_1")])
    assert (("orphaned_subscription", "cus_2") in kinds(report)) is orphaned


@pytest.mark.parametrize(
    "claimant",
    [
        account("a2", "cus_2", access=False),
        account("a2", None, subscription_id="sub_2", access=False),
        account("a2", None, email="c.y@example.com", access=False),
        account("a2", None, email="C.Y+x@Example.com", access=False),
    ],
    ids=["customer_id", "subscription_id", "email", "normalized_email"],
)
def test_a_subscription_any_account_matches_is_not_orphaned(claimant: dict[str, Any]) -> None:
    subs = [sub("sub_1", "cus_1"), sub("sub_2", "cus_2", email="c.y@example.com")]
    claimed = run(subs, [account("a1", "cus_1"), claimant])
    assert kinds(claimed) == [("paid_but_blocked", "a2")]
    nobody = run(subs, [account("a1", "cus_1")])
    assert kinds(nobody) == [("orphaned_subscription", "cus_2")]


# --- missing and stale links ---------------------------------------------------------


@pytest.mark.parametrize(
    ("unlinked", "expected"),
    [
        (
            account("a2", None, email="zed@example.com", access=True),
            [("missing_billing_link", "a2")],
        ),
        (account("a2", None, email="zed@example.com", access=False), []),
        (account("a2", None, email="zed@example.com", access=None), []),
        (account("a2", None, email="cy@example.com", access=True), []),  # matched by email
        (account("a2", None, subscription_id="sub_2", access=True), []),  # by subscription
    ],
    ids=["grants-unmatched", "denies", "empty-flag", "email-match", "subscription-match"],
)
def test_missing_billing_link_needs_granted_access_and_no_match(
    unlinked: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    subs = [sub("sub_1", "cus_1"), sub("sub_2", "cus_2", email="cy@example.com")]
    report = run(subs, [account("a1", "cus_1"), unlinked])
    # an unmatched cus_2 is orphaned on its own account: only a2's findings matter here
    assert [k for k in kinds(report) if k[1] == "a2"] == expected


@pytest.mark.parametrize(
    ("linked_to", "access", "expected"),
    [
        ("cus_gone", True, ("stale_billing_link", Severity.MEDIUM)),
        ("cus_gone", False, ("stale_billing_link", Severity.LOW)),
        ("cus_gone", None, ("stale_billing_link", Severity.LOW)),
        ("cus_2", True, None),  # the customer exists: in sync
    ],
)
def test_stale_link_only_for_an_absent_customer_medium_when_granting(
    linked_to: str, access: bool | None, expected: tuple[str, Severity] | None
) -> None:
    subs = [sub("sub_1", "cus_1"), sub("sub_2", "cus_2")]
    report = run(subs, [account("a1", "cus_1"), account("a2", linked_to, access=access)])
    found = [(f.kind.value, f.severity) for f in report.findings if f.account_id == "a2"]
    assert found == ([expected] if expected else [])
