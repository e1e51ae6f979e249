"""One rule for a repeated account id, whatever the app source (issue 19, claim 4).

The same accounts, as a CSV file, a SQLite table and a SQLite ``app.query``, in
both row orders: every copy of a repeated id is skipped, each skip names the id
and how often it appears, and what is kept does not depend on the order of the
rows. (PostgreSQL and MariaDB: ``tests/infra/db/test_app_database.py``.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from billdrift.config import AppConfig
from billdrift.core.model import AppData
from billdrift.sources.app.csv_file import CsvAppSource
from billdrift.sources.app.repeats import repeated_reason, repeated_rows
from tests.sources.app.helpers import make_db, read_db

ROWS = [
    ("a1", "cus_1", "true"),
    ("a2", "cus_2", "true"),
    ("a1", "cus_9", "false"),  # the same id, another customer and flag
    ("a3", "cus_3", "false"),
    ("a1", "cus_1", "true"),  # a third copy, identical to the first
]


def _csv(folder: Path, rows: list[tuple[str, str, str]]) -> AppData:
    path = folder / "users.csv"
    lines = ["id,stripe_customer_id,has_paid_access", *(",".join(row) for row in rows)]
    path.write_text("\n".join(lines) + "\n")
    return CsvAppSource(str(path), AppConfig()).read()


def _sqlite(folder: Path, rows: list[tuple[str, str, str]], query: str | None = None) -> AppData:
    path = make_db(
        folder / "app.db",
        "CREATE TABLE users (id TEXT, stripe_customer_id TEXT, has_paid_access TEXT);",
        {"users": rows},
    )
    return read_db(path) if query is None else read_db(path, query=query)


READERS: dict[str, Callable[[Path, list[tuple[str, str, str]]], AppData]] = {
    "csv": _csv,
    "sqlite": _sqlite,
    "sqlite-query": lambda folder, rows: _sqlite(
        folder, rows, "SELECT id, stripe_customer_id, has_paid_access FROM users"
    ),
}


@pytest.mark.parametrize("order", ["as-written", "reversed"])
@pytest.mark.parametrize("source", list(READERS))
def test_every_copy_of_a_repeated_id_is_skipped(tmp_path: Path, source: str, order: str) -> None:
    rows = ROWS if order == "as-written" else ROWS[::-1]
    data = READERS[source](tmp_path, rows)
    assert sorted(data.accounts.column("account_id").to_pylist()) == ["a2", "a3"]
    assert sorted(set(data.signals.column("account_id").to_pylist())) == ["a2", "a3"]
    repeated = [skip for skip in data.skips if "'a1' appears 3 times" in skip.reason]
    assert len(repeated) == len(data.skips) == 3
    assert sorted(skip.customer_id or "" for skip in repeated) == ["cus_1", "cus_1", "cus_9"]
    assert all(skip.field == "id" for skip in repeated)


def test_the_reason_names_the_places_of_the_first_copies() -> None:
    def place(k: int) -> str:
        return f"line {k + 2}"

    assert repeated_reason("a1", (0, 2), place) == (
        "account id 'a1' appears 2 times (line 2, line 4); every copy is skipped, "
        "since which one holds cannot be told"
    )
    many = repeated_reason("x", tuple(range(7)), place)
    assert many.startswith("account id 'x' appears 7 times (line 2, line 3, line 4, line 5, ")
    assert "line 6 and 2 more);" in many
    assert repeated_reason("x", (4, 9), None).startswith("account id 'x' appears 2 times;")


def test_repeated_rows_finds_every_copy_and_ignores_empty_ids() -> None:
    found = repeated_rows(pa.chunked_array([["a", None, "b"], ["a", None, "c", "a"]]))
    assert found.rows == (0, 3, 6)
    assert found.of("a") == (0, 3, 6) and found.of("b") == ()
    assert not repeated_rows(pa.chunked_array([["a", None, None, "b"]]))


def test_asked_on_a_callers_connection_the_same_rows_and_its_relations_untouched() -> None:
    """A source passes its own DuckDB connection (no second database per read): the
    answer is the same, and a relation the caller registered under a common name is
    still its own afterwards."""
    con = duckdb.connect()
    mine = pa.table({"id": ["kept"]})
    con.register("ids", mine)
    repeated = pa.array(["a1", "a2", "a1", None, None, "a3", "a1"])
    distinct = pa.array(["a1", "a2", None, None])
    assert repeated_rows(repeated, con) == repeated_rows(repeated)
    assert repeated_rows(repeated, con).rows == (0, 2, 6)
    assert not repeated_rows(distinct, con)
    assert con.execute("SELECT id FROM ids").fetchall() == [("kept",)]
    names = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    assert not any(name.startswith("billdrift_ids_") for name in names)
