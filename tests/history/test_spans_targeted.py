"""A targeted run between two full runs costs no span rows for findings outside it,
and the timelines and lifecycle read the same as without it (issue 16).

Why: spans (``history/_spans.py``) continue a finding's timeline only when the
finding was seen by the run before; a targeted run (a listener's check of a few
customers) that did not look at a finding used to count as that run, so the next
full run started a new span for every finding outside the targeted customers:
the whole store's spans written again after each targeted run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from billdrift.core.model import Finding, Kind, Skip
from billdrift.history import HistoryStore, open_store, record_run
from billdrift.history._sql import SqlStore
from billdrift.history.lifecycle import Scope
from tests.history.helpers import at, finding, report

OUTSIDE = [finding(Kind.PAID_BUT_BLOCKED, f"u{n}", f"cus_{n}", f"sub_{n}") for n in range(2, 6)]
#: An app-only finding (no billing customer): only the account names it.
NO_CUSTOMER = finding(Kind.PAID_BUT_BLOCKED, "u9", None, None)
INSIDE = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_1")
ONE = Scope(customers=frozenset({"cus_1"}), accounts=frozenset({"u1"}))


def _spans(store: HistoryStore) -> int:
    assert isinstance(store, SqlStore)
    return int(store._exec("SELECT COUNT(*) FROM finding_spans")[0][0])


def _timelines(store: HistoryStore) -> dict[str | None, list[tuple[datetime | None, str]]]:
    """Each finding's timeline: when each run that saw it finished, and what it said."""
    lines = {}
    for state in store.findings_with_status("open", "resolved", "suppressed"):
        observed = store.observations(state.fingerprint)
        lines[state.customer_id] = [(o.observed_at, o.finding.message) for o in observed]
    return lines


def _record(
    store: HistoryStore, runs: Sequence[tuple[Sequence[Finding], Scope | None]]
) -> list[tuple[list[str], list[str], list[str]]]:
    changes = []
    for hours, (findings, scope) in enumerate(runs):
        lifecycle = record_run(store, report(*findings), at(hours), at(hours), scope=scope)
        changes.append(
            (
                sorted(f.account_id or "" for f in lifecycle.new),
                sorted(f.account_id or "" for f in lifecycle.ongoing),
                sorted(item.account_id or "" for item in lifecycle.resolved),
            )
        )
    return changes


def test_a_full_run_after_a_targeted_run_continues_the_spans_outside_it(
    store_location: str, tmp_path: Path
) -> None:
    everything = [*OUTSIDE, NO_CUSTOMER, INSIDE]
    with open_store(str(tmp_path / "plain.sqlite")) as plain:
        plain_changes = _record(plain, [(everything, None), (everything, None)])
        plain_spans, plain_lines = _spans(plain), _timelines(plain)
    with open_store(store_location) as store:
        changes = _record(store, [(everything, None), ([INSIDE], ONE), (everything, None)])
        assert _spans(store) == plain_spans  # one span per finding: none started again
        lines = _timelines(store)
    # Outside the targeted customer the timeline is the two full runs, as without it...
    for customer in [f.customer_id for f in OUTSIDE] + [None]:
        assert [line[1] for line in lines[customer]] == [line[1] for line in plain_lines[customer]]
        assert [line[0] for line in lines[customer]] == [at(0), at(2)]
    # ... inside it, the targeted run saw it too.
    assert [line[0] for line in lines["cus_1"]] == [at(0), at(1), at(2)]
    # And the lifecycle said the same: all new, then all ongoing (the targeted run:
    # its one customer ongoing, nothing outside it resolved).
    assert changes[0] == plain_changes[0] and changes[2] == plain_changes[1]
    assert changes[1] == ([], ["u1"], [])


def test_a_targeted_run_leaves_the_findings_outside_it_untouched(store: HistoryStore) -> None:
    _record(store, [([*OUTSIDE, NO_CUSTOMER, INSIDE], None)])
    before = {s.fingerprint: s for s in store.findings_with_status("open")}
    _record(store, [([], ONE)])  # INSIDE gone: resolved; nothing else looked at
    after = {s.fingerprint: s for s in store.findings_with_status("open", "resolved")}
    changed = [fp for fp in before if after[fp] != before[fp]]
    assert [after[fp].customer_id for fp in changed] == ["cus_1"]
    assert after[changed[0]].status == "resolved"


def test_a_finding_the_targeted_run_resolved_starts_a_new_span_when_it_comes_back(
    store: HistoryStore,
) -> None:
    _record(store, [([*OUTSIDE, INSIDE], None), (OUTSIDE, ONE), ([*OUTSIDE, INSIDE], None)])
    lines = _timelines(store)
    assert [line[0] for line in lines["cus_1"]] == [at(0), at(2)]  # the gap at run 2
    assert _spans(store) == len(OUTSIDE) + 2  # the returning finding's second span
    state = store.findings_with_status("open")
    assert {s.customer_id: s.times_reopened for s in state}["cus_1"] == 1


def test_a_gap_in_full_runs_still_starts_a_span_across_targeted_runs(
    store: HistoryStore,
) -> None:
    # Full run 1 sees it, full run 2 does not (resolved), a targeted run elsewhere,
    # full run 4 sees it again: a new span, as without the targeted run.
    other = Scope(customers=frozenset({"cus_7"}), accounts=frozenset())
    _record(store, [(OUTSIDE[:1], None), ([], None), ([], other), (OUTSIDE[:1], None)])
    assert _spans(store) == 2
    assert [line[0] for line in _timelines(store)["cus_2"]] == [at(0), at(3)]


def test_a_finding_a_targeted_run_held_back_starts_a_new_span_when_seen_again(
    store: HistoryStore,
) -> None:
    # The targeted run could not read cus_1's row: it kept the finding (not resolved)
    # without seeing it, a gap in its timeline all the same.
    unread = Skip("billing", "api", "cus_1", "unreadable", customer_id="cus_1")
    for hours, (findings, scope, skips) in enumerate(
        [([INSIDE], None, ()), ([], ONE, (unread,)), ([INSIDE], None, ())]
    ):
        record_run(store, report(*findings, skips=skips), at(hours), at(hours), scope=scope)
    assert _spans(store) == 2
    assert [line[0] for line in _timelines(store)["cus_1"]] == [at(0), at(2)]


def test_a_finding_without_a_customer_seen_by_a_targeted_run_keeps_that_run(
    store: HistoryStore,
) -> None:
    by_account = Scope(customers=frozenset({"cus_9"}), accounts=frozenset({"u9"}))
    _record(store, [([NO_CUSTOMER], None), ([NO_CUSTOMER], by_account), ([NO_CUSTOMER], None)])
    assert [line[0] for line in _timelines(store)[None]] == [at(0), at(1), at(2)]
    assert _spans(store) == 2  # the targeted run started one, the full run continued it
