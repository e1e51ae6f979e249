"""Choosing findings from the history store for ``list_findings``: every filter in one
function, :func:`select_findings`.

The filters: kind, a minimum severity, the lifecycle (open findings, or only the
new, reopened or ongoing ones, or resolved, or suppressed) and the review state
(needs a person, or covered by an acknowledgement, a snooze or an expectation).
Order is the review queue's (:func:`billdrift.history.review.queue_key`: urgent
first, then severity, money, kind, age, ids in natural order).

Today this reads the findings of the wanted states and filters them here; a
paged, filtered query in the history library is being written (issue 18), and
:func:`select_findings` is the one place to point at it when it lands: its
arguments and result stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from billdrift.core.model import Kind, Severity
from billdrift.history.review import QueueItem, decision_in_force, queue_key
from billdrift.history.store import HistoryStore, Status

Lifecycle = Literal["open", "new", "reopened", "ongoing", "resolved", "suppressed", "all"]
ReviewState = Literal["needs_review", "decided", "acknowledged", "snoozed", "expected", "any"]

#: Lifecycle filter -> the store states it reads.
_STATES: Final[dict[str, tuple[Status, ...]]] = {
    "open": ("open",),
    "new": ("open",),
    "reopened": ("open",),
    "ongoing": ("open",),
    "resolved": ("resolved",),
    "suppressed": ("suppressed",),
    "all": ("open", "suppressed", "resolved"),
}
LIFECYCLES: Final = tuple(_STATES)


@dataclass(frozen=True)
class FindingFilter:
    """What to list. None means any; `limit` caps what is returned, not what is counted."""

    kind: Kind | None = None
    min_severity: Severity | None = None
    lifecycle: Lifecycle = "open"
    review: ReviewState = "any"
    limit: int = 50


@dataclass(frozen=True)
class Selection:
    items: tuple[QueueItem, ...]
    #: How many findings matched before `limit`.
    total: int


def _lifecycle_matches(item: QueueItem, lifecycle: Lifecycle) -> bool:
    if lifecycle in ("new", "reopened", "ongoing"):
        return item.state.last_change == lifecycle
    return True


def _review_matches(item: QueueItem, review: ReviewState) -> bool:
    decision = item.decision
    if review == "any":
        return True
    if review == "needs_review":
        return decision is None
    if review == "decided":
        return decision is not None
    return decision is not None and decision.action == review


def select_findings(store: HistoryStore, wanted: FindingFilter, now: datetime) -> Selection:
    """The findings `wanted` names, in review-queue order, at most `wanted.limit`."""
    states = store.findings_with_status(*_STATES[wanted.lifecycle])
    if wanted.kind is not None:
        states = [state for state in states if state.kind == wanted.kind]
    if wanted.min_severity is not None:
        states = [state for state in states if state.severity >= wanted.min_severity]
    reviews = store.reviews_for(state.fingerprint for state in states)
    items = []
    for state in states:
        mine = tuple(reviews.get(state.fingerprint, ()))
        item = QueueItem(state, mine, decision_in_force(state, mine, now))
        if _lifecycle_matches(item, wanted.lifecycle) and _review_matches(item, wanted.review):
            items.append(item)
    items.sort(key=queue_key)
    return Selection(tuple(items[: wanted.limit]), len(items))
