"""What ``billdrift fix apply`` did, kept in the history store (``fix_applications``).

Kept apart from :mod:`billdrift.history._sql` (runs and findings) because it is a
log of a separate command: one row per application of a plan, appended in its own
locked transaction, never touched by a run, a review or pruning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from billdrift.history._sql_rows import placeholders
from billdrift.history.store import FixApplication

if TYPE_CHECKING:
    from billdrift.history._sql import SqlStore

COLUMNS: Final = (
    "plan_digest",
    "applied_at",
    "who",
    "app",
    "app_table",
    "outcome",
    "rows_changed",
    "statements",
)


def add(store: SqlStore, record: FixApplication) -> int:
    """Append one application; return its id."""
    with store._locked():
        return store._insert(
            f"INSERT INTO fix_applications ({', '.join(COLUMNS)}) "
            f"VALUES ({placeholders(len(COLUMNS))})",
            (
                record.plan_digest,
                store._ts_in(record.applied_at),
                record.who,
                record.app,
                record.app_table,
                record.outcome,
                record.rows_changed,
                store._json_in(record.statements),
            ),
        )


def read(store: SqlStore, plan_digest: str | None = None) -> list[FixApplication]:
    """Recorded applications, oldest first (only those of one plan, if given)."""
    sql = f"SELECT id, {', '.join(COLUMNS)} FROM fix_applications"
    params: tuple[str, ...] = ()
    if plan_digest is not None:
        sql, params = sql + " WHERE plan_digest = ?", (plan_digest,)
    with store._snapshot():
        rows = store._exec(sql + " ORDER BY id", params)
    return [
        FixApplication(
            record_id=int(row[0]),
            plan_digest=row[1],
            applied_at=store._ts_out(row[2]),
            who=row[3],
            app=row[4],
            app_table=row[5],
            outcome=row[6],
            rows_changed=int(row[7]),
            statements=store._json_out(row[8]),
        )
        for row in rows
    ]
