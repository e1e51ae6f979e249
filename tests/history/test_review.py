"""The review queue and decisions, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest

from billdrift.core.model import Kind, Severity
from billdrift.history import HistoryError, HistoryStore, fingerprint, fingerprint_of, record_run
from billdrift.history.queue import review_queue
from billdrift.history.review import record_decision, resolve_fingerprint
from tests.history.helpers import at, finding, report

BLOCKED_MEDIUM = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", severity=Severity.MEDIUM)
UNPAID_BIG = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", amount="500.00")
UNPAID_SMALL = finding(Kind.UNPAID_BUT_ACTIVE, "u3", "cus_3", amount="10.00")
DRIFT = finding(Kind.PLAN_DRIFT, "u4", "cus_4", severity=Severity.MEDIUM, amount="900.00")
ORPHAN = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_5", "sub_5", severity=Severity.LOW)


def _fps(store: HistoryStore, now_hours: float = 10, include_decided: bool = False) -> list[str]:
    return [
        item.state.fingerprint
        for item in review_queue(store, at(now_hours), include_decided=include_decided)
    ]


def test_urgent_first_then_severity_then_money(store: HistoryStore) -> None:
    record_run(
        store, report(ORPHAN, UNPAID_SMALL, DRIFT, BLOCKED_MEDIUM, UNPAID_BIG), at(0), at(0.1)
    )
    queue = review_queue(store, at(1))
    assert [item.state.account_id or item.state.customer_id for item in queue] == [
        "u1",  # paid_but_blocked: urgent even at medium severity
        "u2",  # high, 500.00
        "u3",  # high, 10.00
        "u4",  # medium
        "cus_5",  # low
    ]
    assert queue[0].urgent and not queue[1].urgent
    assert {item.state.last_change for item in queue} == {"new"}


def test_acknowledged_findings_leave_the_queue_until_they_come_back(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED_MEDIUM, UNPAID_BIG), at(0), at(0.1))
    fp = fingerprint(UNPAID_BIG)
    state = store.finding(fp)
    assert state is not None
    record_decision(store, state, "acknowledged", "revoking tomorrow", "ann", at(1))
    assert _fps(store) == [fingerprint(BLOCKED_MEDIUM)]
    assert fp in _fps(store, include_decided=True)

    ongoing = record_run(store, report(BLOCKED_MEDIUM, UNPAID_BIG), at(2), at(2.1))
    assert ongoing.decisions[fp].action == "acknowledged"
    assert fp not in _fps(store)

    record_run(store, report(BLOCKED_MEDIUM), at(3), at(3.1))  # resolved
    back = record_run(store, report(BLOCKED_MEDIUM, UNPAID_BIG), at(4), at(4.1))
    assert back.status(UNPAID_BIG) == "reopened"
    assert fp not in back.decisions
    assert fp in _fps(store)  # a new occurrence needs a fresh look
    item = next(i for i in review_queue(store, at(5)) if i.state.fingerprint == fp)
    assert [r.note for r in item.notes] == ["revoking tomorrow"]  # history kept


def test_a_snoozed_finding_still_there_after_its_expiry_is_back(store: HistoryStore) -> None:
    record_run(store, report(UNPAID_BIG), at(0), at(0.1))
    state = store.finding(fingerprint(UNPAID_BIG))
    assert state is not None
    record_decision(store, state, "snoozed", "customer pays monthly by wire", "bob", at(1), at(24))
    assert _fps(store, now_hours=2) == []
    assert _fps(store, now_hours=23.9) == []
    record_run(store, report(UNPAID_BIG), at(30), at(30.1))
    assert _fps(store, now_hours=31) == [fingerprint(UNPAID_BIG)]
    item = review_queue(store, at(31))[0]
    assert item.decision is None
    assert [(r.action, r.who) for r in item.reviews] == [("snoozed", "bob")]


def test_the_latest_decision_wins_and_notes_do_not_decide(store: HistoryStore) -> None:
    record_run(store, report(UNPAID_BIG), at(0), at(0.1))
    state = store.finding(fingerprint(UNPAID_BIG))
    assert state is not None
    record_decision(store, state, "noted", "asked finance", "ann", at(1))
    assert _fps(store) == [state.fingerprint]  # a note alone keeps it in the queue
    record_decision(store, state, "acknowledged", "", "ann", at(2))
    record_decision(store, state, "snoozed", "until the audit", "bob", at(3), at(5))
    assert _fps(store, now_hours=4) == []
    assert _fps(store, now_hours=6) == [state.fingerprint]  # the snooze replaced the ack
    notes = store.reviews_for([state.fingerprint])[state.fingerprint]
    assert [r.action for r in notes] == ["noted", "acknowledged", "snoozed"]


def test_fingerprints_resolve_from_a_unique_prefix(store: HistoryStore) -> None:
    record_run(store, report(UNPAID_BIG, DRIFT), at(0), at(0.1))
    fp = fingerprint(UNPAID_BIG)
    assert resolve_fingerprint(store, fp).fingerprint == fp
    assert resolve_fingerprint(store, fp[:12].upper()).fingerprint == fp
    with pytest.raises(HistoryError, match="at least 4 hex digits"):
        resolve_fingerprint(store, fp[:3])
    with pytest.raises(HistoryError, match="at least 4 hex digits"):
        resolve_fingerprint(store, "zzzz1234")
    unknown = next(p for p in ("0000", "1111", "2222") if not fp.startswith(p))
    with pytest.raises(HistoryError, match="no finding with fingerprint"):
        resolve_fingerprint(store, unknown + "0" * 8)


def test_an_ambiguous_prefix_is_refused_with_the_candidates(store: HistoryStore) -> None:
    seen: dict[str, str] = {}
    for n in itertools.count():
        account = f"acct{n}"
        prefix = fingerprint_of(Kind.MISSING_BILLING_LINK, account, None, None)[:4]
        if prefix in seen:
            pair = (seen[prefix], account)
            break
        seen[prefix] = account
    twins = [finding(Kind.MISSING_BILLING_LINK, a, None, None, amount=None) for a in pair]
    record_run(store, report(*twins), at(0), at(0.1))
    with pytest.raises(HistoryError, match=f"prefix {prefix} is ambiguous"):
        resolve_fingerprint(store, prefix)
    longer = fingerprint(twins[0])[:16]
    assert resolve_fingerprint(store, longer).account_id == pair[0]
