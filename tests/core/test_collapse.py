"""Several subscriptions per customer collapse to one, in the README's order (issue 19, claim 5).

1. entitling beats unknown beats ended (whether it entitles as of the check);
2. then the status: an entitling one (``active``, ``trialing``) beats a grace one
   (``past_due``) beats any other, so a subscription that entitles outright beats
   one that entitles only by grace;
3. then the latest period end (none: last), 4. the latest creation (none: last),
5. the smallest id.

Each case pits a winner against a loser that ties on every earlier step, loses on
this one and wins on every later one, so a step moved later, or dropped, picks
the loser. Both input orders give the same pick. The finding names the
subscription picked, and its amount.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from billdrift.core.engine import reconcile
from tests.builders import NOW, account, app, billing, inputs, sub

DAY = timedelta(days=1)


def _at(days: float) -> str:
    return (NOW + days * DAY).isoformat()


def _sub(subscription_id: str, status: str, amount: int, **fields: Any) -> Any:
    fields.setdefault("current_period_start", _at(-1))
    fields.setdefault("current_period_end", _at(29))
    fields.setdefault("created", _at(-100))
    return sub(subscription_id, "cus_1", status, amount=amount, **fields)


#: The loser's later steps: a later period end, a later creation, a smaller id.
LATER = {"current_period_end": _at(60), "created": _at(-2)}

CASES = {
    # step 1
    "entitling-beats-unknown": (
        _sub("sub_z", "active", 1000),
        _sub("sub_a", "mystery", 2000, **LATER),
    ),
    "entitling-by-grace-beats-ended-even-with-an-entitling-status": (
        _sub("sub_z", "past_due", 1000),  # 1 day into 7 days of grace: entitles
        _sub("sub_a", "active", 2000, cancel_at=_at(-1), **LATER),  # ended: status entitled
    ),
    "unknown-beats-ended": (
        _sub("sub_z", "mystery", 1000),
        _sub("sub_a", "canceled", 2000, **LATER),
    ),
    # step 2
    "entitling-status-beats-grace-status": (
        _sub("sub_z", "active", 1000),
        _sub("sub_a", "past_due", 2000, current_period_start=_at(-1), **LATER),
    ),
    "ended-entitling-status-beats-other-ended": (
        _sub("sub_z", "active", 1000, cancel_at=_at(-1)),
        _sub("sub_a", "canceled", 2000, **LATER),
    ),
    "grace-status-beats-other-status-among-ended": (
        _sub("sub_z", "past_due", 1000, current_period_start=_at(-30)),  # grace over
        _sub("sub_a", "canceled", 2000, **LATER),
    ),
    # step 3
    "later-period-end": (
        _sub("sub_z", "active", 1000, current_period_end=_at(40)),
        _sub("sub_a", "active", 2000, current_period_end=_at(39), created=_at(-2)),
    ),
    "a-period-end-beats-none": (
        _sub("sub_z", "active", 1000, current_period_end=_at(1)),
        _sub("sub_a", "active", 2000, current_period_end=None, created=_at(-2)),
    ),
    # step 4
    "later-creation": (
        _sub("sub_z", "active", 1000, created=_at(-3)),
        _sub("sub_a", "active", 2000, created=_at(-4)),
    ),
    "a-creation-beats-none": (
        _sub("sub_z", "active", 1000, created=_at(-300)),
        _sub("sub_a", "active", 2000, created=None),
    ),
    # step 5
    "smallest-id": (
        _sub("sub_a", "active", 1000),
        _sub("sub_b", "active", 2000),
    ),
}


@pytest.mark.parametrize("reverse", [False, True], ids=["winner-first", "loser-first"])
@pytest.mark.parametrize("case", list(CASES))
def test_each_step_of_the_collapse_order(case: str, reverse: bool) -> None:
    winner, loser = CASES[case]
    subs = [loser, winner] if reverse else [winner, loser]
    picked = winner[0]["subscription_id"]
    # Access the opposite of what the winner means (unknown: granted), so a finding names it.
    report = reconcile(inputs(billing(*subs), app(account("a1", "cus_1", access=True))))
    if not report.findings:  # the winner entitles: granted access is in sync
        report = reconcile(inputs(billing(*subs), app(account("a1", "cus_1", access=False))))
    (finding,) = report.findings
    assert finding.subscription_id == picked, case
    assert finding.evidence["billing"]["subscription_id"] == picked
    if finding.exposure is not None:  # the winner's amount, 10.00 a month, not the loser's
        assert finding.exposure.monthly_amount == "10.00"
