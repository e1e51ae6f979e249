"""One way to open an in-process DuckDB connection, so every use is configured alike."""

from __future__ import annotations

import os
from typing import Any

import duckdb


def connect(**settings: Any) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that never draws a progress bar on the user's stdout.

    DuckDB prints a progress bar for queries over two seconds; on stdout it would
    corrupt a JSON report piped to another program.
    """
    config: dict[str, Any] = {"threads": max(1, os.cpu_count() or 1), **settings}
    con = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    return con
