"""The default history store: one SQLite file (``.billdrift/history.sqlite``).

Why SQLite: nothing to install or run, one file to back up or delete, and real
transactions. Locking: a write starts with ``BEGIN IMMEDIATE``, which takes the
file's write lock at once (not at the first write, where two runs could each
have read the old state); a second run waits for it up to the lock timeout (the
busy timeout) and then gets :class:`HistoryLockedError`. Readers (``billdrift
review``) are not blocked while a run records, except for the instant of its
commit. The default rollback journal (not WAL) is kept because it also works on
network file systems, and with ``synchronous=FULL`` a killed process or a power
cut leaves the previous state or the whole new run: the next opener rolls back
a half-written transaction from the journal.

The file holds customer ids and e-mail addresses (in evidence), so it is created
readable by its owner only.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billdrift.history._sql import SqlStore
from billdrift.history.store import (
    LOCKED_MESSAGE,
    HistoryError,
    HistoryLockedError,
    HistoryMissingError,
)
from billdrift.infra.private import make_dirs


@functools.lru_cache(maxsize=1024)
def _text(value: datetime) -> str:
    """An instant as fixed-width UTC text (so stored instants also sort as text)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@functools.lru_cache(maxsize=1024)
def _instant(text: str) -> datetime:
    """Cached: a store's timestamps are mostly a few run times repeated per finding
    (parsing was the largest cost of loading 50,000 findings)."""
    return datetime.fromisoformat(text).astimezone(UTC)


class SqliteStore(SqlStore):
    dialect = "sqlite"
    types = {
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "ref": "INTEGER",
        "ts": "TEXT",
        "json": "TEXT",
        "float": "REAL",
    }

    def __init__(self, path: str | Path, *, lock_timeout: float, create: bool = True) -> None:
        self.path = Path(path)
        self.shown = str(self.path)
        self.lock_timeout = lock_timeout
        if not self.path.exists():
            if not create:
                raise HistoryMissingError(
                    f"no history store at {self.shown}: record one first with "
                    f"`billdrift check --history {self.shown}`"
                )
            self._create_file()
        try:
            self._con = sqlite3.connect(str(self.path), timeout=lock_timeout, isolation_level=None)
            self._con.execute("PRAGMA foreign_keys = ON")
            self._con.execute("PRAGMA synchronous = FULL")
            self._con.execute("PRAGMA temp_store = MEMORY")
        except sqlite3.Error as error:
            raise self._error(error) from None
        try:
            self.migrate()
        except BaseException:
            self._con.close()
            raise

    def _create_file(self) -> None:
        try:
            make_dirs(self.path.parent)  # what it creates, 0700 like the file
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            os.close(descriptor)
        except FileExistsError:
            pass  # another run created it first: fine, SQLite serializes the rest
        except OSError as error:
            raise HistoryError(
                f"cannot create history store {self.shown}: {error.strerror}"
            ) from None

    def _error(self, error: sqlite3.Error) -> HistoryError:
        text = str(error)
        if "locked" in text or "busy" in text:
            return HistoryLockedError(
                f"{LOCKED_MESSAGE} (history store {self.shown}; waited {self.lock_timeout:g} s)"
            )
        if isinstance(error, sqlite3.DatabaseError) and "not a database" in text:
            return HistoryError(f"{self.shown} is not a billdrift history store (not SQLite)")
        return HistoryError(f"history store {self.shown}: {text}")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._con.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as error:
            raise self._error(error) from None

    def _exec_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            self._con.executemany(sql, rows)
        except sqlite3.Error as error:
            raise self._error(error) from None

    def _copy(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._exec_many(
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' * len(columns))})",
                rows,
            )

    def _reserve_ids(self, table: str, count: int) -> list[int]:
        """After the largest id ever given (AUTOINCREMENT's sequence: a deleted row's
        id is never reused), safe because the caller holds the write lock."""
        rows = self._exec(
            f"SELECT max(coalesce((SELECT max(id) FROM {table}), 0), "
            "coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))",
            (table,),
        )
        last = int(rows[0][0])
        return list(range(last + 1, last + 1 + count))

    def _insert(self, sql: str, params: Sequence[Any]) -> int:
        try:
            cursor = self._con.execute(sql, tuple(params))
        except sqlite3.Error as error:
            raise self._error(error) from None
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _delete(self, sql: str, params: Sequence[Any]) -> int:
        try:
            return self._con.execute(sql, tuple(params)).rowcount
        except sqlite3.Error as error:
            raise self._error(error) from None

    def compact(self) -> tuple[int | None, int | None]:
        """VACUUM: rewrite the file without its free pages (it takes the write lock,
        so it waits for a recording run like any writer)."""
        before = self.path.stat().st_size
        self._exec("VACUUM")
        return before, self.path.stat().st_size

    def free_share(self) -> float:
        pages = int(self._exec("PRAGMA page_count")[0][0])
        free = int(self._exec("PRAGMA freelist_count")[0][0])
        return free / pages if pages else 0.0

    def _begin_write(self) -> None:
        self._exec("BEGIN IMMEDIATE")

    def _begin_read(self) -> None:
        self._exec("BEGIN")

    def _commit(self) -> None:
        self._exec("COMMIT")

    def _rollback(self) -> None:
        if self._con.in_transaction:
            # An error: nothing to undo, or the connection is gone (the journal recovers it).
            with contextlib.suppress(sqlite3.Error):
                self._con.execute("ROLLBACK")

    def _has_version_table(self) -> bool:
        rows = self._exec(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        )
        return bool(rows)

    def _prepare_schema(self) -> None:
        """Schema version 2 drops columns (``ALTER TABLE ... DROP COLUMN``: SQLite 3.35)."""
        if sqlite3.sqlite_version_info < (3, 35, 0):
            raise HistoryError(
                f"history store {self.shown}: needs SQLite 3.35 or later, this Python has "
                f"{sqlite3.sqlite_version}"
            )

    def _ts_in(self, value: datetime | None) -> Any:
        return None if value is None else _text(value)

    def _ts_out(self, value: Any) -> datetime:
        if isinstance(value, str):
            return _instant(value)
        return super()._ts_out(value)

    def close(self) -> None:
        self._con.close()
