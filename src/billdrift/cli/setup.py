"""``billdrift init`` and ``billdrift doctor``: getting a set-up right before checking."""

from __future__ import annotations

from pathlib import Path

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_option
from billdrift.errors import ConfigError
from billdrift.infra.runtime import loading


@click.command()
@click.option(
    "--app",
    "app",
    required=True,
    metavar="FILE_OR_URL",
    help="App accounts: CSV file, SQLite file, database URL or env:NAME.",
)
@click.option("--app-table", "app_table", metavar="NAME", help="Use this table (else detected).")
@click.option(
    "--billing", "billing", multiple=True, metavar="FILE", help="Billing export(s) to list."
)
@click.option(
    "--output",
    "output",
    default="billdrift.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Config file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite the config file if it exists.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def init(
    app: str,
    app_table: str | None,
    billing: tuple[str, ...],
    output: str,
    force: bool,
    debug: bool,
) -> None:
    """Inspect the app's data and write a config file to edit.

    Finds the accounts table and what each column means, says what it could
    not find, and writes every setting explicitly. Database passwords are
    never written: use env:NAME.
    """
    with loading():  # here, not at the top: --help and `check` must not pay for them
        from billdrift.cli.publish import write_new_file
        from billdrift.onboarding.init import plan_init
        from billdrift.onboarding.summary import init_summary

    def body() -> int:
        target = Path(output)
        if target.exists() and not force:
            raise ConfigError(f"{output} already exists; pass --force to overwrite it")
        result = plan_init(app, app_table, billing, target)
        write_new_file(target, result.text, force)
        click.echo(init_summary(result, output), nl=False)
        return 0

    run_command(body, debug)


@click.command()
@config_option
@click.option("--app", "app", metavar="FILE_OR_URL", help="App accounts (overrides app.source).")
@click.option("--app-table", "app_table", metavar="NAME", help="Table to read from a database.")
@click.option(
    "--billing", "billing", multiple=True, metavar="FILE", help="Billing export. Repeatable."
)
@click.option(
    "--format",
    "format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def doctor(
    config_path: str | None,
    app: str | None,
    app_table: str | None,
    billing: tuple[str, ...],
    format: str,
    debug: bool,
) -> None:
    """Check a set-up: config, environment, connectivity, tables, columns, rows, privileges.

    Every warning and failure comes with a fix. Exits 0 when all is ok, 1 on
    warnings only, 2 on any failure. Secrets are never shown.
    """
    with loading():
        from billdrift.onboarding.doctor import render as render_doctor
        from billdrift.onboarding.doctor import run_doctor

    def body() -> int:
        report = run_doctor(config_path, app, app_table, billing)
        click.echo(render_doctor(report, format), nl=False)
        return report.exit_code

    run_command(body, debug)
