"""What a reviewer sees of the history: the queue, and one finding's timeline.

Plain data built by :mod:`billdrift.usecases.review` and presented by
:mod:`billdrift.outputs.review` (and any other front-end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from billdrift.history.queue import QueuePage
from billdrift.history.review import QueueItem
from billdrift.history.store import FindingState, Observation, Review, RunSummary


@dataclass(frozen=True)
class Queue:
    """One page of the findings that need a person, and what the store knows."""

    shown: str  # the store's location, redacted
    generated_at: datetime
    page: QueuePage
    last_run: RunSummary | None

    @property
    def items(self) -> tuple[QueueItem, ...]:
        return self.page.items


@dataclass(frozen=True)
class Timeline:
    """One finding: what every run saw of it, and every review."""

    state: FindingState
    observations: Sequence[Observation]
    reviews: Sequence[Review]
