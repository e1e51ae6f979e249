"""Run history: what each run found, how findings evolve, and what people decided.

Issue 5. A single run says what is wrong *now*; the history says what is new
since yesterday, what was fixed, what came back, and what a person already
looked at. Pieces, one idea per module:

* :mod:`.fingerprint`: which findings from different runs are "the same".
* :mod:`.store`: the interface and records; :mod:`.sqlite_store` (default, a
  file) and :mod:`.postgres_store` (shared, its own schema) implement it;
  :mod:`.schema` holds the numbered migrations.
* :mod:`.lifecycle`: :func:`record_run` records one run atomically and says
  which findings are new, ongoing, reopened or resolved (for alerts and reports).
* :mod:`.review`: the review queue and decisions (ack, snooze, expect);
  :mod:`.commands` is its ``billdrift review`` command group.

:func:`open_store` is the one place a location becomes a backend.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from billdrift.errors import ConfigError
from billdrift.history.fingerprint import fingerprint, fingerprint_of
from billdrift.history.lifecycle import Lifecycle, ResolvedFinding, RunRecord, record_run
from billdrift.history.store import (
    LOCKED_MESSAGE,
    FindingState,
    HistoryError,
    HistoryLockedError,
    HistoryMissingError,
    HistoryStore,
    Observation,
    Review,
    RunSummary,
)
from billdrift.infra.db.urls import ENV_PREFIX, is_database_url, resolve

#: Where the history goes when no location is given (relative to the working directory).
DEFAULT_LOCATION: Final = ".billdrift/history.sqlite"
#: Environment variable that may name the location instead of --history.
LOCATION_ENV: Final = "BILLDRIFT_HISTORY"
#: How long a run waits for another run's write lock before giving up (seconds).
DEFAULT_LOCK_TIMEOUT: Final = 30.0
#: Seconds opening a PostgreSQL store, or one transaction on it, may take (lock wait aside).
DEFAULT_TIMEOUT: Final = 600.0

__all__ = [
    "DEFAULT_LOCATION",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "LOCATION_ENV",
    "LOCKED_MESSAGE",
    "FindingState",
    "HistoryError",
    "HistoryLockedError",
    "HistoryMissingError",
    "HistoryStore",
    "Lifecycle",
    "Observation",
    "ResolvedFinding",
    "Review",
    "RunRecord",
    "RunSummary",
    "default_location",
    "fingerprint",
    "fingerprint_of",
    "open_store",
    "record_run",
]


def default_location() -> str:
    """``$BILLDRIFT_HISTORY`` if set, else :data:`DEFAULT_LOCATION`."""
    return os.environ.get(LOCATION_ENV, "").strip() or DEFAULT_LOCATION


def open_store(
    location: str | Path | None = None,
    *,
    create: bool = True,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
    timeout: float = DEFAULT_TIMEOUT,
) -> HistoryStore:
    """Open (and migrate) the history store at `location`.

    `location` is a file path (SQLite; parent directories are created), a
    ``sqlite:///relative`` or ``sqlite:////absolute`` URL, a ``postgresql://``
    URL, or ``env:NAME`` naming a variable that holds one of those URLs. None
    means :func:`default_location`. With ``create=False`` a store that was never
    written raises HistoryMissingError instead of being created (for read-only
    commands). `timeout` bounds opening a server store and each of its transactions
    (``history.timeout_seconds``).
    Raises HistoryError (exit code 2) for anything else that goes wrong, with
    passwords redacted.
    """
    text = str(location) if location is not None else default_location()
    if isinstance(location, Path) or not is_database_url(text):
        from billdrift.history.sqlite_store import SqliteStore

        return SqliteStore(Path(text).expanduser(), lock_timeout=lock_timeout, create=create)
    url = resolve(text)
    if url.dialect == "sqlite":
        from billdrift.history.sqlite_store import SqliteStore

        # SQLAlchemy's form: sqlite:///relative/file, sqlite:////absolute/file.
        path = url.raw[len("sqlite:///") :].split("?", 1)[0]
        if not url.raw.startswith("sqlite:///") or not path:
            raise ConfigError(
                f"{url.shown}: expected sqlite:///relative/history.sqlite or "
                "sqlite:////absolute/history.sqlite"
            )
        return SqliteStore(Path(path), lock_timeout=lock_timeout, create=create)
    if url.dialect == "postgresql":
        from billdrift.history.postgres_store import PostgresStore

        return PostgresStore(url, lock_timeout=lock_timeout, create=create, timeout=timeout)
    shown = text if text.startswith(ENV_PREFIX) else url.shown
    raise ConfigError(
        f"{shown}: a history store is a SQLite file or a PostgreSQL database "
        f"(postgresql://...), not {url.dialect}"
    )
