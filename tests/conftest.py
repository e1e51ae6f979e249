"""Shared fixtures: snapshot comparison with a regenerate switch; throwaway DB servers."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from tests.dbservers import BinariesMissingError, MariaDBServer, PostgresServer

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("BILLDRIFT_UPDATE_SNAPSHOTS") == "1"


@pytest.fixture
def snapshot() -> Callable[[str, str], None]:
    """Compare text with tests/snapshots/NAME; BILLDRIFT_UPDATE_SNAPSHOTS=1 rewrites it."""

    def check(name: str, text: str) -> None:
        path = SNAPSHOTS / name
        if UPDATE or not path.exists():
            if not UPDATE and os.environ.get("CI"):
                pytest.fail(f"snapshot {name} is missing; run with BILLDRIFT_UPDATE_SNAPSHOTS=1")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert text == path.read_text(encoding="utf-8"), (
            f"output differs from tests/snapshots/{name}; if intended, rerun with "
            "BILLDRIFT_UPDATE_SNAPSHOTS=1 and review the diff"
        )

    return check


#: How many servers the DB fixtures started this session, by kind. tests/infra/db checks it stays
#: at 1: a server per test would make the DB tests slow enough that people stop running them.
DB_SERVER_STARTS: Counter[str] = Counter()

Server = TypeVar("Server", PostgresServer, MariaDBServer)


def start_or_fail(factory: Callable[[], Server]) -> Server:
    """Start a server, turning missing binaries into a test FAILURE, never a skip.

    A skip would let a machine without the servers pass while testing none of the DB code.
    """
    try:
        return factory()
    except BinariesMissingError as exc:
        pytest.fail(f"{exc}\n(tests start real DB servers; see scripts/install_test_servers.sh)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL for the whole session, started only if a test asks for it.

    Use ``.admin_url`` (admin:adminpw, database testdb) or ``.url`` (postgres, no password);
    ``.execute(sql)`` runs SQL as admin. Tests share it: create uniquely named tables.
    """
    server = start_or_fail(PostgresServer)
    DB_SERVER_STARTS["postgres"] += 1
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """A real MariaDB for the whole session, started only if a test asks for it.

    Use ``.admin_url`` (admin:adminpw, database testdb) or ``.url`` (root:rootpw);
    ``.execute(sql)`` runs SQL as admin. Tests share it: create uniquely named tables.
    """
    server = start_or_fail(MariaDBServer)
    DB_SERVER_STARTS["mariadb"] += 1
    yield server
    server.stop()
