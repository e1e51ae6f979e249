"""fix_applications (migration 2): what `fix apply` did, appended and read back on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

from billdrift.history.store import FixApplication, HistoryStore


def test_applications_are_appended_and_read_back_per_plan(store: HistoryStore) -> None:
    at = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    first = FixApplication(
        plan_digest="a" * 64,
        applied_at=at,
        who="ops",
        app="env:APP_URL (postgresql://writer:***@db/app)",
        app_table="public.users",
        outcome="applied",
        rows_changed=2,
        statements=[{"account_id": "2", "state": "changed", "rows": 1}],
    )
    again = FixApplication(**{**first.__dict__, "outcome": "nothing_to_do", "rows_changed": 0})
    other = FixApplication(**{**first.__dict__, "plan_digest": "b" * 64, "outcome": "refused"})
    ids = [store.add_fix_application(r) for r in (first, again, other)]
    assert ids == sorted(ids)
    mine = store.fix_applications("a" * 64)
    assert [(r.outcome, r.rows_changed) for r in mine] == [("applied", 2), ("nothing_to_do", 0)]
    assert mine[0].statements == first.statements and mine[0].applied_at == at
    assert [r.plan_digest[0] for r in store.fix_applications()] == ["a", "a", "b"]
