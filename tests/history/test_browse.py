"""Paged, filtered findings (history/browse.py), on SQLite and PostgreSQL: each filter
on both sides of its boundary, the review state as the queue computes it, and the
page agreeing with the total."""

from __future__ import annotations

from decimal import Decimal

from billdrift.core.model import Kind, Severity
from billdrift.history import HistoryStore, record_run
from billdrift.history._sql import SqlStore
from billdrift.history.browse import (
    FindingFilter,
    facets,
    list_findings,
    open_exposure,
    run_changes,
)
from billdrift.history.lifecycle import Scope
from billdrift.history.queue import review_queue
from billdrift.history.review import record_decision
from tests.history.helpers import at, finding, report

BLOCKED = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", severity=Severity.MEDIUM, amount="29.00")
UNPAID = finding(
    Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", amount="500.00", evidence={"app": {"email": "Bo@x.io"}}
)
SMALL = finding(Kind.UNPAID_BUT_ACTIVE, "u3", "cus_3", amount="10.00")
EURO = finding(Kind.PLAN_DRIFT, "u4", "cus_4", severity=Severity.LOW, amount="7.50", currency="EUR")


def _ids(store: HistoryStore, hours: float = 5, **wanted: object) -> list[str | None]:
    listing = list_findings(store, FindingFilter(**wanted), at(hours), 0, 50)  # type: ignore[arg-type]
    assert listing.total == len(listing.rows)
    return [row.state.account_id for row in listing.rows]


def test_default_order_is_the_review_queues(store: HistoryStore) -> None:
    record_run(store, report(SMALL, EURO, BLOCKED, UNPAID), at(0), at(0.1))
    queue = [item.state.account_id for item in review_queue(store, at(1))]
    assert _ids(store) == queue == ["u1", "u2", "u3", "u4"]
    # Amounts compare within a currency: EUR before USD, the largest first in each.
    assert _ids(store, sort="amount") == ["u4", "u2", "u1", "u3"]
    assert _ids(store, sort="amount", descending=False) == ["u3", "u1", "u2", "u4"]


def test_filters_each_keep_their_side_of_the_boundary(store: HistoryStore) -> None:
    record_run(store, report(SMALL, EURO, BLOCKED, UNPAID), at(0), at(0.1))
    assert _ids(store, kind="unpaid_but_active") == ["u2", "u3"]
    assert _ids(store, severity="low") == ["u4"]
    assert _ids(store, currency="EUR") == ["u4"]
    assert _ids(store, min_amount=Decimal("29.00")) == ["u1", "u2"]  # 29.00 itself is in
    assert _ids(store, min_amount=Decimal("29.01")) == ["u2"]
    assert _ids(store, max_amount=Decimal("10.00")) == ["u3", "u4"]
    assert _ids(store, max_amount=Decimal("9.99")) == ["u4"]
    assert _ids(store, search="CUS_3") == ["u3"]
    assert _ids(store, search="bo@x") == ["u2"]  # part of the finding's email address
    assert _ids(store, search="%") == []  # a LIKE wildcard is a literal character
    assert _ids(store, search="u_") == []


def test_lifecycle_filter(store: HistoryStore) -> None:
    record_run(store, report(SMALL, BLOCKED), at(0), at(0.1))
    record_run(store, report(BLOCKED, UNPAID), at(1), at(1.1))
    assert _ids(store, lifecycle="new") == ["u2"]
    assert _ids(store, lifecycle="ongoing") == ["u1"]
    assert _ids(store, lifecycle="resolved") == ["u3"]
    assert _ids(store, lifecycle="open") == ["u1", "u2"]
    assert sorted(_ids(store, lifecycle="all")) == ["u1", "u2", "u3"]  # type: ignore[type-var]
    record_run(store, report(BLOCKED, UNPAID, SMALL), at(2), at(2.1))
    assert _ids(store, lifecycle="reopened") == ["u3"]
    counts = facets(store).counts_by_lifecycle
    assert counts["open"] == 3 and counts["reopened"] == 1 and counts["ongoing"] == 2
    assert run_changes(store, 3).by_change == {"ongoing": 2, "reopened": 1}


def test_a_runs_changes_stay_as_recorded_after_a_targeted_run(store: HistoryStore) -> None:
    """The dashboard shows the latest full run's changes: a listener's targeted run
    that sees or resolves one of its findings afterwards must not move them (it took
    the finding out of the full run's counts before schema 8)."""
    record_run(store, report(SMALL, BLOCKED, UNPAID), at(0), at(0.1))
    record_run(store, report(BLOCKED, UNPAID), at(1), at(1.1))  # SMALL resolved
    full = {"ongoing": 2, "resolved": 1}
    assert run_changes(store, 2).by_change == full
    record_run(store, report(BLOCKED), at(2), at(2.1), scope=Scope(frozenset({"cus_1"})))
    record_run(store, report(), at(3), at(3.1), scope=Scope(frozenset({"cus_2"})))
    assert run_changes(store, 2).by_change == full
    assert run_changes(store, 3).by_change == {"ongoing": 1}
    assert run_changes(store, 4).by_change == {"resolved": 1}


def test_a_run_recorded_before_schema_8_has_its_changes_derived(store: HistoryStore) -> None:
    """Runs recorded before the changes were kept (NULL) are counted from the findings'
    lifecycle columns, as they were: right while the run is the latest."""
    record_run(store, report(SMALL, BLOCKED), at(0), at(0.1))
    record_run(store, report(BLOCKED, UNPAID), at(1), at(1.1))
    assert isinstance(store, SqlStore)
    with store._locked():
        store._exec("UPDATE runs SET changes = NULL")
    assert run_changes(store, 2).by_change == {"new": 1, "ongoing": 1, "resolved": 1}


def test_review_state_is_the_decision_in_force(store: HistoryStore) -> None:
    record_run(store, report(SMALL, BLOCKED, UNPAID), at(0), at(0.1))
    states = {
        row.state.account_id: row.state
        for row in list_findings(store, FindingFilter(), at(1), 0, 50).rows
    }
    record_decision(store, states["u1"], "acknowledged", "", "me", at(1))
    record_decision(store, states["u2"], "snoozed", "later", "me", at(1), until=at(3))
    record_decision(store, states["u3"], "noted", "just a note", "me", at(1))
    assert _ids(store, 2, review="none") == ["u3"]  # a note decides nothing
    assert _ids(store, 2, review="acknowledged") == ["u1"]
    assert _ids(store, 2, review="snoozed") == ["u2"]
    # the snooze ends at its `until`: from then on the finding needs a person again
    assert _ids(store, 3, review="snoozed") == []
    assert _ids(store, 3, review="none") == ["u2", "u3"]
    queue = [item.state.account_id for item in review_queue(store, at(3))]
    assert queue == _ids(store, 3, review="none")


def test_paging_covers_every_row_once(store: HistoryStore) -> None:
    many = [
        finding(Kind.UNPAID_BUT_ACTIVE, f"a{i:03}", f"cus_{i}", amount="5.00") for i in range(23)
    ]
    record_run(store, report(*many), at(0), at(0.1))
    seen: list[str] = []
    for offset in range(0, 30, 10):
        listing = list_findings(store, FindingFilter(sort="account"), at(1), offset, 10)
        assert listing.total == 23
        seen += [row.state.fingerprint for row in listing.rows]
    assert len(seen) == len(set(seen)) == 23


def test_exposure_per_kind_and_currency(store: HistoryStore) -> None:
    record_run(store, report(SMALL, EURO, BLOCKED, UNPAID), at(0), at(0.1))
    found = {(e.kind, e.currency): (e.findings, e.monthly) for e in open_exposure(store)}
    assert found == {
        ("paid_but_blocked", "USD"): (1, Decimal("29.00")),
        ("unpaid_but_active", "USD"): (2, Decimal("510.00")),
        ("plan_drift", "EUR"): (1, Decimal("7.50")),
    }
