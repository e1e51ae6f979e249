"""Schema version 6 (issue 18): findings.email, the customer's e-mail address the
review queue searches by index. A store at version 5 (no email column) upgrades to
hold, finding by finding, the addresses recording would have written, on SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

from billdrift.core.model import Kind, Severity
from billdrift.history import HistoryStore, fingerprint, open_store, record_run, schema
from billdrift.history._sql import SqlStore
from billdrift.history.queue import QueueQuery, queue_page
from tests.history.helpers import at, finding, report, to_version_6

APP = finding(Kind.UNPAID_BUT_ACTIVE, "u1", "cus_1", evidence={"app": {"email": " Ann@X.io "}})
BILLING = finding(
    Kind.ORPHANED_SUBSCRIPTION,
    None,
    "cus_2",
    "sub_2",
    severity=Severity.MEDIUM,
    evidence={"billing": {"email": "Bob@Y.io"}, "app": {"email": "other@y.io"}},
)
NONE = finding(Kind.DUPLICATE_CUSTOMER, None, "cus_3", evidence={"account_ids": ["a", "b"]})
GONE = finding(Kind.PLAN_DRIFT, "u4", "cus_4", evidence={"app": {"email": "gone@z.io"}})


def _emails(store: HistoryStore) -> list[tuple[Any, ...]]:
    assert isinstance(store, SqlStore)
    with store._snapshot():
        return store._exec("SELECT fingerprint, status, email FROM findings ORDER BY fingerprint")


def _to_version_5(store: SqlStore) -> None:
    """Undo migration 6 in place: the store as version 5 left it (no email column, the
    queue index of the old order)."""
    to_version_6(store)
    with store._locked():
        store._exec("DROP INDEX findings_by_email")
        store._exec("DROP INDEX findings_queue")
        store._exec("ALTER TABLE findings DROP COLUMN email")
        store._exec("CREATE INDEX findings_queue ON findings (status)")
        store._exec("DELETE FROM schema_version WHERE version = 6")
        assert store._current_version() == 5


def test_a_version_5_store_upgrades_with_the_emails_recording_writes(store_location: str) -> None:
    assert schema.LATEST == 9
    with open_store(store_location) as store:
        record_run(store, report(APP, BILLING, NONE, GONE), at(0), at(0.1))
        record_run(store, report(APP, BILLING, NONE), at(1), at(1.1))  # GONE resolved
        recorded = _emails(store)
        assert isinstance(store, SqlStore)
        _to_version_5(store)
    assert sorted(email for *_, email in recorded if email) == [
        "ann@x.io",
        "bob@y.io",
        "gone@z.io",
    ]
    with open_store(store_location) as store:
        assert store.schema_version() == schema.LATEST
        assert _emails(store) == recorded
        page = queue_page(store, QueueQuery(text="bob@y.io"), at(2))
        assert [item.state.fingerprint for item in page.items] == [fingerprint(BILLING)]
        # Recording goes on over the upgraded store.
        record_run(store, report(APP, BILLING, NONE, GONE), at(2), at(2.1))
        page = queue_page(store, QueueQuery(text="GONE@z.io"), at(3))
        assert [item.state.fingerprint for item in page.items] == [fingerprint(GONE)]
