"""A store written by schema version 6, for the upgrade test of version 7 (issue 18).

``data/v6_store.json`` was produced by ``data/make_store.py 6`` run with the
billdrift of schema version 6 (commit 9187eb4, before ``findings.seen_live``): its
tables' rows as that code wrote them, and what that code read back (every finding's
state, timeline and reviews, and the runs). The scenario is version 1's (rewording,
changed evidence, resolve and reopen, suppression, an ERROR run, a skip that keeps a
finding, a finding twice in one run, reviews) followed by targeted runs that see,
and resolve, findings between full runs, and full runs that see their findings again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import orjson

from billdrift.core.report import Suppressed
from billdrift.history import HistoryStore, record_run
from billdrift.history.lifecycle import Scope
from tests.history.helpers import at, findings_read_back, report
from tests.history.v1_store import BLOCKED, DRIFT, ORPHAN, UNPAID, _plain, record_scenario

FIXTURE: Final = Path(__file__).parent / "data" / "v6_store.json"
#: Tables in the order their rows load (references first).
TABLES: Final = ("runs", "findings", "finding_spans", "reviews")


def record_v6_scenario(store: HistoryStore) -> None:
    """Version 1's six runs and three reviews, then five more runs (see the module)."""
    record_scenario(store)
    excused = (Suppressed(ORPHAN, "enterprise contract"),)
    record_run(store, report(BLOCKED, UNPAID, DRIFT, suppressed=excused), at(7), at(7.1))
    record_run(store, report(BLOCKED, UNPAID, DRIFT, suppressed=excused), at(8), at(8.1))
    # A targeted run that sees BLOCKED, one that resolves UNPAID (its customer, unseen).
    record_run(store, report(BLOCKED), at(9), at(9.1), scope=Scope(frozenset({"cus_1"})))
    record_run(store, report(), at(10), at(10.1), scope=Scope(frozenset({"cus_2"})))
    record_run(store, report(BLOCKED, DRIFT, ORPHAN), at(11), at(11.1))
    record_run(store, report(BLOCKED, DRIFT, ORPHAN), at(12), at(12.1))


#: What ``data/make_store.py 6`` records.
SCENARIO: Final = record_v6_scenario


def snapshot(store: HistoryStore) -> dict[str, Any]:
    """Everything the store's readers can see, as JSON values."""
    states = store.findings_with_status("open", "resolved", "suppressed")
    return _plain(
        {
            "runs": store.recent_runs(1000),
            "findings": findings_read_back(store, states),
        }
    )


def load_fixture() -> Any:
    return orjson.loads(FIXTURE.read_bytes())
