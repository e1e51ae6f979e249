"""The review queue and its decisions, over the history store alone.

Nothing here reads billing or app data, so reviewing is quick and needs no
secrets beyond the store's URL. Each function opens the store, does one thing
and returns data for a front-end to present; a fingerprint may be given as a
unique prefix. Errors (unknown or ambiguous fingerprint, locked or missing
store, a config file the exception cannot be appended to) are raised as
:class:`~billdrift.errors.BilldriftError`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from billdrift.config import AccessException
from billdrift.errors import BilldriftError
from billdrift.history import open_store
from billdrift.history.queue import QueueQuery, queue_page
from billdrift.history.review import (
    current_user,
    expect,
    record_decision,
    resolve_fingerprint,
)
from billdrift.history.store import FindingState, HistoryStore
from billdrift.history.views import Queue, Timeline

#: Review commands wait less than a run for the write lock: a person is waiting.
REVIEW_LOCK_TIMEOUT = 10.0


def open_history(location: str) -> HistoryStore:
    """An existing store (never created by a review), with the reviewer's lock timeout."""
    return open_store(location, create=False, lock_timeout=REVIEW_LOCK_TIMEOUT)


def queue(location: str, query: QueueQuery | None = None) -> Queue:
    """One page of the review queue (the first 50 undecided open findings unless
    `query` says otherwise), filtered, sorted and counted in the store."""
    with open_history(location) as store:
        now = datetime.now(UTC)
        page = queue_page(store, query or QueueQuery(), now)
        return Queue(store.shown, now, page, store.last_run())


def decide(
    location: str,
    prefix: str,
    action: str,
    note: str,
    by: str | None = None,
    until: datetime | None = None,
) -> FindingState:
    """Record a decision (acknowledged, snoozed, noted) on the finding `prefix` names."""
    if action == "snoozed" and until is None:
        raise BilldriftError("a snooze needs the date it ends")
    with open_history(location) as store:
        state = resolve_fingerprint(store, prefix)
        record_decision(store, state, action, note, by or current_user(), datetime.now(UTC), until)
    return state


def mark_expected(
    location: str,
    prefix: str,
    reason: str,
    until: datetime | None,
    config_path: Path,
    by: str | None = None,
) -> tuple[FindingState, AccessException]:
    """Mark a finding expected and append the matching ``[[exceptions]]`` entry to the
    config file (the rest of the file byte for byte)."""
    with open_history(location) as store:
        state = resolve_fingerprint(store, prefix)
        _review, exception = expect(
            store, state, reason, until, config_path, by or current_user(), datetime.now(UTC)
        )
    return state, exception


def timeline(location: str, prefix: str) -> Timeline:
    with open_history(location) as store:
        state = resolve_fingerprint(store, prefix)
        observations = store.observations(state.fingerprint)
        reviews = store.reviews_for([state.fingerprint]).get(state.fingerprint, [])
    return Timeline(state, observations, reviews)
