"""History fixtures: one store location per backend, so store tests run on both.

``store_location`` is parametrized over a fresh SQLite file and a fresh PostgreSQL
database (the session's throwaway server, a new database per test, from
tests/infra/db/conftest.py), so every lifecycle and store test proves both backends
behave the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from billdrift.history import HistoryStore, open_store
from tests.infra.db.conftest import Database, pg  # noqa: F401  (re-exported fixture)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store goes: a SQLite file path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "history" / "history.sqlite")
    database: Database = request.getfixturevalue("pg")
    return database.url


@pytest.fixture
def store(store_location: str) -> Iterator[HistoryStore]:
    opened = open_store(store_location, lock_timeout=10)
    yield opened
    opened.close()
