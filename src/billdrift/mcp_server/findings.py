"""Choosing findings from the history store for ``list_findings``: every filter in one
function, :func:`select_findings`.

The filters: kind, a minimum severity, the lifecycle (open findings, or only the
new, reopened or ongoing ones, or resolved ones, or all) and the review state
(needs a person, or covered by an acknowledgement, a snooze or an expectation).
Order is the review queue's: urgent first, then severity, money, kind, age, ids in
natural order. The filtering, ordering, counting and cutting happen in the store,
in the review queue's query (:func:`billdrift.history.queue.queue_page`, issue 18);
this module only translates the tool's arguments into that query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

from billdrift.core.model import Kind, Severity
from billdrift.history.queue import QueueQuery, queue_page
from billdrift.history.review import QueueItem
from billdrift.history.store import HistoryStore

Lifecycle = Literal["open", "new", "reopened", "ongoing", "resolved", "all"]
ReviewState = Literal["needs_review", "decided", "acknowledged", "snoozed", "expected", "any"]

#: Lifecycle filter -> the library query's lifecycles (empty: the open findings).
_LIFECYCLES: Final[dict[str, tuple[str, ...]]] = {
    "open": (),
    "new": ("new",),
    "reopened": ("reopened",),
    "ongoing": ("ongoing",),
    "resolved": ("resolved",),
    "all": ("new", "ongoing", "reopened", "resolved"),
}
#: Review filter -> the library query's review states (empty with include_decided: any).
_REVIEWS: Final[dict[str, tuple[str, ...]]] = {
    "any": (),
    "needs_review": ("undecided",),
    "decided": ("acknowledged", "snoozed", "expected"),
    "acknowledged": ("acknowledged",),
    "snoozed": ("snoozed",),
    "expected": ("expected",),
}


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


def select_findings(store: HistoryStore, wanted: FindingFilter, now: datetime) -> Selection:
    """The findings `wanted` names, in review-queue order, at most `wanted.limit`."""
    severities = (
        ()
        if wanted.min_severity is None
        else tuple(severity.label for severity in Severity if severity >= wanted.min_severity)
    )
    query = QueueQuery(
        kinds=() if wanted.kind is None else (wanted.kind.value,),
        severities=severities,
        lifecycles=_LIFECYCLES[wanted.lifecycle],
        review_states=_REVIEWS[wanted.review],
        include_decided=True,
        limit=wanted.limit,
    )
    page = queue_page(store, query, now)
    return Selection(page.items, page.total)
