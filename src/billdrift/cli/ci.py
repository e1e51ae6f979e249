"""`billdrift ci github-summary|restore-state`: the GitHub Action's steps that are more
than a command line (action.yml runs them; see :mod:`billdrift.usecases.ci`).

They read what GitHub Actions sets (``GITHUB_OUTPUT``, ``GITHUB_STEP_SUMMARY``,
``GITHUB_REPOSITORY``, ``GITHUB_API_URL``, the event payload) and the token from
``GITHUB_TOKEN`` in the environment, never from the command line (a process listing
shows arguments). Neither changes the job's verdict: a comment or a state restore that
fails is a warning annotation, and the action's last step exits with the check's code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from billdrift.cli.exits import run_command
from billdrift.errors import BilldriftError
from billdrift.usecases.ci.report_facts import (
    REPORT_FILES,
    append_summary,
    read_facts,
    summary_markdown,
    write_outputs,
)

if TYPE_CHECKING:  # loaded only by the steps that call the API
    from billdrift.usecases.ci.github_api import GitHubApi

_DEFAULT_API = "https://api.github.com"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _warn(message: str) -> None:
    """A warning annotation on the run (GitHub reads ``::warning::`` lines from stdout)."""
    click.echo(f"::warning title=billdrift::{message}")


def _api() -> GitHubApi:
    """A client for this run's repository, with the token the action was given."""
    from billdrift.usecases.ci.github_api import GitHubApi

    repository = _env("GITHUB_REPOSITORY")
    if repository is None:
        raise BilldriftError("GITHUB_REPOSITORY is not set: not running in GitHub Actions?")
    return GitHubApi(_env("GITHUB_API_URL") or _DEFAULT_API, repository, _env("GITHUB_TOKEN") or "")


@click.group()
def ci() -> None:
    """Steps of the GitHub Action (action.yml) that are more than one command."""


@ci.command("github-summary")
@click.option(
    "--report-dir",
    "report_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the check wrote billdrift-report.{json,md,html}.",
)
@click.option("--exit-code", "exit_code", required=True, type=int, help="The check's exit code.")
@click.option("--artifact", default="billdrift-report", show_default=True, help="Report artifact.")
@click.option(
    "--comment-on-pr",
    "comment_on_pr",
    is_flag=True,
    help="Keep one comment with the report on the pull request (edited, not repeated).",
)
def github_summary(report_dir: Path, exit_code: int, artifact: str, comment_on_pr: bool) -> None:
    """Write the report's facts to $GITHUB_OUTPUT, the markdown to $GITHUB_STEP_SUMMARY
    and, with --comment-on-pr on a pull request, to its billdrift comment."""

    def body() -> int:
        facts = read_facts(report_dir / REPORT_FILES["json"], exit_code)
        outputs = facts.outputs() | {
            "report-dir": str(report_dir.resolve()),
            **{
                f"report-{kind}": str((report_dir / REPORT_FILES[kind]).resolve())
                for kind in ("json", "markdown", "html")
            },
        }
        target = _env("GITHUB_OUTPUT")
        if target is not None:
            write_outputs(Path(target), outputs)
        else:
            click.echo("\n".join(f"{name}={value}" for name, value in outputs.items()))
        markdown = summary_markdown(report_dir, facts, artifact)
        summary = _env("GITHUB_STEP_SUMMARY")
        if summary is not None:
            append_summary(Path(summary), markdown)
        if comment_on_pr:
            _comment(markdown)
        return 0

    run_command(body)


def _run_url() -> str | None:
    server, repository, run = (
        _env("GITHUB_SERVER_URL"),
        _env("GITHUB_REPOSITORY"),
        _env("GITHUB_RUN_ID"),
    )
    return f"{server}/{repository}/actions/runs/{run}" if server and repository and run else None


def _comment(markdown: str) -> None:
    from billdrift.usecases.ci.pr_comment import comment_body, pull_request_number, upsert_comment

    event_path = _env("GITHUB_EVENT_PATH")
    number = pull_request_number(
        _env("GITHUB_EVENT_NAME") or "", Path(event_path) if event_path else None
    )
    if number is None:
        click.echo("billdrift: not a pull request run: no comment to keep", err=True)
        return
    try:
        with _api() as api:
            posted = upsert_comment(api, number, comment_body(markdown, _run_url()))
    except BilldriftError as error:
        _warn(f"could not comment on pull request #{number}: {error}")
        return
    click.echo(f"billdrift: {posted.action} the comment on #{number}: {posted.url}", err=True)


@ci.command("restore-state")
@click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Unpack the state (history store, Stripe snapshot) here.",
)
@click.option("--artifact", default="billdrift-state", show_default=True, help="State artifact.")
@click.option("--branch", help="Only artifacts of this branch [the run's branch].")
def restore_state(directory: Path, artifact: str, branch: str | None) -> None:
    """Restore the newest state artifact of the branch (when the cache had none)."""
    from billdrift.usecases.ci.state import restore_state as restore

    def body() -> int:
        wanted = branch or _env("GITHUB_HEAD_REF") or _env("GITHUB_REF_NAME")
        try:
            with _api() as api:
                restored = restore(api, artifact, wanted, directory)
        except BilldriftError as error:
            _warn(
                f"could not restore the previous state ({error}); this run starts a new "
                "history, so every finding counts as new"
            )
            return 0
        if restored is None:
            click.echo(f"billdrift: no {artifact} artifact on {wanted}: a first run", err=True)
        else:
            click.echo(
                f"billdrift: restored {restored.files} files from artifact {artifact} "
                f"(run {restored.run_id}, {restored.created_at})",
                err=True,
            )
        return 0

    run_command(body)
