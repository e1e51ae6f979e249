"""One customer's accounts, read with bound parameters: only their rows, whatever the
values hold, from PostgreSQL and SQLite alike."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from billdrift.config import AppColumns, AppConfig
from billdrift.errors import ConfigError
from billdrift.sources.app.interface import Slice
from billdrift.sources.registry import open_app
from tests.infra.db.conftest import Database
from tests.listen.harness import USERS

ROWS = [
    ("1", "Ann@Example.com", "cus_A", True),
    ("2", "b@example.com", "cus_B", False),
    ("3", "c@example.com", None, True),
    ("4", "x' OR '1'='1", "cus_X", True),
]
OPTIONS = AppConfig(
    table="users",
    columns=AppColumns(account_id="id", customer_id="stripe_customer_id", email="email"),
    access_fields=("has_access",),
)


def _read(location: str, only: Slice) -> list[str]:
    source = open_app(location, OPTIONS)
    source.only = only
    return sorted(source.read().accounts.column("account_id").to_pylist())


def _cases(location: str) -> None:
    assert _read(location, Slice(customers=("cus_A",))) == ["1"]
    assert _read(location, Slice(customers=("cus_B",), emails=("c@example.com",))) == ["2", "3"]
    assert _read(location, Slice(emails=("ann@example.com",))) == []  # stored mixed case
    assert _read(location, Slice(emails=("Ann@Example.com",))) == ["1"]  # as given
    assert _read(location, Slice(emails=("C@EXAMPLE.COM",))) == ["3"]  # lower-cased too
    assert _read(location, Slice(customers=("' OR 1=1 --",), emails=("x' OR '1'='1",))) == ["4"]
    assert _read(location, Slice()) == []


def test_postgresql_reads_only_the_slice(pg: Database) -> None:
    pg.run(*USERS)
    for row in ROWS:
        pg.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=row)
    _cases(pg.url)


def test_sqlite_reads_only_the_slice(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(";".join(USERS))
        con.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", ROWS)
    con.close()
    _cases(str(path))


def test_a_csv_app_cannot_be_sliced(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("id,email,stripe_customer_id,has_access\n1,a@x.com,cus_A,true\n")
    with pytest.raises(ConfigError, match="needs the app in a database"):
        _read(str(path), Slice(customers=("cus_A",)))
