"""`billdrift schedule github|cron`: write or print how to run the check on a schedule."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from billdrift.cli.choices import DEFAULT_ACTION_REF
from billdrift.cli.exits import run_command
from billdrift.cli.options import config_option, required_config_file
from billdrift.errors import BilldriftError
from billdrift.infra.runtime import loading


@click.group()
def schedule() -> None:
    """Run the check on a schedule: a GitHub Actions workflow or a crontab line."""


#: What --cron takes (usecases/schedule/cron.py checks it).
_CRON_FORMS = "five fields (names, ranges, lists and steps) or @hourly, @daily, @weekly, ..."


def _at(moment: datetime) -> str:
    return moment.strftime("%a %Y-%m-%d %H:%M %Z").strip()


@schedule.command()
@click.option(
    "--cron",
    "cron",
    default="0 6 * * *",
    show_default=True,
    metavar="EXPR",
    help=f"When, in UTC (GitHub Actions reads cron in UTC): {_CRON_FORMS}",
)
@config_option
@click.option(
    "--output",
    default=".github/workflows/billdrift.yml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Workflow file to write.",
)
@click.option("--secret", "extra", multiple=True, metavar="NAME", help="Another secret to pass.")
@click.option("--force", is_flag=True, help="Overwrite an existing workflow.")
@click.option(
    "--action-ref",
    "action_ref",
    default=DEFAULT_ACTION_REF,
    show_default=True,
    metavar="OWNER/REPO@REF",
    help="The billdrift action the workflow uses (a fork, a commit SHA, or ./path).",
)
def github(
    cron: str,
    config_path: str | None,
    output: str,
    extra: tuple[str, ...],
    force: bool,
    action_ref: str,
) -> None:
    """Write a GitHub Actions workflow that runs the check on a cron through billdrift's
    action: reports kept as artifacts, the markdown in the job summary, history and the
    Stripe snapshot kept between runs."""

    def body() -> int:
        with loading():  # here: --help and argument errors load none of it (issue 17)
            from billdrift.config import load_config
            from billdrift.usecases.schedule.cron import parse_cron
            from billdrift.usecases.schedule.github import config_inputs, warnings_for, workflow
            from billdrift.usecases.schedule.secrets import secrets_for
        when = parse_cron(cron)
        found = required_config_file(config_path)
        config = load_config(found)
        inputs = config_inputs(config)
        local = tuple(_relative(path) for path in inputs.local_files)
        warnings = warnings_for(dataclasses.replace(inputs, local_files=local))
        secrets = list(dict.fromkeys([*secrets_for(config), *extra]))
        text = workflow(when.five_fields, _relative(str(found)), secrets, action_ref, warnings)
        target = Path(output)
        if target.exists() and not force:
            raise BilldriftError(f"{output} already exists; pass --force to overwrite it")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        spelled = f", written {when.five_fields!r}" if when.five_fields != when.expression else ""
        click.echo(
            f"wrote {output}: runs {action_ref} at cron {when.expression!r}{spelled}, which "
            "GitHub Actions reads in UTC; next run "
            f"{_at(when.next_run(datetime.now(UTC)))} (scheduled runs may start late)"
        )
        click.echo(f"secrets it reads: {', '.join(secrets) or 'none'}")
        for warning in warnings:
            click.echo(f"billdrift: warning: {warning}", err=True)
        return 0

    run_command(body)


def _relative(path: str) -> str:
    """`path` relative to the working directory (the repository's root, where the
    workflow's job starts) when it is inside it; as given otherwise."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path


@schedule.command()
@click.option(
    "--cron",
    "cron",
    default="0 6 * * *",
    show_default=True,
    metavar="EXPR",
    help=f"When, in this machine's local time (as cron reads it): {_CRON_FORMS}",
)
@config_option
def cron(cron: str, config_path: str | None) -> None:
    """Print a crontab line (add it with `crontab -e`); flock keeps runs from overlapping."""

    def body() -> int:
        with loading():
            from billdrift.config import load_config
            from billdrift.usecases.schedule.cron import crontab_line, parse_cron
        when = parse_cron(cron)
        config = str(required_config_file(config_path))
        load_config(config)  # a line that would fail every night is no use
        executable = shutil.which("billdrift") or str(Path(sys.executable).parent / "billdrift")
        click.echo(crontab_line(when.expression, executable, config, Path.cwd()))
        local = datetime.now().astimezone()
        click.echo(
            f"billdrift: cron reads {when.expression!r} in this machine's local time "
            f"({local.strftime('%Z, UTC%z')}); next run {_at(when.next_run(local))}",
            err=True,
        )
        return 0

    run_command(body)
