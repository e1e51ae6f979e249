"""``billdrift fix plan`` and ``billdrift fix apply``: remediation a person approves.

Click commands only: the work is :mod:`billdrift.usecases.fix`. ``plan`` writes a
script and changes nothing; ``apply`` needs a write-enabled URL given for it, shows
the changes and asks (or ``--yes``). Exit codes: 0 plan written, or plan applied /
nothing left to do; 2 any error, a refused plan (a guard no longer matches: rolled
back) or a declined confirmation (nothing was changed).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

import click

from billdrift.cli.choices import FIX_REVIEW_STATES, KINDS
from billdrift.cli.exits import run_command
from billdrift.cli.options import CONFIG_HELP, config_file
from billdrift.infra.db.writable import STATEMENT_SECONDS
from billdrift.infra.runtime import loading

if TYPE_CHECKING:
    from billdrift.usecases.fix import FixPlan
    from billdrift.usecases.fix.apply import Applied

# What the commands run (the config, the history store, the fix use cases) is imported
# in their bodies: --help and argument errors load none of it (issue 17).

_HISTORY_HELP: Final = (
    "History store: a SQLite file, postgresql:// URL or env:NAME [history.location, "
    "else $BILLDRIFT_HISTORY, else .billdrift/history.sqlite]."
)
_STATES: Final = {
    "changed": "changed",
    "already_done": "already done (no change)",
    "stale": "REFUSED: the row changed since the check",
    "missing": "REFUSED: no row with this id",
    "not_unique": "REFUSED: several rows with this id",
}


@click.group("fix", context_settings={"help_option_names": ["-h", "--help"]})
def fix() -> None:
    """Turn findings into a reviewed SQL fix for the app database, and apply it.

    billdrift never changes the app by itself: `fix plan` writes a script for a
    person to review; `fix apply` runs it only with a write-enabled URL given for
    it, after a confirmation.
    """


@fix.command("plan")
@click.option("--history", "history", metavar="LOC", help=_HISTORY_HELP)
@click.option(
    "--report",
    "report",
    type=click.Path(dir_okay=False),
    help="Take findings from this JSON report (check --format json) instead of the history.",
)
@click.option(
    "--fingerprint",
    "fingerprints",
    metavar="FP",
    multiple=True,
    help="A finding to fix, by fingerprint or unique prefix; repeatable. Counts as explicit.",
)
@click.option(
    "--kind",
    "kinds",
    type=click.Choice(KINDS),
    multiple=True,
    help="Only findings of this kind; repeatable. Naming unpaid_but_active allows revoking.",
)
@click.option(
    "--review",
    "review",
    type=click.Choice(FIX_REVIEW_STATES),
    multiple=True,
    help="Only findings in this review state; repeatable [unreviewed; any with --fingerprint].",
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--app",
    "app",
    metavar="FILE_OR_URL",
    help="The app database, to tell its dialect (else app.source); nothing is read.",
)
@click.option("--app-table", "app_table", metavar="NAME", help="Table to update (else app.table).")
@click.option(
    "--dialect",
    "dialect",
    type=click.Choice(["postgresql", "mysql", "mariadb", "sqlite"]),
    help="SQL dialect of the script (else from --app / app.source).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["sql", "json"]),
    default="sql",
    show_default=True,
    help="sql: the reviewable script (what fix apply takes); json: the plan as data.",
)
@click.option("--output", "output", type=click.Path(dir_okay=False), help="Write it here.")
@click.option("--debug", is_flag=True, help="Show a traceback with errors.")
def plan(
    history: str | None,
    report: str | None,
    fingerprints: tuple[str, ...],
    kinds: tuple[str, ...],
    review: tuple[str, ...],
    config_path: str | None,
    app: str | None,
    app_table: str | None,
    dialect: str | None,
    output_format: str,
    output: str | None,
    debug: bool,
) -> None:
    """Write a reviewable SQL script fixing the selected findings in the app database.

    One guarded UPDATE per account, each changing its row only while it still holds
    the values the check observed, in one transaction, with the findings as
    comments; findings that cannot be fixed in the app are listed with what to do.
    Without --fingerprint or --review it takes the review queue (open findings no
    decision covers). unpaid_but_active is revoked only when picked explicitly.
    """

    def body() -> int:
        with loading():
            from billdrift.config import load_config
            from billdrift.history import default_location
            from billdrift.infra.files import write_file
            from billdrift.usecases import fix as usecase
            from billdrift.usecases.fix.select import kinds_of
        config = load_config(config_file(config_path))
        selection = usecase.Selection(tuple(fingerprints), kinds_of(kinds), tuple(review))
        made = usecase.plan(
            config,
            selection,
            history=history or config.history.location or default_location(),
            report=report,
            app=app,
            app_table=app_table,
            dialect=dialect,
        )
        if output_format == "json":
            text = json.dumps(made.as_dict(), indent=2, sort_keys=True) + "\n"
        else:
            text = usecase.render_sql(made)
        if output:
            write_file(output, text.encode("utf-8"))
        else:
            click.echo(text, nl=False)
        fixes = sum(len(s.findings) for s in made.statements)
        where = f"; written to {output}" if output else ""
        click.echo(
            f"billdrift fix plan: {len(made.statements)} statement(s) fixing {fixes} "
            f"finding(s); {len(made.not_fixable)} not fixable in the app{where}",
            err=True,
        )
        if made.statements and output and output_format == "sql":
            click.echo(f"Review it, then: billdrift fix apply {output} --app-url URL", err=True)
        return 0

    run_command(body, debug)


@fix.command("apply")
@click.argument("plan_file", metavar="PLAN.sql", type=click.Path(dir_okay=False))
@click.option(
    "--app-url",
    "app_url",
    metavar="URL",
    envvar="BILLDRIFT_FIX_APP_URL",
    help="Write-enabled app database (URL, env:NAME or SQLite file) [$BILLDRIFT_FIX_APP_URL]; "
    "never taken from the config.",
)
@click.option("--yes", "yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--history", "history", metavar="LOC", help=_HISTORY_HELP)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--by", "by", metavar="NAME", help="Who applies [$BILLDRIFT_USER, else login name].")
@click.option(
    "--statement-timeout",
    "statement_seconds",
    default=STATEMENT_SECONDS,
    show_default=True,
    type=click.FloatRange(min=0.001, max=86400),
    metavar="SECONDS",
    help="Longest one statement may run or wait for a locked row; past it, everything "
    "is rolled back (exit 2).",
)
@click.option("--debug", is_flag=True, help="Show a traceback with errors.")
def apply_command(
    plan_file: str,
    app_url: str | None,
    yes: bool,
    history: str | None,
    config_path: str | None,
    by: str | None,
    statement_seconds: float,
    debug: bool,
) -> None:
    """Apply a plan written by `fix plan`, in one transaction, after a confirmation.

    Refuses a script edited after it was written. Rolls everything back and exits
    2 when a row no longer holds the values the check observed; statements whose
    row already holds the fix count as done, so applying twice changes nothing.
    Records what it did in the history store.
    """

    def body() -> int:
        with loading():
            from billdrift.config import load_config
            from billdrift.history import default_location
            from billdrift.history.review import current_user
            from billdrift.usecases import fix as usecase
            from billdrift.usecases.fix.apply import apply
        loaded = usecase.load_plan(Path(plan_file))
        config = load_config(config_file(config_path))
        location = history or config.history.location or default_location()
        done = apply(
            loaded,
            app_url or "",
            confirm=_confirm(yes),
            history=location,
            who=by or current_user(),
            statement_seconds=statement_seconds,
        )
        _report(done)
        return done.exit_code

    run_command(body, debug)


apply_command.name = "apply"


def _confirm(yes: bool) -> Callable[[FixPlan], bool]:
    def ask(made: FixPlan) -> bool:
        table = ".".join(made.table)
        click.echo(f"billdrift fix apply: {len(made.statements)} UPDATE(s) of {table}:", err=True)
        for number, statement in enumerate(made.statements, 1):
            changes = ", ".join(
                f"{c.column} {json.dumps(c.before)} -> {json.dumps(c.after)}"
                for c in statement.changes
            )
            click.echo(
                f"  [{number}] account {json.dumps(statement.account_id)}: {changes}", err=True
            )
        if yes:
            return True
        try:
            return click.confirm("Apply these changes?", default=False, err=True)
        except click.Abort:
            return False

    return ask


def _report(done: Applied) -> None:
    for result in done.results:
        rows = result.rows if done.outcome == "applied" else 0
        click.echo(
            f"  [{result.number}] account {json.dumps(result.statement.account_id)}: "
            f"{_STATES[result.state]} ({rows} row(s) changed)",
            err=True,
        )
    messages = {
        "applied": f"applied to {done.app}: {done.rows_changed} row(s) changed, committed",
        "nothing_to_do": f"nothing to do on {done.app}: every row already holds its fix",
        "refused": (
            f"REFUSED on {done.app}: the data changed since the check; everything was rolled "
            "back. Run check again and make a new plan"
        ),
        "declined": "not confirmed: nothing was changed (--yes applies without asking)",
    }
    click.echo(f"billdrift fix apply: {messages[done.outcome]}", err=True)
    if done.record_id is not None:
        click.echo(f"recorded in the history store (fix application {done.record_id})", err=True)
    if done.history_error:
        click.echo(f"billdrift: error: could not record it: {done.history_error}", err=True)
