"""A store written by schema version 8, for the upgrade test of version 9 (issue 18).

``data/v8_store.json`` was produced by ``data/make_store.py 8`` run with the
billdrift of schema version 8 (commit a2e560a, before ``findings.text_digest``): its
tables' rows as that code wrote them, and what that code read back. The scenario is
version 6's (rewording, changed evidence, resolve and reopen, suppression, an ERROR
run, a kept finding, a finding twice in one run, reviews, targeted runs) followed by
two full runs that see the same findings again, so the upgraded store's next run of
those findings is a nightly one: every finding seen again unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import orjson

from billdrift.core.model import Finding
from billdrift.core.report import Suppressed
from billdrift.history import HistoryStore, record_run
from tests.history.helpers import at, report
from tests.history.v1_store import BLOCKED, DRIFT, ORPHAN, UNPAID
from tests.history.v6_store import record_v6_scenario, snapshot

FIXTURE: Final = Path(__file__).parent / "data" / "v8_store.json"
#: Tables in the order their rows load (references first).
TABLES: Final = ("runs", "findings", "finding_spans", "reviews")
#: The findings (and the excused one) of the scenario's last two runs.
SHOWN: Final[tuple[Finding, ...]] = (BLOCKED, DRIFT, UNPAID)
EXCUSED: Final = (Suppressed(ORPHAN, "enterprise contract"),)


def nightly(store: HistoryStore, hour: float) -> None:
    """One full run of the scenario's last findings, at `hour`."""
    record_run(store, report(*SHOWN, suppressed=EXCUSED), at(hour), at(hour + 0.1))


def record_v8_scenario(store: HistoryStore) -> None:
    """Version 6's eleven runs and three reviews, then two nightly runs."""
    record_v6_scenario(store)
    nightly(store, 13)
    nightly(store, 14)


#: What ``data/make_store.py 8`` records.
SCENARIO: Final = record_v8_scenario

__all__ = ["EXCUSED", "FIXTURE", "SHOWN", "TABLES", "load_fixture", "nightly", "snapshot"]


def load_fixture() -> Any:
    return orjson.loads(FIXTURE.read_bytes())
