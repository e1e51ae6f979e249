"""The lifecycle across runs, on SQLite and PostgreSQL: new, ongoing, resolved, reopened."""

from __future__ import annotations

import dataclasses

import pytest

from billdrift.core.model import Kind, Severity, Skip, Verdict
from billdrift.core.report import Suppressed
from billdrift.history import HistoryStore, fingerprint, record_run
from tests.history.helpers import at, error_report, finding, report

BLOCKED = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_1")
UNPAID = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", "sub_2", severity=Severity.MEDIUM)
ORPHAN = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_9", "sub_9", severity=Severity.MEDIUM)
DRIFT = finding(Kind.PLAN_DRIFT, "u3", "cus_3", "sub_3", severity=Severity.MEDIUM)


def test_new_ongoing_resolved_reopened_across_five_runs(store: HistoryStore) -> None:
    fp = fingerprint(BLOCKED)

    first = record_run(store, report(BLOCKED, UNPAID), at(0), at(0.1))
    assert first.run_id == 1
    assert [f.account_id for f in first.new] == ["u1", "u2"]
    assert first.ongoing == first.reopened == first.resolved == ()
    assert first.status(BLOCKED) == "new"
    assert first.first_seen_of(BLOCKED) == at(0.1)

    # Reworded and less severe: still the same finding, ongoing.
    reworded = dataclasses.replace(BLOCKED, message="new words", severity=Severity.MEDIUM)
    second = record_run(store, report(reworded, UNPAID), at(1), at(1.1))
    assert second.status_of == {fp: "ongoing", fingerprint(UNPAID): "ongoing"}
    assert [f.message for f in second.ongoing] == ["new words", UNPAID.message]
    assert second.first_seen[fp] == at(0.1)

    third = record_run(store, report(UNPAID), at(2), at(2.1))
    assert [r.fingerprint for r in third.resolved] == [fp]
    gone = third.resolved[0]
    assert (gone.kind, gone.account_id, gone.customer_id) == (Kind.PAID_BUT_BLOCKED, "u1", "cus_1")
    assert (gone.first_seen, gone.last_seen, gone.was) == (at(0.1), at(1.1), "open")
    assert gone.message == "new words"
    assert store.finding(fp).status == "resolved"  # type: ignore[union-attr]

    fourth = record_run(store, report(BLOCKED, UNPAID), at(3), at(3.1))
    assert [f.account_id for f in fourth.reopened] == ["u1"]
    assert fourth.status(BLOCKED) == "reopened"
    assert fourth.status(UNPAID) == "ongoing"

    fifth = record_run(store, report(BLOCKED, UNPAID, ORPHAN), at(4), at(4.1))
    assert fifth.status(BLOCKED) == "ongoing"
    assert fifth.status(ORPHAN) == "new"

    state = store.finding(fp)
    assert state is not None
    assert state.status == "open"
    assert (state.first_seen_run, state.first_seen_at) == (1, at(0.1))
    assert (state.last_seen_run, state.last_seen_at) == (5, at(4.1))
    assert (state.opened_run, state.times_reopened) == (4, 1)
    assert state.severity is Severity.HIGH  # the latest observation's
    timeline = store.observations(fp)
    assert [o.run_id for o in timeline] == [1, 2, 4, 5]
    assert [o.finding.message for o in timeline][:2] == [BLOCKED.message, "new words"]
    assert timeline[0].finding.evidence == BLOCKED.evidence
    assert timeline[0].observed_at == at(0.1)


def test_an_error_run_is_recorded_but_resolves_nothing(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED, UNPAID), at(0), at(0.1))
    failed = record_run(store, error_report("export truncated"), at(1), at(1.1))
    assert failed.verdict is Verdict.ERROR
    assert failed.resolved == ()
    assert sorted(failed.kept) == sorted([fingerprint(BLOCKED), fingerprint(UNPAID)])
    assert {s.status for s in store.open_findings()} == {"open"}
    assert len(store.open_findings()) == 2
    runs = store.recent_runs()
    assert [r.verdict for r in runs] == [Verdict.FAIL, Verdict.ERROR]
    assert runs[1].errors == ["export truncated"]
    # The next good run still sees them as ongoing, not new.
    after = record_run(store, report(BLOCKED, UNPAID), at(2), at(2.1))
    assert set(after.status_of.values()) == {"ongoing"}


def test_a_rule_that_did_not_run_resolves_none_of_its_findings(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED, DRIFT), at(0), at(0.1))
    no_plan_map = report(BLOCKED, not_applied=(("plan_drift", "needs a [plans] map"),))
    result = record_run(store, no_plan_map, at(1), at(1.1))
    assert result.resolved == ()
    assert result.kept == (fingerprint(DRIFT),)
    assert store.finding(fingerprint(DRIFT)).status == "open"  # type: ignore[union-attr]


def test_an_unreadable_row_for_a_customer_keeps_its_findings_open(store: HistoryStore) -> None:
    record_run(store, report(BLOCKED, UNPAID), at(0), at(0.1))
    skip = Skip("billing", "subs.csv", "line 3", "bad date", customer_id="cus_1")
    result = record_run(store, report(skips=(skip,)), at(1), at(1.1))
    assert [r.fingerprint for r in result.resolved] == [fingerprint(UNPAID)]
    assert result.kept == (fingerprint(BLOCKED),)


def test_an_excused_finding_is_neither_open_nor_resolved_and_reopens_later(
    store: HistoryStore,
) -> None:
    fp = fingerprint(UNPAID)
    record_run(store, report(UNPAID), at(0), at(0.1))
    excused = report(suppressed=(Suppressed(UNPAID, "enterprise contract"),))
    second = record_run(store, excused, at(1), at(1.1))
    assert second.resolved == ()
    assert second.status_of == {fp: "suppressed"}
    assert [f.account_id for f in second.suppressed] == ["u2"]
    assert store.finding(fp).status == "suppressed"  # type: ignore[union-attr]
    assert store.open_findings() == []
    assert store.observations(fp)[-1].suppressed_by == "enterprise contract"
    # The exception expired: the finding is back, as reopened.
    third = record_run(store, report(UNPAID), at(2), at(2.1))
    assert third.status_of == {fp: "reopened"}
    state = store.finding(fp)
    assert state is not None and state.times_reopened == 1 and state.opened_run == 3


def test_a_finding_excused_from_the_start_is_recorded_as_suppressed(store: HistoryStore) -> None:
    result = record_run(
        store, report(suppressed=(Suppressed(ORPHAN, "test customer"),)), at(0), at(0.1)
    )
    assert result.new == ()
    assert result.status_of == {fingerprint(ORPHAN): "suppressed"}
    gone = record_run(store, report(), at(1), at(1.1))
    assert [r.was for r in gone.resolved] == ["suppressed"]


def test_the_same_identity_twice_in_one_run_is_one_finding_observed_twice(
    store: HistoryStore,
) -> None:
    twin = dataclasses.replace(BLOCKED, subscription_id="sub_other", message="second copy")
    result = record_run(store, report(BLOCKED, twin), at(0), at(0.1))
    assert len(result.new) == 2
    assert result.status_of == {fingerprint(BLOCKED): "new"}
    assert len(store.observations(fingerprint(BLOCKED))) == 2
    assert len(store.open_findings()) == 1


def test_the_run_row_holds_what_the_charts_need(store: HistoryStore) -> None:
    euro = finding(Kind.UNPAID_BUT_ACTIVE, "u5", "cus_5", "sub_5", amount="9.00", currency="EUR")
    record_run(store, report(BLOCKED, euro), at(0), at(0.5))
    record_run(store, report(BLOCKED), at(1), at(1.25))
    record_run(store, report(), at(2), at(2.1))
    runs = store.recent_runs(2)
    assert [r.run_id for r in runs] == [2, 3]  # the latest two, oldest first
    first = store.recent_runs(10)[0]
    assert first.finished_at == at(0.5)
    assert first.duration_seconds == 1800
    assert first.verdict is Verdict.FAIL
    assert first.counts_by_kind == {"paid_but_blocked": 1, "unpaid_but_active": 1}
    assert first.counts_by_severity == {"high": 2}
    assert first.exposure_by_currency == {"EUR": "9.00", "USD": "29.00"}
    assert first.rows == {"accounts": 10, "subscriptions": 8, "customers": 8}
    assert first.n_findings == 2
    last = store.last_run()
    assert last is not None and last.run_id == 3 and last.verdict is Verdict.PASS
    assert last.counts_by_kind == {} and last.exposure_by_currency == {}


def test_an_empty_first_run_records_a_pass(store: HistoryStore) -> None:
    result = record_run(store, report(), at(0), at(0.1))
    assert (result.run_id, result.changed) == (1, False)
    assert store.recent_runs()[0].verdict is Verdict.PASS


def test_naive_times_are_refused_before_anything_is_written(store: HistoryStore) -> None:
    with pytest.raises(ValueError, match="aware datetimes"):
        record_run(store, report(BLOCKED), at(0).replace(tzinfo=None), at(0.1))
    assert store.recent_runs() == []
