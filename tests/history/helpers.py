"""Short ways to build the reports a history test records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from billdrift.core.model import Exposure, Finding, Kind, Severity, Skip, Verdict
from billdrift.core.report import Report, Suppressed, decide_verdict

if TYPE_CHECKING:  # the old-store generators run this module with old code
    from billdrift.history import HistoryStore
    from billdrift.history.store import FindingState

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    """T0 plus some hours: run times that read as a timeline."""
    return T0 + timedelta(hours=hours)


def finding(
    kind: Kind = Kind.PAID_BUT_BLOCKED,
    account: str | None = "u1",
    customer: str | None = "cus_1",
    subscription: str | None = "sub_1",
    *,
    severity: Severity = Severity.HIGH,
    amount: str | None = "29.00",
    currency: str = "USD",
    message: str | None = None,
    evidence: dict[str, object] | None = None,
) -> Finding:
    return Finding(
        kind=kind,
        severity=severity,
        confidence=1.0,
        account_id=account,
        customer_id=customer,
        subscription_id=subscription,
        exposure=Exposure(amount, currency) if amount is not None else None,
        message=message or f"{kind.value} for {account or customer}",
        fix="fix it",
        evidence=evidence if evidence is not None else {"billing": {"status": "active"}},
    )


def report(
    *findings: Finding,
    suppressed: tuple[Suppressed, ...] = (),
    errors: tuple[str, ...] = (),
    skips: tuple[Skip, ...] = (),
    not_applied: tuple[tuple[str, str], ...] = (),
    as_of: datetime = T0,
) -> Report:
    ordered = tuple(sorted(findings, key=lambda f: -f.severity))
    return Report(
        verdict=decide_verdict(ordered, skips, errors, Severity.HIGH),
        as_of=as_of,
        fail_on=Severity.HIGH,
        findings=ordered if not errors else (),
        suppressed=suppressed,
        skips=skips,
        errors=errors,
        counts={"accounts": 10, "subscriptions": 8, "customers": 8},
        rules_not_applied=not_applied,
    )


def error_report(message: str = "billing export looks truncated") -> Report:
    return Report(verdict=Verdict.ERROR, as_of=T0, fail_on=Severity.HIGH, errors=(message,))


def to_version_8(store: object) -> None:
    """Undo migration 9 in place (a SQL store): the findings' text digests dropped."""
    from billdrift.history._sql import SqlStore

    assert isinstance(store, SqlStore)
    with store._locked():
        store._exec("ALTER TABLE findings DROP COLUMN text_digest")
        store._exec("DELETE FROM schema_version WHERE version = 9")
        assert store._current_version() == 8


def to_version_7(store: object) -> None:
    """Undo migrations 9 and 8 in place (a SQL store): the runs' recorded changes dropped."""
    from billdrift.history._sql import SqlStore

    to_version_8(store)
    assert isinstance(store, SqlStore)
    with store._locked():
        store._exec("ALTER TABLE runs DROP COLUMN changes")
        store._exec("DELETE FROM schema_version WHERE version = 8")
        assert store._current_version() == 7


def to_version_6(store: object) -> None:
    """Undo migrations 8 and 7 in place (a SQL store): each live finding's last-seen
    run and time written back, the ``seen_live`` column dropped, as version 6 kept them."""
    from billdrift.history._sql import SqlStore
    from billdrift.history._sql_rows import seen_at, seen_run

    to_version_7(store)
    assert isinstance(store, SqlStore)
    with store._locked():
        store._exec(
            f"UPDATE findings SET last_seen_run = {seen_run('')}, "
            f"last_seen_at = {seen_at('')} WHERE seen_live = 1"
        )
        store._exec("ALTER TABLE findings DROP COLUMN seen_live")
        store._exec("DELETE FROM schema_version WHERE version = 7")
        assert store._current_version() == 6


def findings_read_back(store: HistoryStore, states: Sequence[FindingState]) -> dict[str, Any]:
    """Each finding's state, timeline and reviews, by fingerprint: what a snapshot
    compares across the upgrade."""
    reviews = store.reviews_for([state.fingerprint for state in states])
    return {
        state.fingerprint: {
            "state": state,
            "timeline": store.observations(state.fingerprint),
            "reviews": reviews.get(state.fingerprint, []),
        }
        for state in states
    }
