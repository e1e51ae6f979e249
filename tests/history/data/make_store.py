"""Writes vN_store.json for ``tests/history/vN_store.py``: run it with the billdrift
of schema version N first on PYTHONPATH, e.g. ``PYTHONPATH=OLD/src:. python
tests/history/data/make_store.py 6`` from a checkout of this repository (version 1
is commit 47844d5, version 6 commit 9187eb4, version 8 commit a2e560a)."""

from __future__ import annotations

import importlib
import sqlite3
import sys
import tempfile
from pathlib import Path

import orjson

from billdrift.history import open_store


def main(version: int) -> None:
    scenario = importlib.import_module(f"tests.history.v{version}_store")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.sqlite"
        with open_store(path) as store:
            assert store.schema_version() == version, (
                f"run this with the billdrift of schema version {version}"
            )
            scenario.SCENARIO(store)
            expected = scenario.snapshot(store)
        with sqlite3.connect(path) as con:
            tables = {}
            for table in scenario.TABLES:
                cursor = con.execute(f"SELECT * FROM {table} ORDER BY rowid")
                columns = [d[0] for d in cursor.description]
                tables[table] = {"columns": columns, "rows": cursor.fetchall()}
    scenario.FIXTURE.write_bytes(
        orjson.dumps({"tables": tables, "expected": expected}, option=orjson.OPT_INDENT_2) + b"\n"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]))
