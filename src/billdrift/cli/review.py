"""``billdrift review``: the review queue and its decisions.

Click commands only: the work is :mod:`billdrift.usecases.review`, the text and
JSON are :mod:`billdrift.outputs.review`. Exit codes follow the CLI's contract: 0
done, 2 any error (unknown or ambiguous fingerprint, locked or missing store, a
config file the exception cannot be appended to).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from billdrift.cli.choices import (
    KINDS,
    QUEUE_DEFAULT_LIMIT,
    QUEUE_LIFECYCLES,
    QUEUE_REVIEW_STATES,
    QUEUE_SORTS,
)
from billdrift.cli.exits import run_command
from billdrift.cli.options import CONFIG_HELP, required_config_file
from billdrift.errors import BilldriftError
from billdrift.infra.runtime import loading

if TYPE_CHECKING:
    from billdrift.history.queue import QueueQuery
    from billdrift.history.store import FindingState

# What the commands run (the history store, its queue and the wording) is imported in
# the functions running them: --help and argument errors load none of it (issue 17).

F = TypeVar("F", bound=Callable[..., Any])

_META_KEY: Final = "billdrift.history.location"
_HISTORY_HELP: Final = (
    "History store: a SQLite file, postgresql:// URL or env:NAME "
    "[$BILLDRIFT_HISTORY, else .billdrift/history.sqlite]."
)


def _location(given: str | None) -> str:
    """This command's --history, else the group's, else the default."""
    if given:
        return given
    ctx = click.get_current_context(silent=True)
    from_group = ctx.meta.get(_META_KEY) if ctx is not None else None
    if from_group:
        return str(from_group)
    from billdrift.history import default_location

    return default_location()


def _width() -> int:
    """Columns to wrap text to: $COLUMNS, else the terminal's, else 100 (a pipe, a file)."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    if sys.stdout.isatty():
        try:
            return os.get_terminal_size(sys.stdout.fileno()).columns
        except (OSError, ValueError):
            pass
    from billdrift.outputs.review import DEFAULT_WIDTH

    return DEFAULT_WIDTH


def _json(document: dict[str, Any]) -> None:
    import orjson

    click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8"))


def _future(text: str) -> datetime:
    from billdrift.history.review import parse_until

    moment = parse_until(text)
    if moment <= datetime.now(UTC):
        raise BilldriftError(f"--until {text} is not in the future")
    return moment


def _short(fingerprint: str) -> str:
    from billdrift.history.fingerprint import short

    return short(fingerprint)


def _who(state: FindingState) -> str:
    from billdrift.outputs.review import who

    return who(state)


def _when(moment: datetime | None) -> str:
    from billdrift.outputs.review import when

    return when(moment)


def _many(name: str, dest: str, values: tuple[str, ...], help_text: str) -> Callable[[F], F]:
    return click.option(
        name,
        dest,
        type=click.Choice(values),
        multiple=True,
        help=help_text + " Repeat for several.",
    )


def _query(options: dict[str, Any]) -> QueueQuery:
    """The queue query the listing options ask for; usage errors exit 2."""
    limit: int = options["limit"]
    page: int | None = options["page"]
    offset: int | None = options["offset"]
    if page is not None and offset is not None:
        raise click.UsageError("give --page or --offset, not both")
    if page is not None and limit == 0:
        raise click.UsageError("--page needs a --limit (the page size), not 0")
    start = (page - 1) * limit if page is not None else offset or 0
    from billdrift.history.queue import QueueQuery

    return QueueQuery(
        kinds=options["kinds"],
        severities=options["severities"],
        lifecycles=options["lifecycles"],
        review_states=options["states"],
        include_decided=options["show_all"],
        currencies=tuple(c.upper() for c in options["currencies"]),
        text=options["search"] or "",
        sort=options["sort"],
        limit=limit or None,
        offset=start,
    )


@click.group("review", invoke_without_command=True)
@click.option("--history", "history", metavar="LOC", help=_HISTORY_HELP)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format of the queue.",
)
@click.option("--all", "show_all", is_flag=True, help="Also list findings a decision covers.")
@_many("--kind", "kinds", KINDS, "Only findings of this kind.")
@_many("--severity", "severities", ("high", "medium", "low"), "Only this severity.")
@_many(
    "--lifecycle",
    "lifecycles",
    QUEUE_LIFECYCLES,
    "Only findings the latest run saw so (resolved: gone) [new, ongoing, reopened].",
)
@_many(
    "--state",
    "states",
    QUEUE_REVIEW_STATES,
    "Only this review state (noted: has a note) [undecided; with --all, any].",
)
@click.option(
    "--currency", "currencies", multiple=True, metavar="CODE", help="Only money in CODE (USD)."
)
@click.option(
    "--search",
    "search",
    metavar="TEXT",
    help="Only findings whose account, customer or subscription id, message or "
    "fingerprint holds TEXT (any case).",
)
@click.option(
    "--sort",
    "sort",
    type=click.Choice(QUEUE_SORTS),
    default="severity",
    show_default=True,
    help="Order: severity (urgent first, then money), money, first_seen (oldest) "
    "or account (ids in natural order).",
)
@click.option(
    "--limit",
    "limit",
    type=click.IntRange(min=0),
    default=QUEUE_DEFAULT_LIMIT,
    show_default=True,
    help="Findings per page; 0 lists every matching finding.",
)
@click.option("--page", "page", type=click.IntRange(min=1), help="Page to show (from 1).")
@click.option(
    "--offset", "offset", type=click.IntRange(min=0), help="Findings to skip instead of --page."
)
@click.pass_context
def review(ctx: click.Context, /, history: str | None, output_format: str, **options: Any) -> None:
    """List open findings that need a person, most urgent first, a page at a time.

    Urgent ones (paid_but_blocked) come first, then by severity and money at
    stake. Acknowledged, snoozed and expected findings leave the queue until the
    snooze ends or the finding resolves and comes back. Filters narrow the list;
    the last line says how many more match. Subcommands record decisions;
    fingerprints may be given as a unique prefix.
    """
    ctx.meta[_META_KEY] = history
    if ctx.invoked_subcommand is not None:
        return
    query = _query(options)

    def body() -> int:
        with loading():
            from billdrift.history import default_location
            from billdrift.outputs.review import queue_json, queue_text
            from billdrift.usecases import review as usecase
        location = history or default_location()
        found = usecase.queue(location, query)
        if output_format == "json":
            _json(queue_json(found))
        else:
            click.echo(queue_text(found, location, options["show_all"], _width()))
        return 0

    run_command(body)


def _history_option(func: F) -> F:
    return click.option("--history", "history", metavar="LOC", help=_HISTORY_HELP)(func)


def _by_option(func: F) -> F:
    return click.option(
        "--by", "by", metavar="NAME", help="Who decides [$BILLDRIFT_USER, else login name]."
    )(func)


def _decide(
    history: str | None,
    prefix: str,
    action: str,
    note: str,
    by: str | None,
    until: str | None,
    done: Callable[[FindingState, datetime | None], str],
) -> None:
    def body() -> int:
        with loading():
            from billdrift.usecases import review as usecase
        moment = _future(until) if until else None
        state = usecase.decide(_location(history), prefix, action, note, by, moment)
        click.echo(done(state, moment))
        return 0

    run_command(body)


@review.command("ack")
@click.argument("fingerprint")
@click.option("--note", "note", default="", help="What you found or are doing.")
@_history_option
@_by_option
def ack(fingerprint: str, note: str, history: str | None, by: str | None) -> None:
    """Acknowledge a finding: seen and being handled; it leaves the queue.

    It returns if it resolves and later comes back."""
    _decide(
        history,
        fingerprint,
        "acknowledged",
        note,
        by,
        None,
        lambda s, _: f"acknowledged {_short(s.fingerprint)} ({s.kind.value}, {_who(s)})",
    )


@review.command("snooze")
@click.argument("fingerprint")
@click.option("--until", "until", required=True, metavar="DATE", help="Snooze until this date.")
@click.option("--note", "note", required=True, help="Why it can wait.")
@_history_option
@_by_option
def snooze(fingerprint: str, until: str, note: str, history: str | None, by: str | None) -> None:
    """Snooze a finding until a date; if it is still there then, it is back in the queue."""
    _decide(
        history,
        fingerprint,
        "snoozed",
        note,
        by,
        until,
        lambda s, moment: (
            f"snoozed {_short(s.fingerprint)} ({s.kind.value}, {_who(s)}) until "
            f"{_when(moment)}; back in the queue then if still present"
        ),
    )


@review.command("note")
@click.argument("fingerprint")
@click.option("--note", "note", required=True, help="The note.")
@_history_option
@_by_option
def note_command(fingerprint: str, note: str, history: str | None, by: str | None) -> None:
    """Add a note to a finding without deciding anything (it stays in the queue)."""
    _decide(
        history,
        fingerprint,
        "noted",
        note,
        by,
        None,
        lambda s, _: f"noted on {_short(s.fingerprint)} ({s.kind.value}, {_who(s)})",
    )


@review.command("expect")
@click.argument("fingerprint")
@click.option(
    "--reason", "reason", required=True, help='Why it is intended ("enterprise contract").'
)
@click.option("--until", "until", metavar="DATE", help="The exception expires then [never].")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="Config file to append the [[exceptions]] entry to: " + CONFIG_HELP,
)
@_history_option
@_by_option
def expect_command(
    fingerprint: str,
    reason: str,
    until: str | None,
    config_path: str | None,
    history: str | None,
    by: str | None,
) -> None:
    """Mark a finding as expected and add a config exception so runs stop reporting it.

    The [[exceptions]] entry (account or customer, kind, reason, expires) is
    appended to the config file; the rest of the file is left byte for byte.
    """

    def body() -> int:
        with loading():
            from billdrift.usecases import review as usecase
        moment = _future(until) if until else None
        config = required_config_file(config_path)
        state, exception = usecase.mark_expected(
            _location(history), fingerprint, reason, moment, config, by
        )
        target = (
            f"account {exception.account}"
            if exception.account is not None
            else f"customer {exception.customer}"
        )
        expires = f", expires {_when(moment)}" if moment else ""
        click.echo(
            f"expected {_short(state.fingerprint)} ({state.kind.value}, {_who(state)}); "
            f"added an exception for {target}{expires} to {config}"
        )
        return 0

    run_command(body)


@review.command("show")
@click.argument("fingerprint")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format of the timeline.",
)
@_history_option
def show(fingerprint: str, output_format: str, history: str | None) -> None:
    """Show one finding's timeline (what each run saw) and every review of it."""

    def body() -> int:
        with loading():
            from billdrift.outputs.review import timeline_json, timeline_text
            from billdrift.usecases import review as usecase
        found = usecase.timeline(_location(history), fingerprint)
        if output_format == "json":
            _json(timeline_json(found))
        else:
            click.echo(timeline_text(found, _width()))
        return 0

    run_command(body)
