"""The review queue as SQL (issue 18): paged, filtered, sorted and counted in the store,
on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from billdrift.core.model import Kind, Severity
from billdrift.core.report import Suppressed
from billdrift.history import HistoryStore, fingerprint, record_run
from billdrift.history.queue import QueueQuery, queue_page, review_queue
from billdrift.history.review import decision_in_force, record_decision
from billdrift.history.sqlite_store import SqliteStore
from tests.history.helpers import at, finding, report
from tests.infra.db.conftest import Database

BLOCKED = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", severity=Severity.MEDIUM)
UNPAID_BIG = finding(
    Kind.UNPAID_BUT_ACTIVE,
    "u2",
    "cus_2",
    amount="500.00",
    evidence={"app": {"email": "U2@Example.com"}},
)
UNPAID_EUR = finding(Kind.UNPAID_BUT_ACTIVE, "u3", "cus_3", amount="10.00", currency="EUR")
DRIFT = finding(
    Kind.PLAN_DRIFT, "u4", "cus_4", severity=Severity.MEDIUM, amount="900.00", message="pro 50%_off"
)
ORPHAN = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_5", "sub_5", severity=Severity.LOW)
MISSING = finding(Kind.MISSING_BILLING_LINK, "Ann.Smith", None, None, amount=None)
ELSEWHERE = finding(
    Kind.STALE_BILLING_LINK,
    "u6",
    "cus_6",
    severity=Severity.LOW,
    amount=None,
    evidence={
        "billing": {"email": "Billing@Example.com"},
        "app": {"email": "app@example.com"},
        "note": "hidden@example.com",
    },
)
ALL = (BLOCKED, UNPAID_BIG, UNPAID_EUR, DRIFT, ORPHAN, MISSING)


def _fps(page_or_items: object) -> list[str]:
    items = getattr(page_or_items, "items", page_or_items)
    return [item.state.fingerprint for item in items]  # type: ignore[attr-defined]


def _page(store: HistoryStore, hours: float = 10, **query: object) -> list[str]:
    return _fps(queue_page(store, QueueQuery(**query), at(hours)))  # type: ignore[arg-type]


@pytest.fixture
def recorded(store: HistoryStore) -> HistoryStore:
    record_run(store, report(*ALL), at(0), at(0.1))
    return store


def test_pages_cut_the_queue_order_and_count_the_rest(recorded: HistoryStore) -> None:
    whole = _fps(review_queue(recorded, at(1)))
    assert len(whole) == 6
    pages = [queue_page(recorded, QueueQuery(limit=4, offset=offset), at(1)) for offset in (0, 4)]
    assert _fps(pages[0]) + _fps(pages[1]) == whole
    assert [(p.total, p.remaining, len(p.items)) for p in pages] == [(6, 2, 4), (6, 0, 2)]
    beyond = queue_page(recorded, QueueQuery(limit=4, offset=8), at(1))
    assert beyond.items == () and beyond.total == 6 and beyond.remaining == 0


def test_a_page_turns_only_its_own_rows_into_objects(
    recorded: HistoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = []
    real = type(recorded)._finding_from_row  # type: ignore[attr-defined]

    def counting(self: HistoryStore, row: object) -> object:
        built.append(row)
        return real(self, row)

    monkeypatch.setattr(type(recorded), "_finding_from_row", counting)
    page = queue_page(recorded, QueueQuery(limit=2), at(1))
    assert len(page.items) == 2 and page.total == 6
    assert len(built) == 2  # not every open finding loaded to be sorted in Python


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # amounts compare within a currency: EUR before USD, not 10 EUR below 500 USD
        ({"kinds": ("unpaid_but_active",)}, [UNPAID_EUR, UNPAID_BIG]),
        ({"kinds": ("plan_drift", "orphaned_subscription")}, [DRIFT, ORPHAN]),
        ({"severities": ("low",)}, [ORPHAN]),
        ({"severities": ("medium",)}, [BLOCKED, DRIFT]),
        ({"currencies": ("EUR",)}, [UNPAID_EUR]),
        ({"text": "ann.smith"}, [MISSING]),  # any case
        ({"text": "CUS_5"}, [ORPHAN]),
        ({"text": "sub_5"}, [ORPHAN]),
        ({"text": "50%_off"}, [DRIFT]),  # % and _ are literal, not wildcards
        ({"text": "0%"}, [DRIFT]),
        ({"text": "u_"}, []),
        ({"text": fingerprint(DRIFT)[:8]}, [DRIFT]),
        ({"kinds": ("unpaid_but_active",), "currencies": ("USD",)}, [UNPAID_BIG]),
        # money bounds are inclusive; a finding without money is never in a bound
        ({"min_amount": Decimal("500.00")}, [UNPAID_BIG, DRIFT]),
        ({"min_amount": Decimal("500.01")}, [DRIFT]),
        ({"max_amount": Decimal("29.00")}, [BLOCKED, UNPAID_EUR, ORPHAN]),
        ({"max_amount": Decimal("28.99")}, [UNPAID_EUR]),
    ],
)
def test_filters(recorded: HistoryStore, query: dict[str, object], expected: list[object]) -> None:
    page = queue_page(recorded, QueueQuery(**query), at(1))  # type: ignore[arg-type]
    assert _fps(page) == [fingerprint(f) for f in expected]  # type: ignore[arg-type]
    assert page.total == len(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("u2@example", [UNPAID_BIG]),  # part of an address: the email column
        ("@EXAMPLE.com", [UNPAID_BIG, ELSEWHERE]),
        ("example", []),  # without an "@", addresses are not searched
        (" U2@example.COM ", [UNPAID_BIG]),  # a whole address, any case
        ("u@example.com", []),  # a whole address is matched whole
        ("billing@example.com", [ELSEWHERE]),  # the billing side's address first
        ("app@example.com", []),
        ("hidden@example.com", []),  # an address elsewhere in the evidence
    ],
)
def test_search_by_email(store: HistoryStore, text: str, expected: list[object]) -> None:
    record_run(store, report(*ALL, ELSEWHERE), at(0), at(0.1))
    page = queue_page(store, QueueQuery(text=text), at(1))
    assert _fps(page) == [fingerprint(f) for f in expected]  # type: ignore[arg-type]


def test_an_email_that_changes_is_searched_by_its_new_value(store: HistoryStore) -> None:
    record_run(store, report(UNPAID_BIG), at(0), at(0.1))
    moved = replace(UNPAID_BIG, evidence={"app": {"email": "n@x.io"}})  # its email changed
    record_run(store, report(moved), at(1), at(1.1))
    assert _page(store, text="n@x.io") == [fingerprint(UNPAID_BIG)]
    assert _page(store, text="u2@example.com") == []


def test_sorts(recorded: HistoryStore) -> None:
    by_money = _page(recorded, sort="money")
    # per currency (EUR, then USD), the largest amount first; no money last
    assert by_money[:3] == [fingerprint(UNPAID_EUR), fingerprint(DRIFT), fingerprint(UNPAID_BIG)]
    assert by_money[-1] == fingerprint(MISSING)
    assert _page(recorded, sort="account")[:4] == [
        fingerprint(f) for f in (MISSING, BLOCKED, UNPAID_BIG, UNPAID_EUR)
    ]  # "Ann.Smith" < "u1" in byte order; no account id last
    assert _page(recorded, sort="money", reverse=True)[-3:] == by_money[:3][::-1]
    assert _page(recorded, reverse=True) == _page(recorded)[::-1]
    assert _page(recorded, sort="kind")[:2] == [fingerprint(MISSING), fingerprint(ORPHAN)]
    late = finding(Kind.AMBIGUOUS, "u9", "cus_9")
    record_run(recorded, report(*ALL[1:], late), at(1), at(1.1))  # BLOCKED not seen again
    assert _page(recorded, sort="first_seen")[-1] == fingerprint(late)
    seen = ("new", "ongoing", "resolved")
    assert _page(recorded, sort="last_seen", lifecycles=seen)[-1] == fingerprint(BLOCKED)


def test_lifecycle_filters(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED, UNPAID_BIG), at(0), at(0.1))
    record_run(store, report(BLOCKED, DRIFT), at(1), at(1.1))  # UNPAID_BIG resolved
    assert _page(store, lifecycles=("new",)) == [fingerprint(DRIFT)]
    assert _page(store, lifecycles=("ongoing",)) == [fingerprint(BLOCKED)]
    assert _page(store, lifecycles=("resolved",)) == [fingerprint(UNPAID_BIG)]
    assert _page(store) == [fingerprint(BLOCKED), fingerprint(DRIFT)]  # open only
    record_run(store, report(BLOCKED, DRIFT, UNPAID_BIG), at(2), at(2.1))
    assert _page(store, lifecycles=("reopened",)) == [fingerprint(UNPAID_BIG)]
    assert _page(store, lifecycles=("resolved",)) == []
    excused = report(BLOCKED, UNPAID_BIG, suppressed=(Suppressed(DRIFT, "agreed"),))
    record_run(store, excused, at(3), at(3.1))
    assert _page(store, lifecycles=("suppressed",)) == [fingerprint(DRIFT)]
    assert fingerprint(DRIFT) not in _page(store)  # excused: not in the open queue


def test_review_states_match_the_decision_rule(recorded: HistoryStore) -> None:
    def decide(f: object, action: str, until: float | None = None) -> None:
        state = recorded.finding(fingerprint(f))  # type: ignore[arg-type]
        assert state is not None
        moment = at(until) if until is not None else None
        record_decision(recorded, state, action, "why", "ann", at(1), moment)

    decide(UNPAID_BIG, "acknowledged")
    decide(UNPAID_EUR, "snoozed", until=20)
    decide(DRIFT, "expected")
    decide(ORPHAN, "noted")
    decide(BLOCKED, "snoozed", until=5)  # expired at 10
    decide(BLOCKED, "noted")
    assert _page(recorded, review_states=("acknowledged",)) == [fingerprint(UNPAID_BIG)]
    assert _page(recorded, review_states=("snoozed",)) == [fingerprint(UNPAID_EUR)]
    assert _page(recorded, review_states=("expected",)) == [fingerprint(DRIFT)]
    assert set(_page(recorded, review_states=("noted",))) == {
        fingerprint(ORPHAN),
        fingerprint(BLOCKED),
    }
    undecided = [fingerprint(f) for f in (BLOCKED, MISSING, ORPHAN)]
    assert _page(recorded) == undecided  # the default queue
    # The snooze's end, both sides of it: in force until (not at) its instant.
    assert fingerprint(UNPAID_EUR) not in _page(recorded, hours=19.99)
    assert fingerprint(UNPAID_EUR) in _page(recorded, hours=20)
    page = queue_page(recorded, QueueQuery(include_decided=True, limit=None), at(10))
    assert page.total == 6 and page.decided == 3
    assert page.counts.by_state == {
        "undecided": 3,
        "acknowledged": 1,
        "snoozed": 1,
        "expected": 1,
    }
    assert page.counts.noted == 2
    # The SQL's decision is the Python rule's, finding by finding.
    reviews = recorded.reviews_for(_fps(page))
    for item in page.items:
        mine = reviews.get(item.state.fingerprint, [])
        assert item.decision == decision_in_force(item.state, mine, at(10))
        in_sql = _page(recorded, review_states=(item.decision.action,) if item.decision else ())
        assert item.state.fingerprint in in_sql


def test_a_noted_and_decided_finding_counts_once(recorded: HistoryStore) -> None:
    state = recorded.finding(fingerprint(UNPAID_BIG))
    assert state is not None
    record_decision(recorded, state, "noted", "called", "ann", at(1))
    record_decision(recorded, state, "acknowledged", "on it", "ann", at(1))
    page = queue_page(recorded, QueueQuery(review_states=("acknowledged", "noted")), at(2))
    assert _fps(page) == [fingerprint(UNPAID_BIG)] and page.total == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"kinds": ("nope",)}, "unknown kind 'nope'"),
        ({"severities": ("urgent",)}, "unknown severity"),
        ({"lifecycles": ("gone",)}, "unknown lifecycle"),
        ({"review_states": ("done",)}, "unknown review state"),
        ({"sort": "size"}, "unknown sort"),
        ({"limit": 0}, "limit must be at least 1"),
        ({"offset": -1}, "offset must not be negative"),
    ],
)
def test_a_bad_query_is_refused(query: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        QueueQuery(**query)  # type: ignore[arg-type]


def test_the_queue_uses_an_index_for_open_findings(tmp_path: object) -> None:
    """The default page walks the open findings in queue order by the findings_queue
    index (no sort of every open finding), and finds each finding's decision by the
    reviews index, not by scanning the reviews."""
    from pathlib import Path

    store = SqliteStore(Path(str(tmp_path)) / "h.sqlite", lock_timeout=5)
    try:
        record_run(store, report(*ALL), at(0), at(0.1))
        from billdrift.history import queue

        sql = queue.store_sql(store, QueueQuery(), at(1))
        plan = " | ".join(
            str(row[-1]) for row in store._exec("EXPLAIN QUERY PLAN " + sql.page, sql.page_params)
        )
    finally:
        store.close()
    assert "USING INDEX findings_queue" in plan, plan
    assert "TEMP B-TREE" not in plan, plan  # no sort: the index gives the order
    assert "reviews_by_fingerprint" in plan, plan


def test_the_postgresql_page_walks_the_queue_index(pg: Database) -> None:
    """On PostgreSQL too, the page reads open findings in findings_queue order and
    stops after the page: each finding's decision is looked up for the rows read, not
    joined for all of them first (that plan read and sorted every open finding: 5.6 s
    at 65,000 after a year of runs)."""
    from billdrift.history import open_store, queue
    from billdrift.history._sql import SqlStore

    many = [finding(Kind.UNPAID_BUT_ACTIVE, f"u{n}", f"cus_{n}") for n in range(3000)]
    store = open_store(pg.url)
    assert isinstance(store, SqlStore)
    try:
        record_run(store, report(*many), at(0), at(0.1))
        store._exec("ANALYZE findings")
        store._exec("ANALYZE reviews")
        sql = queue.store_sql(store, QueueQuery(), at(1))
        with store._snapshot():
            plan = [str(row[0]) for row in store._exec("EXPLAIN " + sql.page, sql.page_params)]
    finally:
        store.close()
    text = "\n".join(plan)
    assert "Index Scan using findings_queue" in text, text
    assert not any(line.lstrip(" ->").startswith("Sort") for line in plan[:3]), text


def test_a_whole_address_is_looked_up_by_the_email_index(store: HistoryStore) -> None:
    """Searching a whole e-mail address reads findings_by_email, not every open
    finding (SQLite, without statistics, walked findings_queue for the order)."""
    from billdrift.history import queue
    from billdrift.history._sql import SqlStore

    many = [
        finding(
            Kind.UNPAID_BUT_ACTIVE, f"u{n}", f"cus_{n}", evidence={"app": {"email": f"{n}@x.io"}}
        )
        for n in range(3000)
    ]
    assert isinstance(store, SqlStore)
    record_run(store, report(*many), at(0), at(0.1))
    if store.dialect == "postgresql":
        store._exec("ANALYZE findings")
    sql = queue.store_sql(store, QueueQuery(text="42@X.io"), at(1))
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store._snapshot():
        plan = "\n".join(str(row[-1]) for row in store._exec(explain + sql.page, sql.page_params))
    assert "findings_by_email" in plan, plan
    assert _page(store, text="42@X.io") == [fingerprint(many[42])]
