"""One way to open an in-process DuckDB connection, so every use is configured alike."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from contextvars import ContextVar, copy_context
from typing import Any, TypeVar

import duckdb

from billdrift.infra.quoting import quote_identifier as quote_identifier
from billdrift.infra.quoting import sql_string as sql_string

T = TypeVar("T")

#: How many inputs are being read at once in this context: each reader's
#: connection gets its share of the cores rather than all of them, so two
#: readers do not run four busy DuckDB threads on two cores.
_READERS: ContextVar[int] = ContextVar("billdrift_duckdb_readers", default=1)


class SharedDatabase:
    """One in-memory DuckDB database for inputs read at once, each reader on a cursor.

    A DuckDB database costs about 15 ms of CPU to create (its catalog, buffer
    manager and thread pool) and a cursor on an existing one next to nothing: a
    small check read its two files on two databases of their own, a tenth of its
    CPU after the imports. Cursors keep what a reader registers to themselves and
    have their own session settings (time zone); the database's own settings are
    every core and a private spill directory. It is created by :meth:`open` or by
    the first reader that asks, and outlives its creator while any cursor is open
    (the spill directory goes with it).

    Every core, not a reader's share: one database has one pool of worker threads,
    which the readers' queries share. With a share each, the reader that finished
    first left its core idle while the other typed its rows on one thread (at 1M x
    1M, the app's read ends well before the billing export's).
    """

    def __init__(self) -> None:
        self.threads = _share(1)
        self._lock = threading.Lock()
        self._database: duckdb.DuckDBPyConnection | None = None

    def open(self) -> None:
        """Create the database now (on the calling thread), if no reader has yet."""
        with self._lock:
            self._open()

    def _open(self) -> duckdb.DuckDBPyConnection:
        if self._database is None:
            scratch = tempfile.mkdtemp(prefix="billdrift-duckdb-")
            config: dict[str, Any] = {"threads": self.threads, "temp_directory": scratch}
            self._database = duckdb.connect(":memory:", config=config)
            weakref.finalize(self._database, shutil.rmtree, scratch, ignore_errors=True)
        return self._database

    def cursor(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            con = self._open().cursor()
        con.execute("SET enable_progress_bar = false")  # a session setting: per cursor
        return con


#: The database the connections opened in this context are cursors of, if any.
_SHARED: ContextVar[SharedDatabase | None] = ContextVar("billdrift_duckdb_shared", default=None)


def _share(readers: int) -> int:
    return max(1, (os.cpu_count() or 1) // max(1, readers))


def sharing_cores(
    readers: int, work: Callable[[], T], database: SharedDatabase | None = None
) -> Callable[[], T]:
    """`work` wrapped so the connections it opens take a 1/`readers` share of the
    cores, as cursors of `database` when one is given; meant for work handed to
    another thread."""
    context = copy_context()
    context.run(_READERS.set, max(1, readers))
    context.run(_SHARED.set, database)
    return lambda: context.run(work)


def connect(**settings: Any) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never draws a progress bar on the user's stdout.

    DuckDB prints a progress bar for queries over two seconds; on stdout it would
    corrupt a JSON report piped to another program. Within :func:`sharing_cores`
    given a :class:`SharedDatabase`, a cursor of it (whose database settings are
    the shared ones: `settings` apply to a database of its own only).
    """
    shared = _SHARED.get()
    if shared is not None:
        return shared.cursor()
    config: dict[str, Any] = {"threads": _share(_READERS.get()), **settings}
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    return con
