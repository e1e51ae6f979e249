"""Writes v6_store.json: run it with the billdrift of schema version 6 (commit 9187eb4)
first on PYTHONPATH, e.g. ``PYTHONPATH=OLD/src:. python tests/history/data/make_v6_store.py``
from a checkout of this repository. See tests/history/v6_store.py."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import orjson
from tests.history.v6_store import FIXTURE, TABLES, record_v6_scenario, snapshot

from billdrift.history import open_store


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite"
        with open_store(path) as store:
            assert store.schema_version() == 6, "run this with the billdrift of schema version 6"
            record_v6_scenario(store)
            expected = snapshot(store)
        with sqlite3.connect(path) as con:
            tables = {}
            for table in TABLES:
                cursor = con.execute(f"SELECT * FROM {table} ORDER BY rowid")
                columns = [d[0] for d in cursor.description]
                tables[table] = {"columns": columns, "rows": cursor.fetchall()}
    FIXTURE.write_bytes(
        orjson.dumps({"tables": tables, "expected": expected}, option=orjson.OPT_INDENT_2) + b"\n"
    )


if __name__ == "__main__":
    main()
