"""The one write-enabled connection billdrift opens: for ``fix apply``, and only there.

Every other connection is read-only at the server (:mod:`billdrift.infra.db.interface`).
This one can write, so it is opened only from a URL a person passed explicitly
(never the configured ``[app]`` source), runs one transaction the caller commits
or rolls back, and turns driver errors into messages scrubbed of the password.
A SQLite file must exist (``mode=rw``): a typo never creates an empty database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.urls import DatabaseUrl, is_database_url, resolve


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

    def commit(self) -> None:
        try:
            self.connection.commit()
        except Exception as error:
            raise SourceError(f"{self.url.shown}: {self.url.scrub(str(error))}") from None
        self.committed = True

    def execute(self, sql: str) -> int:
        """Run one statement; the rows it matched."""
        try:
            self.cursor.execute(sql)
        except Exception as error:  # any driver's error class
            raise SourceError(f"{self.url.shown}: {self.url.scrub(str(error))}") from None
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
def transaction(url: DatabaseUrl) -> Iterator[WriteSession]:
    """One transaction on `url`: committed only if the block calls
    :meth:`WriteSession.commit`, rolled back otherwise (and if the block raises)."""
    try:
        con = _connect(url)
    except ConfigError:
        raise
    except Exception as error:
        raise SourceError(f"cannot connect to {url.shown}: {url.scrub(str(error))}") from None
    session = WriteSession(url, con.cursor(), con)
    try:
        if url.dialect == "sqlite":
            session.execute("BEGIN IMMEDIATE")
        yield session
    finally:
        try:
            if not session.committed:
                con.rollback()
        finally:
            con.close()


def _connect(url: DatabaseUrl) -> Any:
    options = dict(url.query)
    if url.dialect == "sqlite":
        path = _sqlite_path(url)
        if not Path(path).is_file():
            raise ConfigError(f"{url.shown}: no SQLite database at {path}")
        uri = Path(path).resolve().as_uri() + "?mode=rw"
        return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
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
