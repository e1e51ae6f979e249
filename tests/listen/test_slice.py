"""One customer's accounts, read with bound parameters: only their rows, whatever the
values hold, from PostgreSQL, MariaDB and SQLite alike, opened per read or on a
connection kept between reads (the listener's :class:`SliceReader`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from billdrift.config import AppColumns, AppConfig
from billdrift.errors import ConfigError
from billdrift.sources.app.interface import Slice
from billdrift.sources.app.kept import SliceReader
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


Read = Callable[[Slice], list[str]]


def _opened(location: str) -> Read:
    """Each read opens the source (as a scheduled check would)."""

    def read(only: Slice) -> list[str]:
        source = open_app(location, OPTIONS)
        source.only = only
        return sorted(source.read().accounts.column("account_id").to_pylist())

    return read


def _kept(reader: SliceReader) -> Read:
    return lambda only: sorted(reader.read(only).accounts.column("account_id").to_pylist())


def _cases(read: Read, folds_case: bool = False) -> None:
    """`folds_case`: the column's collation compares case-insensitively (MariaDB's
    default), so a lower-cased email finds a mixed-case one there."""
    assert read(Slice(customers=("cus_A",))) == ["1"]
    assert read(Slice(customers=("cus_B",), emails=("c@example.com",))) == ["2", "3"]
    # Stored mixed case: found only where the collation folds case.
    assert read(Slice(emails=("ann@example.com",))) == (["1"] if folds_case else [])
    assert read(Slice(emails=("Ann@Example.com",))) == ["1"]  # as given
    assert read(Slice(emails=("C@EXAMPLE.COM",))) == ["3"]  # lower-cased too
    assert read(Slice(customers=("' OR 1=1 --",), emails=("x' OR '1'='1",))) == ["4"]
    assert read(Slice()) == []
    # A batch of customers in one query: each one's accounts, nobody else's.
    assert read(Slice(customers=("cus_A", "cus_B"), emails=("c@example.com",))) == [
        "1",
        "2",
        "3",
    ]


def _both(location: str, folds_case: bool = False) -> SliceReader:
    _cases(_opened(location), folds_case)
    reader = SliceReader(location, OPTIONS, open_app)
    try:
        _cases(_kept(reader), folds_case)
    finally:
        reader.close()
    return reader


def test_postgresql_reads_only_the_slice_on_one_kept_connection(pg: Database) -> None:
    pg.run(*USERS)
    for row in ROWS:
        pg.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=row)
    assert _both(pg.url).opened == 1  # eight reads, one connection and introspection


def test_mariadb_reads_only_the_slice_on_one_kept_connection(maria: Database) -> None:
    maria.run(
        "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, email VARCHAR(255), "
        "stripe_customer_id VARCHAR(64), has_access BOOLEAN NOT NULL)",
        "CREATE INDEX users_customer ON users (stripe_customer_id)",
        "CREATE INDEX users_email ON users (email)",
    )
    for row in ROWS:
        maria.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=row)
    assert _both(maria.url, folds_case=True).opened == 1


def test_sqlite_reads_only_the_slice(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    with sqlite3.connect(path) as con:
        con.executescript(";".join(USERS))
        con.executemany("INSERT INTO users VALUES (?, ?, ?, ?)", ROWS)
    con.close()
    assert _both(str(path)).opened == 0  # a local file is opened per read


def test_a_kept_connection_that_died_is_replaced_and_the_read_succeeds(pg: Database) -> None:
    pg.run(*USERS)
    pg.run("INSERT INTO users VALUES (%s, %s, %s, %s)", params=ROWS[0])
    reader = SliceReader(pg.url, OPTIONS, open_app)
    try:
        assert _kept(reader)(Slice(customers=("cus_A",))) == ["1"]
        killed = pg.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'billdrift' AND pid <> pg_backend_pid()"
        )
        assert killed == [(True,)]  # the kept connection is gone (as after a restart)
        assert _kept(reader)(Slice(customers=("cus_A",))) == ["1"]
        assert reader.opened == 2
    finally:
        reader.close()


def test_a_csv_app_cannot_be_sliced(tmp_path: Path) -> None:
    path = tmp_path / "users.csv"
    path.write_text("id,email,stripe_customer_id,has_access\n1,a@x.com,cus_A,true\n")
    with pytest.raises(ConfigError, match="needs the app in a database"):
        _opened(str(path))(Slice(customers=("cus_A",)))
