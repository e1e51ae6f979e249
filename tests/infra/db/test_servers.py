"""The throwaway DB servers are real: they store data, enforce passwords, and clean up.

These guard the test infrastructure itself: if a fixture silently fell back to a fake, a
skip, or a passwordless server, every DB source test built on it would prove less than it
claims.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import psycopg
import pymysql
import pytest

from tests import dbservers
from tests.conftest import DB_SERVER_STARTS, start_or_fail
from tests.dbservers import (
    ADMIN_USER,
    BinariesMissingError,
    MariaDBServer,
    PostgresServer,
    ServerStartError,
)

ROWS = [(1, "ann@example.com", 29.5), (2, "bob@example.com", None), (3, "Zoë ✓", 0.0)]


def mysql_connect(url: str) -> Any:
    """Connect with PyMySQL from a mysql:// URL (PyMySQL itself takes no URLs)."""
    parts = urlsplit(url)
    assert parts.scheme == "mysql", url
    return pymysql.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        database=parts.path.lstrip("/") or None,
        autocommit=True,
    )


def table_name() -> str:
    """A fresh table name: the server is shared by the whole session."""
    return f"t_{uuid.uuid4().hex[:12]}"


def port_refuses(port: int, timeout_s: float = 10.0) -> bool:
    """True once nothing accepts TCP connections on 127.0.0.1:port (a killed server)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return True
        time.sleep(0.05)
    return False


def test_postgres_admin_url_stores_and_reads_back_rows(postgres_server: PostgresServer) -> None:
    table = table_name()
    with psycopg.connect(postgres_server.admin_url) as conn:
        user, database, superuser = conn.execute(
            "SELECT current_user, current_database(), current_setting('is_superuser')"
        ).fetchone() or (None, None, None)
        assert (user, database, superuser) == (ADMIN_USER, "testdb", "on")
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, email text, amount float8)")
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", ROWS)
    # A new connection: the rows were committed, not just visible in the writing session.
    assert postgres_server.execute(f"SELECT * FROM {table} ORDER BY id") == ROWS
    assert DB_SERVER_STARTS["postgres"] == 1


def test_mariadb_admin_url_stores_and_reads_back_rows(mariadb_server: MariaDBServer) -> None:
    table = table_name()
    conn = mysql_connect(mariadb_server.admin_url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user(), database()")
            assert cur.fetchone() == (f"{ADMIN_USER}@127.0.0.1", "testdb")
            cur.execute(
                f"CREATE TABLE {table} (id int PRIMARY KEY, email varchar(100), amount double)"
                " CHARACTER SET utf8mb4"
            )
            cur.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s)", ROWS)
    finally:
        conn.close()
    assert mariadb_server.execute(f"SELECT * FROM {table} ORDER BY id") == ROWS
    assert DB_SERVER_STARTS["mariadb"] == 1


def test_postgres_refuses_a_wrong_or_missing_password(postgres_server: PostgresServer) -> None:
    for password in ("wrong", None):
        url = postgres_server.url_for(ADMIN_USER, password, "testdb")
        with pytest.raises(psycopg.OperationalError, match="password") as info:
            psycopg.connect(url, connect_timeout=10, sslmode="disable").close()
        assert "127.0.0.1" in str(info.value)
    assert DB_SERVER_STARTS["postgres"] == 1


def test_mariadb_refuses_a_wrong_or_missing_password(mariadb_server: MariaDBServer) -> None:
    for user, password in [(ADMIN_USER, "wrong"), (ADMIN_USER, None), ("root", None)]:
        with pytest.raises(pymysql.err.OperationalError) as info:
            mysql_connect(mariadb_server.url_for(user, password)).close()
        assert info.value.args[0] == 1045, info.value  # ER_ACCESS_DENIED_ERROR
    assert DB_SERVER_STARTS["mariadb"] == 1


def test_bootstrap_urls_connect_as_the_bootstrap_superuser(
    postgres_server: PostgresServer, mariadb_server: MariaDBServer
) -> None:
    with psycopg.connect(postgres_server.url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    conn = mysql_connect(mariadb_server.url)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT current_user()")
            assert cur.fetchone() == ("root@127.0.0.1",)
    finally:
        conn.close()


def test_fixtures_share_one_server_per_kind_across_tests(
    postgres_server: PostgresServer, mariadb_server: MariaDBServer
) -> None:
    # Every test above requests the fixtures too; a per-test server would push these past 1.
    assert DB_SERVER_STARTS == {"postgres": 1, "mariadb": 1}
    # And each fixture is the live server it says it is.
    assert postgres_server.execute("SELECT inet_server_port()") == [(postgres_server.port,)]
    assert mariadb_server.execute("SELECT @@port") == [(mariadb_server.port,)]


def test_stop_kills_the_server_and_deletes_its_directory() -> None:
    server = PostgresServer()
    assert server.execute("SELECT 1") == [(1,)]
    server.stop()
    assert port_refuses(server.port)
    assert not server.tmp.exists()


def own_pg_dirs() -> set[Path]:
    """Temp dirs of PostgreSQL servers this process created and has not deleted."""
    return {
        path
        for path in Path(tempfile.gettempdir()).glob(dbservers.PG_PREFIX + "*")
        if (path / dbservers.OWNER_FILE).read_text(encoding="ascii") == str(os.getpid())
    }


def test_a_start_failure_raises_with_the_server_log_and_cleans_up() -> None:
    before = own_pg_dirs()
    with pytest.raises(ServerStartError) as info:
        PostgresServer(server_options=["shared_buffers=not-a-size"])
    message = str(info.value)
    assert "server.log" in message  # the log tail is in the error, not just "exit 1"
    assert 'invalid value for parameter "shared_buffers"' in message
    assert own_pg_dirs() == before


def test_a_server_left_by_a_killed_run_is_reaped_by_the_next_start() -> None:
    server = PostgresServer()
    try:
        dead = subprocess.Popen(["true"])
        dead.wait()
        # Pretend the owning pytest process was SIGKILLed: its atexit hook never ran.
        (server.tmp / dbservers.OWNER_FILE).write_text(str(dead.pid))
        dbservers.reap_orphans(dbservers.PG_PREFIX)
        assert port_refuses(server.port)
        assert not server.tmp.exists()
    finally:
        server.stop()


def test_missing_binaries_fail_the_fixture_instead_of_skipping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "")
    with pytest.raises(BinariesMissingError, match=r"install_test_servers\.sh"):
        dbservers.find_postgres_bindir(Path("/nonexistent"))

    def missing() -> PostgresServer:
        raise BinariesMissingError("initdb not found; run scripts/install_test_servers.sh")

    with pytest.raises(pytest.fail.Exception, match=r"install_test_servers\.sh"):
        start_or_fail(missing)
