"""One way to open an in-process DuckDB connection, so every use is configured alike."""

from __future__ import annotations

import os
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


def sharing_cores(readers: int, work: Callable[[], T]) -> Callable[[], T]:
    """`work` wrapped so the connections it opens take a 1/`readers` share of the
    cores; meant for work handed to another thread."""
    context = copy_context()
    context.run(_READERS.set, max(1, readers))
    return lambda: context.run(work)


def connect(**settings: Any) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never draws a progress bar on the user's stdout.

    DuckDB prints a progress bar for queries over two seconds; on stdout it would
    corrupt a JSON report piped to another program.
    """
    threads = max(1, (os.cpu_count() or 1) // _READERS.get())
    config: dict[str, Any] = {"threads": threads, **settings}
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    return con
