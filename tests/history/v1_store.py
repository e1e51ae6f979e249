"""A store written by schema version 1, for the migration test (issue 18).

``data/v1_store.json`` was produced by ``data/make_store.py 1`` run with the
billdrift of schema version 1 (commit 47844d5, before finding_spans): its tables'
rows as that code wrote them, and what that code read back (every finding's state,
timeline and reviews, and the runs). The migration test loads the rows into a
store at version 1, upgrades it, and compares what the new code reads with what
the old code read. The scenario covers what a span must keep apart: a reworded
and less severe finding, changed evidence, a resolved and reopened finding, a
suppressed one, an ERROR run (nothing seen, nothing resolved), a skip that keeps
a finding, and the same finding twice in one run.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from billdrift.core.model import Kind, Severity, Skip
from billdrift.core.report import Suppressed
from billdrift.history import HistoryStore, Review, fingerprint, record_run
from billdrift.history.store import Action
from tests.history.helpers import at, error_report, finding, findings_read_back, report

FIXTURE: Final = Path(__file__).parent / "data" / "v1_store.json"
#: Tables in the order their rows load (references first).
TABLES: Final = ("runs", "findings", "finding_observations", "reviews")

BLOCKED = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_1")
UNPAID = finding(Kind.UNPAID_BUT_ACTIVE, "u2", "cus_2", "sub_2", severity=Severity.MEDIUM)
ORPHAN = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_9", "sub_9", severity=Severity.MEDIUM)
DRIFT = finding(Kind.PLAN_DRIFT, "u3", "cus_3", "sub_3", severity=Severity.MEDIUM)


def record_scenario(store: HistoryStore) -> None:
    """Six runs and three reviews (see the module docstring)."""
    reworded = dataclasses.replace(BLOCKED, message="new words", severity=Severity.MEDIUM)
    moved = dataclasses.replace(DRIFT, evidence={"billing": {"plan": "pro"}})
    twice = dataclasses.replace(UNPAID, message="seen again in the same run")
    excused = (Suppressed(ORPHAN, "enterprise contract"),)
    record_run(store, report(BLOCKED, UNPAID, DRIFT), at(0), at(0.1))
    record_run(store, report(reworded, UNPAID, DRIFT, suppressed=excused), at(1), at(1.1))
    record_run(store, report(UNPAID, moved, suppressed=excused), at(2), at(2.1))
    record_run(store, error_report(), at(3), at(3.1))
    record_run(store, report(BLOCKED, UNPAID, twice, moved), at(4), at(4.1))
    skip = Skip("app", "app.csv", "line 4", "unreadable", customer_id="cus_3")
    record_run(store, report(BLOCKED, UNPAID, skips=(skip,)), at(5), at(5.1))
    decisions: tuple[tuple[str, Action, datetime | None], ...] = (
        (fingerprint(UNPAID), "acknowledged", None),
        (fingerprint(BLOCKED), "noted", None),
        (fingerprint(DRIFT), "snoozed", at(100)),
    )
    for fp, action, until in decisions:
        store.add_review(
            Review(
                fingerprint=fp, action=action, note=f"{action} it", who="ann", at=at(6), until=until
            )
        )


#: What ``data/make_store.py 1`` records.
SCENARIO: Final = record_scenario


def snapshot(store: HistoryStore) -> dict[str, Any]:
    """Everything the store's readers can see, as JSON values."""
    states = store.findings_with_status("open", "resolved", "suppressed")
    runs = store.recent_runs(1000)
    # Version 1 had full runs only; the run kind (schema version 5) is not in its fixture.
    assert {(run.kind, tuple(run.customers)) for run in runs} <= {("full", ())}
    return _plain(
        {
            "runs": [
                {k: v for k, v in _plain(run).items() if k not in ("kind", "customers")}
                for run in runs
            ],
            "findings": findings_read_back(store, states),
        }
    )


def _plain(value: object) -> Any:
    def default(item: object) -> object:
        if dataclasses.is_dataclass(item) and not isinstance(item, type):
            return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
        return str(item)

    return orjson.loads(orjson.dumps(value, default=default, option=orjson.OPT_NON_STR_KEYS))
