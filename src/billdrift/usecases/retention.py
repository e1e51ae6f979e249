"""Pruning the history store by its retention policy (``[history.retention]``).

Two ways in: ``billdrift history prune`` (on demand, with ``--dry-run`` to see what
would go) and :func:`maintain` right after a recorded run, when the config asks for
it. What is removed and what is always kept: :mod:`billdrift.history.retention`.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from billdrift.config import RetentionConfig
from billdrift.errors import ConfigError
from billdrift.history import DEFAULT_TIMEOUT, open_store
from billdrift.history.retention import COMPACT_FREE_SHARE, Policy, Pruned
from billdrift.history.store import HistoryStore


def policy_of(retention: RetentionConfig) -> Policy:
    return Policy(retention.keep_runs_days, retention.keep_resolved_days)


def prune_history(
    location: str,
    policy: Policy,
    *,
    dry_run: bool = False,
    compact: bool = True,
    now: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Pruned:
    """Prune the store at `location` by `policy`, then compact it (unless `dry_run`
    or not `compact`). A policy that keeps everything is a usage error (exit 2)."""
    if not policy.enabled:
        raise ConfigError(
            "nothing to prune by: set keep_runs_days and/or keep_resolved_days in "
            "[history.retention], or pass --keep-runs-days / --keep-resolved-days"
        )
    with open_store(location, create=False, timeout=timeout) as store:
        pruned = store.prune(policy, now or datetime.now(UTC), dry_run=dry_run)
        if dry_run or not compact:
            return pruned
        before, after = store.compact()
    return dataclasses.replace(pruned, size_before=before, size_after=after)


def maintain(store: HistoryStore, retention: RetentionConfig, now: datetime) -> Pruned | None:
    """After a recorded run: prune by the configured policy (if any, and if
    ``prune_after_run``), and compact when pruning left at least
    :data:`~billdrift.history.retention.COMPACT_FREE_SHARE` of a SQLite file free (a
    nightly VACUUM of an unchanged file would rewrite it for nothing)."""
    if not (retention.enabled and retention.prune_after_run):
        return None
    pruned = store.prune(policy_of(retention), now)
    if retention.compact and pruned.anything and store.free_share() >= COMPACT_FREE_SHARE:
        before, after = store.compact()
        return dataclasses.replace(pruned, size_before=before, size_after=after)
    return pruned
