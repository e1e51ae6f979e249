"""Remediation a person approves: ``billdrift fix plan`` and ``billdrift fix apply``.

billdrift itself stays read-only: :func:`plan` turns selected findings into a
:class:`FixPlan` (data) and :func:`render_sql` into a SQL script a person reads;
only :func:`apply` (in :mod:`billdrift.usecases.fix.apply`), given a write-enabled
URL explicitly, runs a plan. Front-ends (the CLI, an agent server showing "the SQL
a fix would run") call these and present the result; nothing here prints.

Example::

    from billdrift.usecases import fix
    plan = fix.plan(config, fix.Selection(kinds=(Kind.PAID_BUT_BLOCKED,)),
                    history=".billdrift/history.sqlite")
    print(fix.render_sql(plan))   # plan.statements, plan.not_fixable: the data
"""

from __future__ import annotations

from pathlib import Path

from billdrift.config import Config
from billdrift.errors import ConfigError
from billdrift.infra.db.urls import is_database_url, resolve
from billdrift.usecases.fix.decide import AppColumns, decide
from billdrift.usecases.fix.model import (
    DIALECTS,
    Change,
    Dialect,
    FindingRef,
    FixPlan,
    Guard,
    NotFixable,
    Statement,
)
from billdrift.usecases.fix.script import PlanFileError, load, render
from billdrift.usecases.fix.select import REVIEW_STATES, Selection, from_history, from_report

__all__ = [
    "DIALECTS",
    "REVIEW_STATES",
    "AppColumns",
    "Change",
    "FindingRef",
    "FixPlan",
    "Guard",
    "NotFixable",
    "PlanFileError",
    "Selection",
    "Statement",
    "columns_from_config",
    "load_plan",
    "plan",
    "render_sql",
]

#: File endings taken for a SQLite database when the app source is a path.
_SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".db3")


def plan(
    config: Config,
    selection: Selection,
    *,
    history: str | None = None,
    report: str | Path | None = None,
    app: str | None = None,
    app_table: str | None = None,
    dialect: str | None = None,
) -> FixPlan:
    """The fix plan for the findings `selection` picks from `report` (a JSON report
    file) or else the history store at `history`.

    The table, columns and dialect come from the config's ``[app]`` (``app`` and
    ``app_table`` win, as ``--app``/``--app-table`` do; `dialect` wins over what the
    app source's URL or file says). Reads no app data: the guards hold each row to
    the values the check observed. Raises ConfigError when the config does not name
    what a plan writes, BilldriftError for an unreadable store or report.
    """
    columns = columns_from_config(config)
    table = table_of(app_table or config.app.table)
    chosen_dialect = dialect_of(dialect, app or config.app.source)
    if report is not None:
        picked = from_report(report, selection)
    else:
        if not history:
            raise ConfigError("a fix plan needs findings: give --report FILE or --history LOC")
        picked = from_history(history, selection)
    statements, not_fixable = decide(picked.selected, columns, config.policy.app_granting_statuses)
    notes = []
    if picked.left_out_reviewed:
        notes.append(
            f"{picked.left_out_reviewed} finding(s) left out because a review decision covers "
            "them (--review acknowledged|snoozed|expected|any includes them)"
        )
    return FixPlan(
        dialect=chosen_dialect,
        table=table,
        origin=picked.origin,
        statements=statements,
        not_fixable=not_fixable,
        notes=tuple(notes),
    )


def render_sql(fix_plan: FixPlan) -> str:
    """The reviewable SQL script of a plan (deterministic: same plan, same bytes)."""
    return render(fix_plan)


def load_plan(path: str | Path) -> FixPlan:
    """The plan a script written by ``fix plan`` carries; PlanFileError if it was edited."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise PlanFileError(f"cannot read plan {path}: {error}") from None
    return load(text, str(path))


def columns_from_config(config: Config) -> AppColumns:
    """The columns a plan writes and guards, as the config names them: a plan never
    writes a column that was only guessed (``billdrift init`` writes every key)."""
    app = config.app
    if not app.columns.account_id:
        raise ConfigError(
            "a fix plan needs app.columns.account_id in the config (the column that "
            "identifies a row); `billdrift init` writes it"
        )
    flags = tuple(app.access_fields or ())
    statuses = tuple(app.status_fields or ())
    primary = app.primary_access_field or (flags + statuses or (None,))[0]
    if primary is None:
        raise ConfigError(
            "a fix plan needs app.access_fields (and app.status_fields, if any) in the "
            "config: it writes only columns the config names; `billdrift init` writes them"
        )
    if primary not in flags + statuses:
        flags = (*flags, primary)
    return AppColumns(
        account_id=app.columns.account_id,
        access_fields=flags,
        status_fields=statuses,
        primary_access_field=primary,
        plan=app.columns.plan,
        customer_id=app.columns.customer_id,
    )


def table_of(name: str | None) -> tuple[str, ...]:
    if not name:
        raise ConfigError(
            "a fix plan needs the app table to update: set app.table or --app-table "
            "(with app.query, name the table the access columns live in)"
        )
    return tuple(name.split(".", 1))


def dialect_of(given: str | None, source: str | None) -> Dialect:
    """`given`, else the dialect of the app source's URL (or SQLite file)."""
    for dialect in DIALECTS:
        if given == dialect or (given == "mariadb" and dialect == "mysql"):
            return dialect
    if given:
        raise ConfigError(f"unknown --dialect {given!r}; expected postgresql, mysql or sqlite")
    if source and is_database_url(source):
        found = resolve(source).dialect
        for dialect in DIALECTS:
            if found == dialect:
                return dialect
    if source and Path(source).suffix.lower() in _SQLITE_SUFFIXES:
        return "sqlite"
    raise ConfigError(
        f"cannot tell the app database's dialect from {source or 'no app source'}: "
        "give --dialect postgresql|mysql|sqlite (a CSV export is fixed in the database behind it)"
    )
