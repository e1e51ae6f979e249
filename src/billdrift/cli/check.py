"""``billdrift check``, ``demo`` and ``watch``: their arguments and help.

What they run (the configuration, the engine, the report) is in
:mod:`billdrift.cli.check_run`, imported once click has parsed the arguments: ``--help``
and an argument error load no DuckDB, Arrow, configuration models or engine, which
would be most of a small check's start-up."""

from __future__ import annotations

from typing import Any

import click

from billdrift.cli.options import (
    ALERT_ON,
    config_option,
    output_options,
    rule_options,
    source_options,
)
from billdrift.infra.runtime import loading


@click.command()
@source_options
@config_option
@click.option("--as-of", "as_of", metavar="ISO8601", help="Evaluate at this instant [now].")
@rule_options
@click.option(
    "--history",
    "history",
    metavar="PATH_OR_URL",
    help="Record the run in this history store (SQLite file, postgresql:// URL or "
    "env:NAME) and tell new, ongoing, reopened and resolved findings apart.",
)
@click.option(
    "--alert-on", "alert_on", type=ALERT_ON, help="What the configured alert sinks are sent [new]."
)
@click.option(
    "--also-output",
    "also_output",
    multiple=True,
    metavar="FORMAT=FILE",
    help="Also write the same report in FORMAT to FILE (one run, several documents). Repeatable.",
)
@click.option(
    "--engine",
    "engine",
    type=click.Choice(
        ["in-process", "postgres", "spark", "snowflake", "bigquery", "redshift", "databricks"]
    ),
    help="Where the rules run: in-process, inside the PostgreSQL database holding the "
    "app's tables and a Stripe mirror, on Spark over Parquet/CSV/catalog tables, or on a "
    "warehouse ([engine.warehouse]; untested here) (findings only come back) [in-process].",
)
@click.option(
    "--explain",
    "explain",
    is_flag=True,
    help="With --engine: print the SQL that would run, per stage, and exit 0 without running it.",
)
@output_options
def check(
    config_path: str | None,
    as_of: str | None,
    strict: bool,
    debug: bool,
    also_output: tuple[str, ...],
    engine: str | None,
    explain: bool,
    **flags: Any,
) -> None:
    """Compare billing data with app access and report drift."""
    with loading():
        from billdrift.cli.check_run import run_check_command

    run_check_command(config_path, as_of, strict, debug, also_output, engine, explain, flags)


@click.command()
@output_options
def demo(debug: bool, **flags: Any) -> None:
    """Run a check on bundled sample data (no credentials, no network).

    The sample shows every kind of finding. Exits 0 once the report is shown;
    a real `check` on the same data would exit 1.
    """
    with loading():
        from billdrift.cli.check_run import run_demo

    run_demo(debug, flags)


@click.command()
@click.option(
    "--every", "every", required=True, metavar="DURATION", help="How often: 30s, 15m, 1h, 1d..."
)
@source_options
@config_option
@rule_options
@click.option(
    "--history",
    "history",
    metavar="PATH_OR_URL",
    help="Record each run in this history store (SQLite file, postgresql:// URL or env:NAME).",
)
@click.option(
    "--alert-on", "alert_on", type=ALERT_ON, help="What the configured alert sinks are sent [new]."
)
@click.option(
    "--max-runs", "max_runs", type=click.IntRange(min=1), help="Stop after N runs [never]."
)
@output_options
def watch(
    every: str,
    config_path: str | None,
    max_runs: int | None,
    strict: bool,
    debug: bool,
    **flags: Any,
) -> None:
    """Run the check now and then every DURATION, in the foreground, until stopped
    (or --max-runs runs).

    Runs never overlap; SIGTERM or Ctrl-C lets a run in progress finish and be
    recorded, then exits 0. Each run's outcome goes to stderr.
    """
    with loading():
        from billdrift.cli.check_run import run_watch

    run_watch(every, config_path, max_runs, strict, debug, flags)
