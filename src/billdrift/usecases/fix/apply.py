"""``billdrift fix apply``: run a reviewed plan against the app database, all or nothing.

The plan comes from its script (rebuilt from the plan line and compared, so an
edited file is refused). The URL must be given for this purpose: the configured
``[app]`` source is read-only and is never reused to write. Every statement runs
in one transaction, and each one's outcome is checked:

- ``changed``: its guard matched one row, which now holds the fix;
- ``already_done``: the row already holds what the statement writes (and every
  other observed value): a plan applied twice changes nothing the second time;
- ``stale`` (the row holds something else now), ``missing`` (no row with that id)
  or ``not_unique`` (several): the whole transaction is rolled back and the
  plan refused. Someone changed the data since the check; check again, plan again.

What happened is appended to the history store (``fix_applications``), refusals
included, with the plan's digest, who, where (redacted) and each statement's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

from billdrift.errors import BilldriftError, ConfigError
from billdrift.history import open_store
from billdrift.history.store import FixApplication
from billdrift.infra.db.writable import (
    STATEMENT_SECONDS,
    WriteSession,
    transaction,
    writable_url,
)
from billdrift.usecases.fix.model import FixPlan, Statement
from billdrift.usecases.fix.script import done_sql, rows_sql, update_sql

State = Literal["changed", "already_done", "stale", "missing", "not_unique"]
Outcome = Literal["applied", "nothing_to_do", "refused", "declined"]
#: States that refuse the plan (the transaction is rolled back).
REFUSING: Final[frozenset[str]] = frozenset({"stale", "missing", "not_unique"})


@dataclass(frozen=True)
class StatementResult:
    number: int
    statement: Statement
    state: State
    #: Rows the UPDATE changed (0 unless ``changed``; rolled back when refused).
    rows: int


@dataclass(frozen=True)
class Applied:
    """What ``fix apply`` did. ``exit_code``: 0 applied or nothing to do, else 2."""

    plan: FixPlan
    app: str
    outcome: Outcome
    results: tuple[StatementResult, ...] = ()
    record_id: int | None = None
    #: Set when the outcome could not be recorded in the history store.
    history_error: str | None = None

    @property
    def rows_changed(self) -> int:
        return sum(r.rows for r in self.results) if self.outcome == "applied" else 0

    @property
    def exit_code(self) -> int:
        ok = self.outcome in ("applied", "nothing_to_do") and self.history_error is None
        return 0 if ok else 2


def apply(
    plan: FixPlan,
    app_url: str,
    *,
    confirm: Callable[[FixPlan], bool],
    history: str | None,
    who: str,
    statement_seconds: float = STATEMENT_SECONDS,
) -> Applied:
    """Apply `plan` to the database at `app_url` once `confirm(plan)` says yes; each
    statement may run (or wait for a locked row) `statement_seconds`."""
    if not app_url:
        raise ConfigError("fix apply needs --app-url: a URL that may write, given for this")
    url = writable_url(app_url)
    if url.dialect != plan.dialect:
        raise ConfigError(
            f"the plan was written for {plan.dialect}, but {url.shown} is {url.dialect}: "
            "make the plan with --dialect matching the database"
        )
    if plan.empty:
        return Applied(plan, url.shown, "nothing_to_do")
    if not confirm(plan):
        return Applied(plan, url.shown, "declined")
    results: list[StatementResult] = []
    outcome: Outcome = "nothing_to_do"
    with transaction(url, statement_seconds) as session:
        for number, statement in enumerate(plan.statements, 1):
            results.append(_run(session, plan, number, statement))
        if any(result.state in REFUSING for result in results):
            outcome = "refused"
        elif any(result.state == "changed" for result in results):
            outcome = "applied"
            session.commit()
    applied = Applied(plan, url.shown, outcome, tuple(results))
    return _recorded(applied, history, who)


def _run(
    session: WriteSession, plan: FixPlan, number: int, statement: Statement
) -> StatementResult:
    rows = session.execute(update_sql(plan, statement))
    if rows == 1:
        return StatementResult(number, statement, "changed", 1)
    if rows > 1:
        return StatementResult(number, statement, "not_unique", rows)
    if session.count(done_sql(plan, statement)) == 1:
        return StatementResult(number, statement, "already_done", 0)
    present = session.count(rows_sql(plan, statement))
    state: State = "missing" if present == 0 else "stale" if present == 1 else "not_unique"
    return StatementResult(number, statement, state, 0)


def _recorded(applied: Applied, history: str | None, who: str) -> Applied:
    if history is None:
        return applied
    assert applied.outcome != "declined"
    record = FixApplication(
        plan_digest=applied.plan.digest,
        applied_at=datetime.now(UTC),
        who=who,
        app=applied.app,
        app_table=".".join(applied.plan.table),
        outcome=applied.outcome,
        rows_changed=applied.rows_changed,
        statements=[
            {
                "number": r.number,
                "account_id": r.statement.account_id,
                "fingerprints": [f.fingerprint for f in r.statement.findings],
                "state": r.state,
                "rows": r.rows if applied.outcome == "applied" else 0,
            }
            for r in applied.results
        ],
    )
    try:
        with open_store(history) as store:
            record_id = store.add_fix_application(record)
    except BilldriftError as error:
        return Applied(**{**applied.__dict__, "history_error": str(error)})
    return Applied(**{**applied.__dict__, "record_id": record_id})
