"""The review queue and a finding's timeline as text and JSON.

Pure functions from the use cases' data (:mod:`billdrift.usecases.review`) to what
a person or a program reads; the CLI prints them, and other front-ends can serve
the same JSON shapes.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from billdrift.history.fingerprint import short
from billdrift.history.queue import QueuePage, QueueQuery
from billdrift.history.review import QueueItem, notes_text
from billdrift.history.store import FindingState, Observation, Review
from billdrift.history.views import Queue, Timeline

#: Text wraps to this width unless the front-end knows the terminal's.
DEFAULT_WIDTH: Final = 100
_INDENT = re.compile(r"^( *(?:\d+\. )?)")
#: Pairs of words a line must not be broken between: a date and its time, a currency
#: and its amount. Glued with a private-use character while wrapping.
_UNBROKEN = re.compile(r"\b(\d{4}-\d\d-\d\d) (\d\d:\d\dZ)|\b([A-Z]{3}) (\d[\d.,]*/mo)\b")
_GLUE = "\ue000"


def _glued(match: re.Match[str]) -> str:
    return _GLUE.join(part for part in match.groups() if part is not None)


def wrap(lines: Sequence[str], width: int = DEFAULT_WIDTH) -> str:
    """`lines` wrapped to `width` columns, each continuation under its line's text
    (after the indentation and a list number). Words are never split, so an id, a
    fingerprint or a URL stays whole even when it alone is wider than the line; nor is
    a date from its time or a currency from its amount."""
    wrapped = []
    for line in lines:
        match = _INDENT.match(line)
        indent = match.group(1) if match else ""
        if len(line) <= width:
            wrapped.append(line)
            continue
        text = textwrap.fill(
            _UNBROKEN.sub(_glued, line[len(indent) :]),
            width=max(width, 40),
            initial_indent=indent,
            subsequent_indent=" " * len(indent),
            break_long_words=False,
            break_on_hyphens=False,
        )
        wrapped.append(text.replace(_GLUE, " "))
    return "\n".join(wrapped)


def when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") + "Z" if value else "-"


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def who(finding: FindingState) -> str:
    parts = []
    if finding.account_id is not None:
        parts.append(f"account {finding.account_id}")
    if finding.customer_id is not None:
        parts.append(f"customer {finding.customer_id}")
    if finding.subscription_id is not None:
        parts.append(f"subscription {finding.subscription_id}")
    return ", ".join(parts) or "(no ids)"


def review_json(review: Review) -> dict[str, Any]:
    return {
        "action": review.action,
        "note": review.note,
        "until": iso(review.until),
        "who": review.who,
        "at": iso(review.at),
    }


def reopened(state: FindingState) -> str:
    count = state.times_reopened
    return f"; reopened {count} time{'s' if count != 1 else ''}" if count else ""


def item_json(item: QueueItem) -> dict[str, Any]:
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
        "first_seen_at": iso(state.first_seen_at),
        "first_seen_run": state.first_seen_run,
        "last_seen_at": iso(state.last_seen_at),
        "last_seen_run": state.last_seen_run,
        "times_reopened": state.times_reopened,
        "message": state.message,
        "fix": state.fix,
        "decision": review_json(item.decision) if item.decision else None,
        "reviews": [review_json(review) for review in item.reviews],
    }


def item_text(number: int, item: QueueItem) -> list[str]:
    state = item.state
    money = (
        f"  {state.exposure.currency} {state.exposure.monthly_amount}/mo" if state.exposure else ""
    )
    urgent = "URGENT " if item.urgent else ""
    again = reopened(state)
    lines = [
        f"{number:>3}. {short(state.fingerprint)}  {urgent}{state.kind.value}  "
        f"{state.severity.label}{money}  [{state.last_change}]",
        f"     {who(state)}",
        f"     first seen {when(state.first_seen_at)} (run {state.first_seen_run}), "
        f"last seen {when(state.last_seen_at)} (run {state.last_seen_run}){again}",
        f"     {state.message}",
    ]
    if item.decision is not None:
        lines.append(f"     decision: {notes_text([item.decision])[0]}")
    notes = notes_text([note for note in item.notes if note is not item.decision])
    if notes:
        lines.append("     notes:")
        lines.extend(f"       {line}" for line in notes)
    return lines


def _same_state(a: Observation, b: Observation) -> bool:
    """Two runs in a row that saw the finding the same way (one timeline line)."""
    return (
        b.run_id == a.run_id + 1
        and a.finding.severity == b.finding.severity
        and a.finding.exposure == b.finding.exposure
        and a.finding.message == b.finding.message
        and a.suppressed_by == b.suppressed_by
    )


def collapse(observations: Sequence[Observation]) -> list[list[Observation]]:
    """Observations grouped into runs of consecutive runs that saw the same state; a
    run missing from the sequence (the finding was gone) starts a new group."""
    groups: list[list[Observation]] = []
    for observation in observations:
        if groups and _same_state(groups[-1][-1], observation):
            groups[-1].append(observation)
        else:
            groups.append([observation])
    return groups


def observation_text(group: Sequence[Observation]) -> str:
    """One timeline line: a run, or a range of consecutive runs in the same state."""
    first, last = group[0], group[-1]
    finding = first.finding
    money = (
        f" {finding.exposure.currency} {finding.exposure.monthly_amount}/mo"
        if finding.exposure
        else ""
    )
    excused = f" (excused: {first.suppressed_by})" if first.suppressed_by else ""
    runs = (
        f"run {first.run_id} {when(first.observed_at)}"
        if len(group) == 1
        else f"runs {first.run_id}-{last.run_id} ({len(group)} runs) "
        f"{when(first.observed_at)} to {when(last.observed_at)}"
    )
    return f"  {runs} {finding.severity.label}{money}{excused}: {finding.message}"


def query_json(query: QueueQuery) -> dict[str, Any]:
    """The filters a page was listed with (empty lists: any)."""
    return {
        "kinds": list(query.kinds),
        "severities": list(query.severities),
        "lifecycles": list(query.lifecycles),
        "review_states": list(query.states),
        "currencies": list(query.currencies),
        "text": query.text,
        "sort": query.sort,
    }


def queue_json(queue: Queue) -> dict[str, Any]:
    """The queue page as JSON; the shape is documented in docs/review.md."""
    last = queue.last_run
    page = queue.page
    return {
        "history": queue.shown,
        "generated_at": iso(queue.generated_at),
        "last_run": (
            {
                "run_id": last.run_id,
                "finished_at": iso(last.finished_at),
                "verdict": last.verdict.value,
            }
            if last
            else None
        ),
        "query": query_json(page.query),
        "page": {
            "offset": page.offset,
            "limit": page.limit,
            "returned": len(page.items),
            "total": page.total,
            "remaining": page.remaining,
        },
        "counts": {"by_review_state": page.counts.by_state, "noted": page.counts.noted},
        "items": [item_json(item) for item in page.items],
    }


def _filtered(query: QueueQuery) -> bool:
    return bool(
        query.kinds
        or query.severities
        or query.lifecycles
        or query.review_states
        or query.currencies
        or query.text.strip()
    )


def more_text(page: QueuePage) -> str:
    """How many more match after this page, and the options that show them."""
    limit = page.limit or len(page.items)
    next_page = page.offset // limit + 2 if page.offset % limit == 0 else None
    step = f"--page {next_page}" if next_page else f"--offset {page.offset + len(page.items)}"
    return (
        f"{page.remaining} more match: {step} for the next {min(limit, page.remaining)}, "
        "--limit N for N per page, --limit 0 for all of them"
    )


def _empty_text(queue: Queue, location: str, ran: str) -> str:
    page = queue.page
    if page.total:
        return (
            f"billdrift review: nothing at offset {page.offset}: {page.total} "
            f"finding{'s match' if page.total != 1 else ' matches'} "
            f"(history: {location}{ran})"
        )
    if _filtered(page.query):
        return f"billdrift review: no finding matches these filters (history: {location}{ran})"
    covered = page.decided
    extra = (
        f" ({covered} open finding{'s are' if covered != 1 else ' is'} covered by a "
        "decision; --all lists them)"
        if covered and not page.query.include_decided
        else ""
    )
    return f"billdrift review: nothing needs a person{extra} (history: {location}{ran})"


def queue_text(queue: Queue, location: str, show_all: bool, width: int = DEFAULT_WIDTH) -> str:
    last = queue.last_run
    page = queue.page
    items = page.items
    ran = (
        f"; last run {last.run_id} at {when(last.finished_at)}: {last.verdict.value}"
        if last
        else ""
    )
    if not items:
        return wrap([_empty_text(queue, location, ran)], width)
    if _filtered(page.query):
        header = f"finding{'s match' if page.total != 1 else ' matches'} these filters"
    elif show_all:
        header = "open findings"
    else:
        header = "finding needs a person" if page.total == 1 else "findings need a person"
    lines = [f"billdrift review: {page.total} {header} (history: {location}{ran})", ""]
    if len(items) < page.total:
        lines[-1:] = [f"showing {page.offset + 1}-{page.offset + len(items)}", ""]
    for number, item in enumerate(items, page.offset + 1):
        lines.extend(item_text(number, item))
    lines.append("")
    if page.remaining:
        lines.append(more_text(page))
    lines.append(
        "Decide with: billdrift review ack|snooze|expect FINGERPRINT "
        "(a unique prefix will do); notes with: billdrift review note FINGERPRINT --note TEXT"
    )
    return wrap(lines, width)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    state = timeline.state
    return {
        "fingerprint": state.fingerprint,
        "kind": state.kind.value,
        "account_id": state.account_id,
        "customer_id": state.customer_id,
        "subscription_id": state.subscription_id,
        "status": state.status,
        "last_change": state.last_change,
        "first_seen_at": iso(state.first_seen_at),
        "last_seen_at": iso(state.last_seen_at),
        "resolved_at": iso(state.resolved_at),
        "times_reopened": state.times_reopened,
        "timeline": [
            {
                "run_id": o.run_id,
                "observed_at": iso(o.observed_at),
                "severity": o.finding.severity.label,
                "message": o.finding.message,
                "evidence": o.finding.evidence,
                "suppressed_by": o.suppressed_by,
            }
            for o in timeline.observations
        ],
        "reviews": [review_json(r) for r in timeline.reviews],
    }


def timeline_text(timeline: Timeline, width: int = DEFAULT_WIDTH) -> str:
    state = timeline.state
    resolved = f", resolved {when(state.resolved_at)}" if state.resolved_at else ""
    lines = [
        f"{state.fingerprint}",
        f"{state.kind.value}: {who(state)}",
        f"status {state.status} ({state.last_change}); first seen "
        f"{when(state.first_seen_at)}, last seen {when(state.last_seen_at)}{resolved}"
        f"{reopened(state)}",
        "timeline:",
        *(observation_text(group) for group in collapse(timeline.observations)),
    ]
    if timeline.reviews:
        lines += ["reviews:", *(f"  {line}" for line in notes_text(timeline.reviews))]
    return wrap(lines, width)
