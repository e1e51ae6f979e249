"""``billdrift history``: looking after the history store (``prune``).

Click only: the work is :mod:`billdrift.usecases.retention`, the text and JSON
:mod:`billdrift.outputs.retention`. Exit codes: 0 done, 2 any error (no policy to
prune by, a missing or locked store).
"""

from __future__ import annotations

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_file, config_option
from billdrift.infra.runtime import loading


@click.group("history")
def history() -> None:
    """Look after the run history store."""


@history.command("prune")
@click.option(
    "--history",
    "location",
    metavar="LOC",
    help="History store: a SQLite file, postgresql:// URL or env:NAME "
    "[[history] location, $BILLDRIFT_HISTORY, else .billdrift/history.sqlite].",
)
@config_option
@click.option(
    "--keep-runs-days",
    type=click.IntRange(1, 36500),
    metavar="N",
    help="Remove runs and timeline entries older than N days [history.retention].",
)
@click.option(
    "--keep-resolved-days",
    type=click.IntRange(1, 36500),
    metavar="N",
    help="Remove findings resolved more than N days ago, unless reviewed [history.retention].",
)
@click.option("--dry-run", is_flag=True, help="Say what would be removed; change nothing.")
@click.option("--no-compact", is_flag=True, help="Skip VACUUM (SQLite) after pruning.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def prune(
    location: str | None,
    config_path: str | None,
    keep_runs_days: int | None,
    keep_resolved_days: int | None,
    dry_run: bool,
    no_compact: bool,
    output_format: str,
) -> None:
    """Remove old runs and long-resolved findings by the retention policy, then compact.

    Every review (decision and note) is kept, with the finding it is about, and so is
    each finding's latest timeline entry. Options win over [history.retention].
    """

    def body() -> int:
        with loading():  # here: --help and argument errors load none of it (issue 17)
            import orjson

            from billdrift.config import load_config
            from billdrift.history import default_location
            from billdrift.history.retention import Policy
            from billdrift.outputs.retention import pruned_json, pruned_text
            from billdrift.usecases.retention import prune_history
        config = load_config(config_file(config_path))
        retention = config.history.retention
        policy = Policy(
            keep_runs_days if keep_runs_days is not None else retention.keep_runs_days,
            keep_resolved_days if keep_resolved_days is not None else retention.keep_resolved_days,
        )
        where = location or config.history.location or default_location()
        pruned = prune_history(
            where,
            policy,
            dry_run=dry_run,
            compact=retention.compact and not no_compact,
            timeout=config.history.timeout_seconds,
        )
        if output_format == "json":
            document = pruned_json(pruned, where)
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8"))
        else:
            click.echo(pruned_text(pruned, where))
        return 0

    run_command(body)
