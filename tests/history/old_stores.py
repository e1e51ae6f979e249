"""Stores written by an older schema, for the upgrade tests (issue 18).

Each ``vN_store`` module names a scenario, the tables it fills and a snapshot of
what the readers see; ``data/make_store.py N`` runs the scenario with the billdrift
of schema version N and saves the rows as that code wrote them and what that code
read back. :func:`write_old_store` puts those rows into a fresh store held at
version N, so the test can upgrade it with today's code and compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from billdrift.history import open_store, schema
from billdrift.history._sql import SqlStore


def write_old_store(
    location: str,
    monkeypatch: pytest.MonkeyPatch,
    version: int,
    fixture: dict[str, Any],
    tables: Sequence[str],
) -> None:
    """A store at schema `version` holding `fixture`'s rows of `tables` (in that
    order: references first), as that version wrote them."""
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:version])
        patch.setattr(schema, "LATEST", version)
        store = open_store(location)
        assert isinstance(store, SqlStore)
        with store, store._locked():
            for table in tables:
                columns, rows = (
                    fixture["tables"][table]["columns"],
                    fixture["tables"][table]["rows"],
                )
                store._exec_many(
                    f"INSERT INTO {table} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' * len(columns))})",
                    rows,
                )
                if store.dialect == "postgresql" and "id" in columns:
                    store._exec(
                        f"SELECT setval(pg_get_serial_sequence(?, 'id'), max(id)) FROM {table}",
                        (table,),
                    )
            assert store._current_version() == version
