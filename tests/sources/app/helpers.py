"""Plain helpers shared by the app-source tests (fixtures live in conftest.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from billdrift.config import AppConfig
from billdrift.core.model import APP_ACCOUNTS, AppData, Skip
from billdrift.core.refs import LABEL
from billdrift.sources.app.sqlite import SqliteAppSource
from tests.builders import as_text


def make_db(path: Path, script: str, rows: dict[str, Sequence[tuple[object, ...]]]) -> Path:
    """Create a SQLite file from a DDL script plus rows per (already quoted) table."""
    con = sqlite3.connect(path)
    try:
        con.executescript(script)
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" for _ in values[0])
                con.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
        con.commit()
    finally:
        con.close()
    return path


def read_db(location: str | Path, **config: Any) -> AppData:
    return SqliteAppSource(str(location), AppConfig(**config)).read()


def skips(data: AppData) -> list[tuple[str, str | None, str]]:
    """(location, field, reason) of every skip, in order."""
    return [(skip.location, skip.field, skip.reason) for skip in data.skips]


#: APP_ACCOUNTS as a reader that numbers its rows gives it (billdrift.core.refs): each
#: place a label, held once, and a number.
LOCATED = APP_ACCOUNTS.set(
    APP_ACCOUNTS.get_field_index("source_ref"), pa.field("source_ref", LABEL)
)


def accounts(data: AppData, *columns: str) -> list[tuple[Any, ...]]:
    """The accounts' `columns`, places as text (:func:`tests.builders.as_text`)."""
    rows = as_text(data.accounts).to_pylist()
    return [tuple(row[column] for column in columns) for row in rows]


def signals(data: AppData) -> list[tuple[Any, ...]]:
    """(account_id, field, kind, raw, flag, is_primary) rows, in relation order."""
    keys = ("account_id", "field", "kind", "raw", "flag", "is_primary")
    return [tuple(row[key] for key in keys) for row in data.signals.to_pylist()]


def only_skip(data: AppData) -> Skip:
    assert len(data.skips) == 1, data.skips
    return data.skips[0]
