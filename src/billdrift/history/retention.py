"""Retention: what ``billdrift history prune`` removes, and what it always keeps.

Why: a nightly run on a large account adds a run a day, and every finding that
changes adds a timeline entry (a span, :mod:`billdrift.history._spans`); a team
that only looks back a quarter should not carry years of it (a GitHub Actions
cache or artifact has to carry the whole file between runs). The policy
(``[history.retention]``) says how long to keep runs and resolved findings.

What goes, in one transaction under the write lock (so a prune never interleaves
with a run, and a killed prune leaves the store as it was):

* timeline entries (spans) whose last run finished before ``keep_runs_days`` ago;
* findings resolved before ``keep_resolved_days`` ago, whole (row and timeline),
  when no one ever reviewed them (a finding that comes back later is then new);
* runs finished before ``keep_runs_days`` ago that nothing kept still refers to.

What is always kept, whatever the policy says:

* every review (decision and note): the reviews table is never deleted from, and
  a reviewed finding's row stays with it;
* each finding's latest timeline entry (``findings.last_span``): what it said
  last, so an open finding (and any kept one) still shows its message and fix;
* the latest run, and every run a kept finding, span or review refers to (when
  it was first seen, opened, last seen or resolved).

Compaction: deleting rows frees pages inside a SQLite file without shrinking it;
``VACUUM`` rewrites the file without them (it needs the file to itself for a
moment, and as much free disk as the file). On PostgreSQL, autovacuum marks the
deleted rows' space reusable by later runs (the files do not shrink; ``VACUUM
FULL`` would, under an exclusive lock, so it is left to the DBA).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from billdrift.history._sql import SqlStore

#: Compact automatically (after a run) when at least this share of a SQLite file is free.
COMPACT_FREE_SHARE: Final = 0.1


@dataclass(frozen=True)
class Policy:
    """How long to keep things; None keeps them forever."""

    keep_runs_days: int | None = None
    keep_resolved_days: int | None = None

    @property
    def enabled(self) -> bool:
        return self.keep_runs_days is not None or self.keep_resolved_days is not None


@dataclass(frozen=True)
class Pruned:
    """What a prune removed (or, in a dry run, would remove)."""

    runs: int
    findings: int
    spans: int
    dry_run: bool
    #: The cut-offs applied (None: that limit is not set).
    runs_before: datetime | None
    resolved_before: datetime | None
    #: Store size before and after compaction, in bytes (None: not compacted or not known).
    size_before: int | None = None
    size_after: int | None = None

    @property
    def anything(self) -> bool:
        return bool(self.runs or self.findings or self.spans)


#: Findings resolved before the cut-off that no review names (removed whole).
_STALE_FINDINGS: Final = """
    SELECT f.fingerprint FROM findings f
    WHERE f.status = 'resolved' AND f.resolved_at < ?
      AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.fingerprint = f.fingerprint)
"""
#: Spans that ended before the cut-off and are no finding's latest.
_OLD_SPANS: Final = """
    SELECT s.id FROM finding_spans s
    WHERE s.last_run IN (SELECT id FROM runs WHERE finished_at < ?)
      AND s.id NOT IN (SELECT last_span FROM findings WHERE last_span IS NOT NULL)
"""
#: Runs before the cut-off that nothing kept refers to, the latest run and the latest
#: full run aside (a listener's targeted runs must not leave a store with no full run).
_OLD_RUNS: Final = """
    SELECT id FROM runs
    WHERE finished_at < ?
      AND id <> (SELECT max(id) FROM runs)
      AND id <> COALESCE((SELECT max(id) FROM runs WHERE kind = 'full'), 0)
      AND id NOT IN (
        SELECT first_seen_run FROM findings
        UNION SELECT last_seen_run FROM findings
        UNION SELECT opened_run FROM findings
        UNION SELECT resolved_run FROM findings WHERE resolved_run IS NOT NULL
        UNION SELECT opened_run FROM reviews WHERE opened_run IS NOT NULL
        UNION SELECT first_run FROM finding_spans
        UNION SELECT last_run FROM finding_spans
      )
"""


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction, so it is rolled back."""


@contextmanager
def _maintenance(store: SqlStore, commit: bool) -> Iterator[None]:
    """A locked write transaction: committed if `commit`, else rolled back once the
    block has run (a dry run sees exactly what it would change)."""
    try:
        with store._locked():
            yield
            if not commit:
                raise _DryRun
    except _DryRun:
        pass


def _delete_where(store: SqlStore, table: str, condition: str, params: Sequence[Any]) -> int:
    return store._delete(f"DELETE FROM {table} WHERE {condition}", params)


def _cutoff(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def prune(store: SqlStore, policy: Policy, now: datetime, dry_run: bool = False) -> Pruned:
    """Remove what `policy` lets go (see the module docstring), all in one locked
    transaction; a `dry_run` does the same deletes and rolls them back, so what it
    counts is exactly what a prune would remove."""
    runs_before = _cutoff(now, policy.keep_runs_days)
    resolved_before = _cutoff(now, policy.keep_resolved_days)
    findings = spans = runs = 0
    with _maintenance(store, commit=not dry_run):
        if resolved_before is not None:
            stale = f"fingerprint IN (SELECT fingerprint FROM ({_STALE_FINDINGS}) stale)"
            at = (store._ts_in(resolved_before),)
            spans += _delete_where(store, "finding_spans", stale, at)
            findings = _delete_where(store, "findings", stale, at)
        if runs_before is not None:
            at = (store._ts_in(runs_before),)
            spans += _delete_where(
                store, "finding_spans", f"id IN (SELECT id FROM ({_OLD_SPANS}) old)", at
            )
            runs = _delete_where(store, "runs", f"id IN (SELECT id FROM ({_OLD_RUNS}) old)", at)
    return Pruned(runs, findings, spans, dry_run, runs_before, resolved_before)
