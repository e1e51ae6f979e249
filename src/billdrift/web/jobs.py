""" "Run a check now": one check at a time, in a background thread, observable.

The check is the one every recurring run does (:func:`usecases.monitoring.monitored_check`:
check, record in the history store, alert as configured) with the configured sources.
Its progress is kept in a :class:`Job` the runs page polls. A second request while
one runs is refused rather than queued; a CLI run recording at the same moment is
serialized by the store's own write lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import count
from typing import Any, Literal

from billdrift.web.pages import describe

JobState = Literal["running", "done", "failed"]


@dataclass(frozen=True)
class Job:
    """A snapshot of one check's progress (replaced whole on every update)."""

    id: int
    started_at: datetime
    state: JobState = "running"
    step: str = "starting"
    #: Rows read so far, per what the source reads (subscriptions, accounts...).
    read: dict[str, int] = field(default_factory=dict)
    finished_at: datetime | None = None
    verdict: str | None = None
    findings: int | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "step": self.step,
            "read": self.read,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "verdict": self.verdict,
            "findings": self.findings,
            "error": self.error,
        }


class _JobProgress:
    """A :class:`~billdrift.sources.progress.Progress` that updates the job."""

    def __init__(self, jobs: Jobs) -> None:
        self._jobs = jobs

    def update(self, what: str, done: int, requests: int) -> None:
        self._jobs.update(step=f"reading {what}", read={what: done})

    def close(self) -> None:
        self._jobs.update(step="reconciling and recording")


#: Runs the check; given the progress to report to, returns (verdict, findings).
CheckRunner = Callable[[Any], tuple[str, int]]


class Jobs:
    """The app's current (or last) check."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = count(1)
        self._current: Job | None = None

    @property
    def current(self) -> Job | None:
        with self._lock:
            return self._current

    def update(self, **changes: Any) -> None:
        with self._lock:
            if self._current is not None:
                if "read" in changes:
                    changes["read"] = {**self._current.read, **changes["read"]}
                self._current = replace(self._current, **changes)

    def start(self, runner: CheckRunner) -> Job | None:
        """Start `runner` in a thread; None if a check is already running."""
        with self._lock:
            if self._current is not None and self._current.state == "running":
                return None
            job = Job(next(self._ids), datetime.now(UTC))
            self._current = job
        thread = threading.Thread(
            target=self._run, args=(runner,), name=f"billdrift-check-{job.id}", daemon=True
        )
        thread.start()
        return job

    def _run(self, runner: CheckRunner) -> None:
        try:
            verdict, findings = runner(_JobProgress(self))
        except Exception as error:  # shown on the page, never raised into the server
            self.update(state="failed", error=describe(error), finished_at=datetime.now(UTC))
            return
        self.update(
            state="done",
            step="done",
            verdict=verdict,
            findings=findings,
            finished_at=datetime.now(UTC),
        )
