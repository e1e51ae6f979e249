"""`billdrift schedule github|cron`: write or print how to run the check on a schedule."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_option, required_config_file
from billdrift.config import load_config
from billdrift.errors import BilldriftError
from billdrift.usecases.schedule.cron import crontab_line
from billdrift.usecases.schedule.every import check_cron
from billdrift.usecases.schedule.github import workflow
from billdrift.usecases.schedule.secrets import secrets_for


@click.group()
def schedule() -> None:
    """Run the check on a schedule: a GitHub Actions workflow or a crontab line."""


@schedule.command()
@click.option("--cron", "cron", default="0 6 * * *", show_default=True, help="When (UTC).")
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
def github(
    cron: str, config_path: str | None, output: str, extra: tuple[str, ...], force: bool
) -> None:
    """Write a GitHub Actions workflow that runs the check on a cron, keeps the
    history store between runs, and puts the markdown report in the job summary."""

    def body() -> int:
        config = str(required_config_file(config_path))
        text = workflow(
            check_cron(cron),
            config,
            list(dict.fromkeys([*secrets_for(load_config(config)), *extra])),
        )
        target = Path(output)
        if target.exists() and not force:
            raise BilldriftError(f"{output} already exists; pass --force to overwrite it")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}: runs `billdrift check` at cron {cron!r} (UTC)")
        return 0

    run_command(body)


@schedule.command()
@click.option("--cron", "cron", default="0 6 * * *", show_default=True, help="When (local).")
@config_option
def cron(cron: str, config_path: str | None) -> None:
    """Print a crontab line (add it with `crontab -e`); flock keeps runs from overlapping."""

    def body() -> int:
        expression = check_cron(cron)
        config = str(required_config_file(config_path))
        load_config(config)  # a line that would fail every night is no use
        executable = shutil.which("billdrift") or str(Path(sys.executable).parent / "billdrift")
        click.echo(crontab_line(expression, executable, config, Path.cwd()))
        return 0

    run_command(body)
