"""A fresh database per test on the session's throwaway servers, so tests never share tables."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from tests.dbservers import ADMIN_PASSWORD, ADMIN_USER, MariaDBServer, PostgresServer

_NAMES = itertools.count(1)


@dataclass
class Database:
    """One empty database: its admin URL and a way to run set-up SQL in it."""

    dialect: str
    url: str
    name: str
    server: PostgresServer | MariaDBServer
    execute: Callable[..., list[tuple[Any, ...]]]

    def url_as(self, user: str, password: str | None) -> str:
        return self.server.url_for(user, password, database=self.name)

    def run(self, *statements: str, params: Sequence[Any] | None = None) -> None:
        for statement in statements:
            self.execute(statement, params)

    def reader_url(self) -> str:
        """A login that can only read this database's tables (made once per database;
        call it after the tables exist): what the README asks users to connect as."""
        user, password = f"reader_{self.name}", "readerpw"
        if self.dialect == "postgresql":
            self.run(
                f"DO $$ BEGIN CREATE ROLE {user} LOGIN PASSWORD '{password}'; "
                "EXCEPTION WHEN duplicate_object THEN NULL; END $$",
                f"GRANT CONNECT ON DATABASE {self.name} TO {user}",
                f"GRANT USAGE ON SCHEMA public TO {user}",
                f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {user}",
            )
        else:
            self.run(
                f"CREATE USER IF NOT EXISTS '{user}'@'%' IDENTIFIED BY '{password}'",
                f"GRANT SELECT ON {self.name}.* TO '{user}'@'%'",
            )
        return self.url_as(user, password)


def _fresh(server: PostgresServer | MariaDBServer, dialect: str) -> Database:
    name = f"t{next(_NAMES)}_{dialect[:2]}"
    if dialect == "postgresql":
        server.execute(f"CREATE DATABASE {name} OWNER {ADMIN_USER}", database="postgres")
    else:
        server.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")

    def execute(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return server.execute(sql, params, database=name)

    return Database(
        dialect, server.url_for(ADMIN_USER, ADMIN_PASSWORD, name), name, server, execute
    )


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Database:
    return _fresh(postgres_server, "postgresql")


@pytest.fixture
def maria(mariadb_server: MariaDBServer) -> Database:
    return _fresh(mariadb_server, "mysql")


@pytest.fixture(params=["postgresql", "mysql"])
def database(
    request: pytest.FixtureRequest,
) -> Database:
    """Both dialects, one test body."""
    fixture = "postgres_server" if request.param == "postgresql" else "mariadb_server"
    server = request.getfixturevalue(fixture)
    return _fresh(server, request.param)
