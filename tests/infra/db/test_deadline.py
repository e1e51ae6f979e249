"""A database that answers one byte a second, says nothing, or stalls mid-query cannot
hold billdrift: the whole read (connect to last row) ends by ``app.timeout_seconds``
(``billing.mirror_timeout_seconds``, ``history.timeout_seconds``), and the run ends
with exit 2 and an error naming the database (password redacted), the deadline and
the setting.

The misbehaving peers are real sockets: a fake server on 127.0.0.1 that trickles
(or withholds) its greeting, and a proxy in front of the real PostgreSQL and MariaDB
servers that turns into a trickle once the rows are asked for.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from billdrift.config import AppConfig, BillingConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.history import HistoryError, open_store
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Deadline, Timeouts, bounded
from billdrift.sources.app.database import DatabaseAppSource
from billdrift.sources.billing.stripe_mirror import StripeMirrorSource
from tests.cli.test_cli import AS_OF, BILLING_CSV
from tests.fakes.stall_proxy import StallProxy
from tests.fakes.trickle import TrickleServer
from tests.infra.db.conftest import Database

#: A PostgreSQL server that refuses TLS ("N") and then starts an authentication
#: message announcing 4 KiB: at one byte a second, no single read ever times out.
PG_TRICKLE = b"N" + b"R\x00\x00\x10\x00" + b"\x00" * 4096
#: A MariaDB handshake packet announcing 4095 bytes, trickled the same way.
MARIADB_TRICKLE = b"\xff\x0f\x00\x00\x0a" + b"5.5.5-10.11.0-MariaDB" * 200
TRICKLES = {"postgresql": PG_TRICKLE, "mariadb": MARIADB_TRICKLE}
#: A password with a reserved character (sent URL-encoded): never printed.
PASSWORD, ENCODED = "Dead?line-S3cret", "Dead%3Fline-S3cret"
#: Seconds allowed between the deadline and the end of a test's read, timed from the
#: moment the peer starts misbehaving (its first connection, or the stall): handling
#: the cut on a loaded machine. A read that is not cut ends only when the peer or the
#: driver gives up (10 s and more), so every bound below stays under that.
SLACK = 5.0
#: The least a read that is not cut would take: libpq's own give-up when not told.
UNCUT = 10.0
USERS = (
    "CREATE TABLE users (id VARCHAR(10), email VARCHAR(50), stripe_customer_id VARCHAR(10), "
    "has_paid_access BOOLEAN, plan VARCHAR(10))"
)


def _users(database: Database, rows: int = 200) -> None:
    values = ", ".join(f"('u{i}', 'u{i}@example.com', 'cus_{i}', TRUE, 'pro')" for i in range(rows))
    database.run(USERS, f"INSERT INTO users VALUES {values}")


def _check(server: TrickleServer, *args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """`billdrift check` as a real process (JSON report), and how long it ran from its
    first connection to `server` (its start-up and imports, which load stretches, aside)."""
    command = [sys.executable, "-m", "billdrift", "check", *args, "--as-of", AS_OF]
    done = subprocess.run(
        [*command, "--format", "json"], capture_output=True, text=True, env=os.environ, timeout=60
    )
    return done, server.since_first_connection()


def _proxied(url: str, port: int) -> str:
    """`url` pointing at the proxy on `port` instead of the server."""
    head, _, tail = url.rpartition("@")
    _, _, path = tail.partition("/")
    return f"{head}@127.0.0.1:{port}/{path}"


@pytest.mark.parametrize("scheme", ["postgresql", "mariadb"])
@pytest.mark.parametrize("silent", [False, True], ids=["trickles", "says-nothing"])
def test_a_trickling_or_silent_server_ends_the_check_with_exit_2(
    tmp_path: Path, scheme: str, silent: bool
) -> None:
    billing = tmp_path / "subs.csv"
    billing.write_text(BILLING_CSV, encoding="utf-8")
    config = tmp_path / "billdrift.toml"
    config.write_text("[app]\ntimeout_seconds = 2\n", encoding="utf-8")
    interval = 60.0 if silent else 1.0
    with TrickleServer(TRICKLES[scheme], read_request=False, interval=interval) as server:
        url = f"{scheme}://admin:{ENCODED}@127.0.0.1:{server.port}/app"
        done, took = _check(
            server, "--billing", str(billing), "--app", url, "--config", str(config)
        )
    assert done.returncode == 2, done.stderr
    assert server.connections >= 1
    said = f"{scheme}://admin:***@127.0.0.1:{server.port}/app: no complete answer within 2 s"
    assert said in done.stderr and "app.timeout_seconds" in done.stderr
    (error,) = json.loads(done.stdout)["errors"]
    assert said in error
    assert PASSWORD not in done.stdout + done.stderr and ENCODED not in done.stdout + done.stderr
    # The process ends soon after the deadline; uncut, the fake server would hold it
    # for 20 s (libpq gave up after 10 s when not told).
    assert took < 2 + SLACK < UNCUT, took


def test_a_stall_mid_result_is_cut_by_the_deadline(database: Database) -> None:
    _users(database)
    target = (database.server.host, database.server.port)
    # The SELECT that streams the rows names its first column c0: the proxy lets the
    # login, read-only checks and introspection through, then trickles the rows.
    with StallProxy(target, b" AS c0", limit=25) as proxy:
        url = _proxied(database.url, proxy.port)
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            DatabaseAppSource(url, AppConfig(timeout_seconds=3)).read()
        took, stalled = time.monotonic() - started, proxy.since_stall()
    assert "no complete answer within 3 s" in str(caught.value)
    assert "app.timeout_seconds" in str(caught.value) and "adminpw" not in str(caught.value)
    assert took >= 3 and stalled < 3 + SLACK < UNCUT, (took, stalled)


def test_a_mirror_read_that_stalls_is_cut_by_its_own_setting(pg: Database) -> None:
    pg.run(
        "CREATE SCHEMA stripe",
        "CREATE TABLE stripe.subscriptions (_raw_data jsonb, id text, customer text, status text)",
        "INSERT INTO stripe.subscriptions VALUES (NULL, 'sub_1', 'cus_1', 'active')",
    )
    target = (pg.server.host, pg.server.port)
    # Only the SELECT that reads the subscriptions names this column.
    with StallProxy(target, b"_raw_data", limit=25) as proxy:
        url = _proxied(pg.url, proxy.port)
        source = StripeMirrorSource(url, BillingConfig(mirror_timeout_seconds=2))
        with pytest.raises(SourceError, match=r"billing\.mirror_timeout_seconds"):
            source.read()
        took = proxy.since_stall()
    assert took < 2 + SLACK < UNCUT, took


def test_a_query_that_runs_too_long_is_cut_by_the_deadline(pg: Database) -> None:
    _users(pg, rows=3)
    options = AppConfig(
        query="SELECT u.* FROM users u CROSS JOIN pg_sleep(30)",
        allow_writable_role=True,  # the test's admin is a superuser
        timeout_seconds=2,
    )
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"no complete answer within 2 s .*app\.timeout_seconds"):
        DatabaseAppSource(pg.url, options).read()
    # Timed from before the connect (no peer to time from): uncut, pg_sleep holds 30 s.
    assert time.monotonic() - started < 2 + 2 * SLACK < 30


def test_a_query_within_the_deadline_is_read_whole(pg: Database) -> None:
    _users(pg, rows=3)
    options = AppConfig(
        query="SELECT u.* FROM users u CROSS JOIN pg_sleep(0.5)",
        allow_writable_role=True,
        timeout_seconds=10,
    )
    data = DatabaseAppSource(pg.url, options).read()
    assert data.accounts.num_rows == 3


def test_the_server_limits_statements_to_the_time_left(database: Database) -> None:
    """The server's own limit is set too (a backstop that ends the query at the server,
    not only billdrift's wait for it)."""
    setting = (
        "SELECT setting::float / 1000 FROM pg_settings WHERE name = 'statement_timeout'"
        if database.dialect == "postgresql"
        else "SELECT @@session.max_statement_time"
    )
    started = time.monotonic()
    with (
        bounded("db", Timeouts(5, "app.timeout_seconds")) as deadline,
        connect(database.url, deadline) as con,
    ):
        (row,) = con.fetch(setting)
    # What was left when the limit was set: at most the 5 s, at least what remained once
    # the connection was made (however long a loaded machine took to make it).
    assert 5 - (time.monotonic() - started) - 0.01 <= float(str(row[0])) <= 5, row


def test_a_connect_timeout_that_is_not_a_number_is_a_config_error(pg: Database) -> None:
    with pytest.raises(ConfigError, match="connect_timeout='soon'"):
        connect(pg.url + "?connect_timeout=soon")


def test_a_trickling_history_store_ends_the_check_with_exit_2(tmp_path: Path) -> None:
    billing = tmp_path / "subs.csv"
    billing.write_text(BILLING_CSV, encoding="utf-8")
    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,true\n", encoding="utf-8")
    config = tmp_path / "billdrift.toml"
    config.write_text("[history]\ntimeout_seconds = 2\n", encoding="utf-8")
    with TrickleServer(PG_TRICKLE, read_request=False) as server:
        url = f"postgresql://admin:{ENCODED}@127.0.0.1:{server.port}/app"
        done, took = _check(
            server,
            "--billing",
            str(billing),
            "--app",
            str(app),
            "--history",
            url,
            "--config",
            str(config),
        )
    assert done.returncode == 2, done.stderr
    said = f"history store postgresql://admin:***@127.0.0.1:{server.port}/app"
    assert said in done.stderr, done.stderr
    assert "no complete answer within 2 s" in done.stderr
    assert "history.timeout_seconds" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr and ENCODED not in done.stdout + done.stderr
    assert took < 2 + SLACK < UNCUT, took


def test_a_history_store_that_stalls_mid_transaction_is_cut(pg: Database) -> None:
    open_store(pg.url).close()  # created, so opening it again only reads
    target = (pg.server.host, pg.server.port)
    with StallProxy(target, b"schema_version", limit=25) as proxy:
        with pytest.raises(HistoryError, match=r"no complete answer within 2 s"):
            open_store(_proxied(pg.url, proxy.port), timeout=2)
        took = proxy.since_stall()
    assert took < 2 + SLACK < UNCUT, took


def test_the_drivers_connect_timeout_applies_unless_the_deadline_comes_first() -> None:
    assert Deadline(Timeouts(100, connect=15)).connect_seconds() == 15
    assert Deadline(Timeouts(100, connect=15)).connect_seconds(5) == 5  # the URL's, shorter
    # The deadline comes first: the driver waits a second longer, so the deadline's cut
    # (and its message) ends the connect.
    assert 10 < Deadline(Timeouts(10, connect=15)).connect_seconds() <= 11


def test_only_a_failure_once_the_deadline_passed_is_reported_as_the_deadlines() -> None:
    with pytest.raises(ValueError), bounded("db", Timeouts(5, "x.timeout_seconds")):
        raise ValueError("a driver error, in time")
    with (
        pytest.raises(SourceError, match=r"^db: no complete answer within 0\.1 s .*x\.timeout"),
        bounded("db", Timeouts(0.1, "x.timeout_seconds")),
    ):
        time.sleep(0.3)
        raise ValueError("the cut socket's error")
