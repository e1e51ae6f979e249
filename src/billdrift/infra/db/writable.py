"""The one write-enabled connection billdrift opens: for ``fix apply``, and only there.

Every other connection is read-only at the server (:mod:`billdrift.infra.db.interface`).
This one can write, so it is opened only from a URL a person passed explicitly
(never the configured ``[app]`` source), runs one transaction the caller commits
or rolls back, and turns driver errors into messages scrubbed of the password.
A SQLite file must exist (``mode=rw``): a typo never creates an empty database.

Each statement has a deadline (``fix apply --statement-timeout``), at the server
where there is one: PostgreSQL's ``statement_timeout`` (lock waits included),
MariaDB's ``max_statement_time`` or MySQL's ``max_execution_time``, with InnoDB's
``innodb_lock_wait_timeout`` for a row another transaction holds; SQLite's busy
timeout and a progress handler. A statement past it fails, the transaction is
rolled back, and the error says which limit passed.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.urls import DatabaseUrl, is_database_url, resolve

#: Seconds one statement may run, or wait for a lock, unless told otherwise.
STATEMENT_SECONDS: Final = 30.0
#: Where the limit is changed, as errors say.
STATEMENT_SETTING: Final = "--statement-timeout"


class Cursor(Protocol):
    rowcount: int

    def execute(self, sql: str) -> Any: ...

    def fetchone(self) -> Any: ...


@dataclass
class WriteSession:
    """An open transaction: run SQL text (no parameters: values are already quoted
    by the SQL library that generated it), then the caller commits or not."""

    url: DatabaseUrl
    cursor: Cursor
    connection: Any
    committed: bool = False
    #: Seconds one statement may take (the server enforces it; see the module).
    statement_seconds: float = STATEMENT_SECONDS
    #: When the running statement must end (SQLite's progress handler reads it).
    ends: float = field(default=math.inf)

    def commit(self) -> None:
        try:
            self.connection.commit()
        except Exception as error:
            raise SourceError(f"{self.url.shown}: {self.url.scrub(str(error))}") from None
        self.committed = True

    def execute(self, sql: str) -> int:
        """Run one statement within the statement deadline; the rows it matched."""
        started = time.monotonic()
        self.ends = started + self.statement_seconds
        try:
            self.cursor.execute(sql)
        except Exception as error:  # any driver's error class
            if time.monotonic() - started >= 0.95 * self.statement_seconds:
                raise SourceError(
                    f"{self.url.shown}: a statement ran, or waited for a row another "
                    f"transaction holds, longer than {self.statement_seconds:g} s "
                    f"({STATEMENT_SETTING} changes it); everything was rolled back"
                ) from None
            raise SourceError(f"{self.url.shown}: {self.url.scrub(str(error))}") from None
        finally:
            self.ends = math.inf
        return int(self.cursor.rowcount)

    def count(self, sql: str) -> int:
        """Run a ``SELECT COUNT(*)``; its number."""
        self.execute(sql)
        row = self.cursor.fetchone()
        return int(row[0]) if row else 0


def writable_url(location: str) -> DatabaseUrl:
    """A database URL, ``env:NAME``, or the path of an existing SQLite file."""
    if is_database_url(location):
        return resolve(location)
    path = Path(location)
    if not path.is_file():
        raise ConfigError(
            f"{location!r} is neither a database URL (postgresql://, mysql://, sqlite:///, "
            "env:NAME) nor an existing SQLite file"
        )
    return DatabaseUrl("sqlite", None, None, None, None, str(path), (), None, "")


def _sqlite_path(url: DatabaseUrl) -> str:
    if not url.raw:
        return url.database or ""
    path = url.raw[len("sqlite:///") :].split("?", 1)[0]
    if not url.raw.startswith("sqlite:///") or not path:
        raise ConfigError(
            f"{url.shown}: expected sqlite:///relative/app.db or sqlite:////abs/app.db"
        )
    return path


@contextmanager
def transaction(
    url: DatabaseUrl, statement_seconds: float = STATEMENT_SECONDS
) -> Iterator[WriteSession]:
    """One transaction on `url`: committed only if the block calls
    :meth:`WriteSession.commit`, rolled back otherwise (and if the block raises).
    Each statement may take `statement_seconds`, lock waits included."""
    try:
        con = _connect(url, statement_seconds)
    except ConfigError:
        raise
    except Exception as error:
        raise SourceError(f"cannot connect to {url.shown}: {url.scrub(str(error))}") from None
    session = WriteSession(url, con.cursor(), con, statement_seconds=statement_seconds)
    try:
        _limit(session, statement_seconds)
        if url.dialect == "sqlite":
            session.execute("BEGIN IMMEDIATE")
        yield session
    finally:
        try:
            if not session.committed:
                con.rollback()
        finally:
            con.close()


def _limit(session: WriteSession, seconds: float) -> None:
    """Set the statement deadline at the server, for this session."""
    dialect = session.url.dialect
    if dialect == "sqlite":
        # Called every 1,000 virtual-machine steps; non-zero interrupts the statement.
        session.connection.set_progress_handler(lambda: int(time.monotonic() > session.ends), 1000)
        return
    version = ""
    if dialect == "mysql":
        session.execute("SELECT VERSION()")
        version = str((session.cursor.fetchone() or ("",))[0])
    for statement in deadline_statements(dialect, version, seconds):
        session.execute(statement)


def deadline_statements(dialect: str, version: str, seconds: float) -> list[str]:
    """The session settings that bound each statement of `dialect` (a MySQL-protocol
    server's ``SELECT VERSION()`` in `version`) to `seconds`, lock waits included.

    MariaDB's ``max_statement_time`` bounds every statement. MySQL's
    ``max_execution_time`` bounds read-only SELECTs only, so there an UPDATE is
    bounded only while it waits for a row lock another transaction holds, by InnoDB's
    ``innodb_lock_wait_timeout`` (whole seconds, at least 1), set on both flavours.
    (MySQL itself is not among the servers the tests run: the choice is tested, the
    MySQL server's behaviour is not.)"""
    if dialect == "postgresql":
        return [f"SET statement_timeout = {max(1, math.ceil(seconds * 1000))}"]
    if dialect != "mysql":
        return []
    lock_wait = f"SET SESSION innodb_lock_wait_timeout = {max(1, math.ceil(seconds))}"
    if "mariadb" in version.lower():
        return [f"SET SESSION max_statement_time = {seconds:g}", lock_wait]
    return [f"SET SESSION max_execution_time = {math.ceil(seconds * 1000)}", lock_wait]


def _connect(url: DatabaseUrl, statement_seconds: float) -> Any:
    options = dict(url.query)
    if url.dialect == "sqlite":
        path = _sqlite_path(url)
        if not Path(path).is_file():
            raise ConfigError(f"{url.shown}: no SQLite database at {path}")
        uri = Path(path).resolve().as_uri() + "?mode=rw"
        # A lock another connection holds is waited for as long as a statement may run.
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=statement_seconds)
    if url.dialect == "postgresql":
        import psycopg
        from psycopg.conninfo import make_conninfo

        options.setdefault("connect_timeout", "15")
        conninfo = make_conninfo(
            "",
            host=url.host,
            port=url.port,
            user=url.user,
            password=url.password,
            dbname=url.database,
            **options,
        )
        return psycopg.connect(conninfo)
    if url.dialect == "mysql":
        import pymysql
        from pymysql.constants import CLIENT

        return pymysql.connect(
            host=url.host or "localhost",
            port=url.port or 3306,
            user=url.user or "",
            password=url.password or "",
            database=url.database,
            connect_timeout=15,
            charset="utf8mb4",
            autocommit=False,
            # rowcount = rows matched, not rows whose value differed: a guard that
            # matched is told apart from one that did not.
            client_flag=CLIENT.FOUND_ROWS,
        )
    raise ConfigError(f"{url.shown}: cannot write to {url.dialect} databases")
