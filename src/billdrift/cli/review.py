"""``billdrift review``: the review queue and its decisions, as a click command group.

Registered by the CLI with one line (``main.add_command(review)``); defined here so
the history package owns its commands. Exit codes follow the CLI's contract: 0
done, 2 any error (unknown or ambiguous fingerprint, locked or missing store, a
config file the exception cannot be appended to). Nothing here reads billing or
app data: it works on the history alone, so it is quick and needs no secrets
beyond the history store's URL.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click
import orjson

from billdrift.errors import EXIT_ERROR, BilldriftError
from billdrift.history import default_location, open_store
from billdrift.history.fingerprint import short
from billdrift.history.review import (
    QueueItem,
    current_user,
    expect,
    notes_text,
    parse_until,
    record_decision,
    resolve_fingerprint,
    review_queue,
)
from billdrift.history.store import FindingState, HistoryStore, Observation, Review

#: Review commands wait less than a run for the write lock: a person is waiting.
REVIEW_LOCK_TIMEOUT: Final = 10.0
_META_KEY: Final = "billdrift.history.location"
_HISTORY_HELP: Final = (
    "History store: a SQLite file, postgresql:// URL or env:NAME "
    "[$BILLDRIFT_HISTORY, else .billdrift/history.sqlite]."
)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "Z" if value else "-"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def _location(given: str | None) -> str:
    """This command's --history, else the group's, else the default."""
    if given:
        return given
    ctx = click.get_current_context(silent=True)
    from_group = ctx.meta.get(_META_KEY) if ctx is not None else None
    return str(from_group) if from_group else default_location()


def _open(location: str) -> HistoryStore:
    return open_store(location, create=False, lock_timeout=REVIEW_LOCK_TIMEOUT)


def _run(action: Callable[[], None]) -> None:
    """Run a command body; a BilldriftError becomes its message and exit code 2."""
    try:
        action()
    except BilldriftError as error:
        click.echo(f"billdrift: error: {error}", err=True)
        sys.exit(EXIT_ERROR)


def _who(finding: FindingState) -> str:
    parts = []
    if finding.account_id is not None:
        parts.append(f"account {finding.account_id}")
    if finding.customer_id is not None:
        parts.append(f"customer {finding.customer_id}")
    if finding.subscription_id is not None:
        parts.append(f"subscription {finding.subscription_id}")
    return ", ".join(parts) or "(no ids)"


def _review_json(review: Review) -> dict[str, Any]:
    return {
        "action": review.action,
        "note": review.note,
        "until": _iso(review.until),
        "who": review.who,
        "at": _iso(review.at),
    }


def _reopened(state: FindingState) -> str:
    count = state.times_reopened
    return f"; reopened {count} time{'s' if count != 1 else ''}" if count else ""


def _item_json(item: QueueItem) -> dict[str, Any]:
    state = item.state
    return {
        "fingerprint": state.fingerprint,
        "short": short(state.fingerprint),
        "urgent": item.urgent,
        "kind": state.kind.value,
        "severity": state.severity.label,
        "confidence": state.confidence,
        "exposure": (
            {"monthly_amount": state.exposure.monthly_amount, "currency": state.exposure.currency}
            if state.exposure
            else None
        ),
        "account_id": state.account_id,
        "customer_id": state.customer_id,
        "subscription_id": state.subscription_id,
        "status": state.last_change,
        "first_seen_at": _iso(state.first_seen_at),
        "first_seen_run": state.first_seen_run,
        "last_seen_at": _iso(state.last_seen_at),
        "last_seen_run": state.last_seen_run,
        "times_reopened": state.times_reopened,
        "message": state.message,
        "fix": state.fix,
        "decision": _review_json(item.decision) if item.decision else None,
        "reviews": [_review_json(review) for review in item.reviews],
    }


def _item_text(number: int, item: QueueItem) -> list[str]:
    state = item.state
    money = (
        f"  {state.exposure.currency} {state.exposure.monthly_amount}/mo" if state.exposure else ""
    )
    urgent = "URGENT " if item.urgent else ""
    reopened = _reopened(state)
    lines = [
        f"{number:>3}. {short(state.fingerprint)}  {urgent}{state.kind.value}  "
        f"{state.severity.label}{money}  [{state.last_change}]",
        f"     {_who(state)}",
        f"     first seen {_when(state.first_seen_at)} (run {state.first_seen_run}), "
        f"last seen {_when(state.last_seen_at)} (run {state.last_seen_run}){reopened}",
        f"     {state.message}",
    ]
    if item.decision is not None:
        lines.append(f"     decision: {notes_text([item.decision])[0]}")
    notes = notes_text(item.notes)
    if notes:
        lines.append("     notes:")
        lines.extend(f"       {line}" for line in notes)
    return lines


def _list(location: str, output_format: str, show_all: bool) -> None:
    with _open(location) as store:
        now = datetime.now(UTC)
        items = review_queue(store, now, include_decided=show_all)
        last = store.last_run()
        if output_format == "json":
            document = {
                "history": store.shown,
                "generated_at": _iso(now),
                "last_run": (
                    {
                        "run_id": last.run_id,
                        "finished_at": _iso(last.finished_at),
                        "verdict": last.verdict.value,
                    }
                    if last
                    else None
                ),
                "items": [_item_json(item) for item in items],
            }
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8"))
            return
        open_count = len(store.open_findings())
    ran = (
        f"; last run {last.run_id} at {_when(last.finished_at)}: {last.verdict.value}"
        if last
        else ""
    )
    if not items:
        covered = open_count - len(items)
        extra = (
            f" ({covered} open finding{'s are' if covered != 1 else ' is'} covered by a "
            "decision; --all lists them)"
            if covered
            else ""
        )
        click.echo(f"billdrift review: nothing needs a person{extra} (history: {location}{ran})")
        return
    noun = "finding needs" if len(items) == 1 else "findings need"
    header = "open findings" if show_all else f"{noun} a person"
    click.echo(f"billdrift review: {len(items)} {header} (history: {location}{ran})\n")
    for number, item in enumerate(items, 1):
        click.echo("\n".join(_item_text(number, item)))
    click.echo(
        "\nDecide with: billdrift review ack|snooze|expect FINGERPRINT "
        "(a unique prefix will do); notes with: billdrift review note FINGERPRINT --note TEXT"
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
@click.pass_context
def review(ctx: click.Context, history: str | None, output_format: str, show_all: bool) -> None:
    """List open findings that need a person, most urgent first.

    Urgent ones (paid_but_blocked) come first, then by severity and money at
    stake. Acknowledged, snoozed and expected findings leave the queue until the
    snooze ends or the finding resolves and comes back. Subcommands record
    decisions; fingerprints may be given as a unique prefix.
    """
    ctx.meta[_META_KEY] = history
    if ctx.invoked_subcommand is None:
        _run(lambda: _list(history or default_location(), output_format, show_all))


def _history_option(func: Any) -> Any:
    return click.option("--history", "history", metavar="LOC", help=_HISTORY_HELP)(func)


def _by_option(func: Any) -> Any:
    return click.option(
        "--by", "by", metavar="NAME", help="Who decides [$BILLDRIFT_USER, else login name]."
    )(func)


def _decide(
    history: str | None,
    prefix: str,
    action: str,
    note: str,
    by: str | None,
    until: datetime | None,
    done: Callable[[FindingState], str],
) -> None:
    with _open(_location(history)) as store:
        state = resolve_fingerprint(store, prefix)
        record_decision(store, state, action, note, by or current_user(), datetime.now(UTC), until)
    click.echo(done(state))


@review.command("ack")
@click.argument("fingerprint")
@click.option("--note", "note", default="", help="What you found or are doing.")
@_history_option
@_by_option
def ack(fingerprint: str, note: str, history: str | None, by: str | None) -> None:
    """Acknowledge a finding: seen and being handled; it leaves the queue.

    It returns if it resolves and later comes back."""
    _run(
        lambda: _decide(
            history,
            fingerprint,
            "acknowledged",
            note,
            by,
            None,
            lambda s: f"acknowledged {short(s.fingerprint)} ({s.kind.value}, {_who(s)})",
        )
    )


@review.command("snooze")
@click.argument("fingerprint")
@click.option("--until", "until", required=True, metavar="DATE", help="Snooze until this date.")
@click.option("--note", "note", required=True, help="Why it can wait.")
@_history_option
@_by_option
def snooze(fingerprint: str, until: str, note: str, history: str | None, by: str | None) -> None:
    """Snooze a finding until a date; if it is still there then, it is back in the queue."""

    def body() -> None:
        when = parse_until(until)
        if when <= datetime.now(UTC):
            raise BilldriftError(f"--until {until} is not in the future")
        _decide(
            history,
            fingerprint,
            "snoozed",
            note,
            by,
            when,
            lambda s: (
                f"snoozed {short(s.fingerprint)} ({s.kind.value}, {_who(s)}) until "
                f"{_when(when)}; back in the queue then if still present"
            ),
        )

    _run(body)


@review.command("note")
@click.argument("fingerprint")
@click.option("--note", "note", required=True, help="The note.")
@_history_option
@_by_option
def note_command(fingerprint: str, note: str, history: str | None, by: str | None) -> None:
    """Add a note to a finding without deciding anything (it stays in the queue)."""
    _run(
        lambda: _decide(
            history,
            fingerprint,
            "noted",
            note,
            by,
            None,
            lambda s: f"noted on {short(s.fingerprint)} ({s.kind.value}, {_who(s)})",
        )
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
    default="billdrift.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Config file to append the [[exceptions]] entry to.",
)
@_history_option
@_by_option
def expect_command(
    fingerprint: str,
    reason: str,
    until: str | None,
    config_path: str,
    history: str | None,
    by: str | None,
) -> None:
    """Mark a finding as expected and add a config exception so runs stop reporting it.

    The [[exceptions]] entry (account or customer, kind, reason, expires) is
    appended to the config file; the rest of the file is left byte for byte.
    """

    def body() -> None:
        when = parse_until(until) if until else None
        if when is not None and when <= datetime.now(UTC):
            raise BilldriftError(f"--until {until} is not in the future")
        with _open(_location(history)) as store:
            state = resolve_fingerprint(store, fingerprint)
            _review, exception = expect(
                store,
                state,
                reason,
                when,
                Path(config_path),
                by or current_user(),
                datetime.now(UTC),
            )
        target = (
            f"account {exception.account}"
            if exception.account is not None
            else f"customer {exception.customer}"
        )
        expires = f", expires {_when(when)}" if when else ""
        click.echo(
            f"expected {short(state.fingerprint)} ({state.kind.value}, {_who(state)}); "
            f"added an exception for {target}{expires} to {config_path}"
        )

    _run(body)


def _observation_text(observation: Observation) -> str:
    finding = observation.finding
    money = (
        f" {finding.exposure.currency} {finding.exposure.monthly_amount}/mo"
        if finding.exposure
        else ""
    )
    excused = f" (excused: {observation.suppressed_by})" if observation.suppressed_by else ""
    return (
        f"  run {observation.run_id} {_when(observation.observed_at)} "
        f"{finding.severity.label}{money}{excused}: {finding.message}"
    )


@review.command("show")
@click.argument("fingerprint")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@_history_option
def show(fingerprint: str, output_format: str, history: str | None) -> None:
    """Show one finding's timeline (what each run saw) and every review of it."""

    def body() -> None:
        with _open(_location(history)) as store:
            state = resolve_fingerprint(store, fingerprint)
            timeline = store.observations(state.fingerprint)
            reviews = store.reviews_for([state.fingerprint]).get(state.fingerprint, [])
        if output_format == "json":
            document = {
                "fingerprint": state.fingerprint,
                "kind": state.kind.value,
                "account_id": state.account_id,
                "customer_id": state.customer_id,
                "subscription_id": state.subscription_id,
                "status": state.status,
                "last_change": state.last_change,
                "first_seen_at": _iso(state.first_seen_at),
                "last_seen_at": _iso(state.last_seen_at),
                "resolved_at": _iso(state.resolved_at),
                "times_reopened": state.times_reopened,
                "timeline": [
                    {
                        "run_id": o.run_id,
                        "observed_at": _iso(o.observed_at),
                        "severity": o.finding.severity.label,
                        "message": o.finding.message,
                        "evidence": o.finding.evidence,
                        "suppressed_by": o.suppressed_by,
                    }
                    for o in timeline
                ],
                "reviews": [_review_json(r) for r in reviews],
            }
            click.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode("utf-8"))
            return
        resolved = f", resolved {_when(state.resolved_at)}" if state.resolved_at else ""
        lines = [
            f"{state.fingerprint}",
            f"{state.kind.value}: {_who(state)}",
            f"status {state.status} ({state.last_change}); first seen "
            f"{_when(state.first_seen_at)}, last seen {_when(state.last_seen_at)}{resolved}"
            f"{_reopened(state)}",
            "timeline:",
            *(_observation_text(o) for o in timeline),
        ]
        if reviews:
            lines += ["reviews:", *(f"  {line}" for line in notes_text(reviews))]
        click.echo("\n".join(lines))

    _run(body)
