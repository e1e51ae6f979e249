"""PostgreSQL through ADBC: rows arrive as Arrow record batches (binary COPY), no
per-row Python, and the session is read-only before the first statement.

Read-only is set three times over: the connection starts with
``default_transaction_read_only=on`` (libpq ``options``), so every transaction is
read-only; the server is asked to confirm it (``transaction_read_only``) before
anything is read; and every statement runs inside ``BEGIN TRANSACTION READ ONLY``
... ``ROLLBACK``. A SQL write fails with SQLSTATE 25006, and what read-only does
not stop on PostgreSQL (large-object functions such as ``lo_from_bytea`` or
``lo_unlink`` in a custom query) is rolled back. What no transaction undoes
(``dblink_exec`` writing through a second connection; files and programs on the
server for a superuser) is named by :meth:`PostgresConnection.escape_hatches`.

Time is bounded by the connection's deadline (:mod:`billdrift.infra.db.deadline`):
libpq's ``connect_timeout`` and the server's ``statement_timeout`` are set from the
time left, and the socket (found as ADBC opens it) is shut down when it passes.
"""

from __future__ import annotations

import contextlib
import math
import socket
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote, urlencode

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from billdrift.errors import SourceError
from billdrift.infra.db.deadline import (
    Deadline,
    asked_connect_timeout,
    opened_sockets,
    serving,
    unwatched,
)
from billdrift.infra.db.interface import OWN_SCHEMA, Column, ReadOnlyConnection, Table
from billdrift.infra.db.urls import DatabaseUrl

_READ_ONLY_OPTION = "-c default_transaction_read_only=on"
#: Never candidates for app accounts or a billing mirror: the system's and billdrift's own.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", OWN_SCHEMA)
_WRITES = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def literal(text: str) -> str:
    """A SQL string literal (quotes doubled); for values that cannot be bound."""
    return "'" + text.replace("'", "''") + "'"


def libpq_uri(url: DatabaseUrl, deadline: Deadline | None = None) -> str:
    """The URL as libpq wants it: no ``+driver``, read-only, and the connect and
    statement time-outs of `deadline` (a ``connect_timeout`` in the URL may only
    shorten it; a ``statement_timeout`` in its ``options`` wins)."""
    limits = deadline or unwatched()
    params = dict(url.query)
    statements = f"-c statement_timeout={math.ceil(limits.left() * 1000)}"
    options = params.get("options", "")
    params["options"] = f"{statements} {options} {_READ_ONLY_OPTION}".replace("  ", " ")
    asked = asked_connect_timeout(params)
    # libpq takes whole seconds (and reads anything under 2 as 2).
    params["connect_timeout"] = str(math.ceil(limits.connect_seconds(asked)))
    params.setdefault("application_name", "billdrift")
    auth = ""
    if url.user:
        auth = quote(url.user, safe="")
        if url.password is not None:
            auth += ":" + quote(url.password, safe="")
        auth += "@"
    host = url.host or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = f":{url.port}" if url.port and host else ""
    database = quote(url.database or "", safe="")
    return f"postgresql://{auth}{host}{port}/{database}?{urlencode(params, quote_via=quote)}"


class PostgresConnection(ReadOnlyConnection):
    dialect = "postgresql"
    quote_char = '"'

    def __init__(self, url: DatabaseUrl, deadline: Deadline | None = None) -> None:
        super().__init__(url, deadline)
        self._sockets: list[socket.socket] = []
        uri = libpq_uri(url, self.deadline)
        try:
            # Autocommit: each statement is its own (read-only) transaction, so a long
            # read holds no snapshot open beyond its own statement.
            self._con, self._sockets = opened_sockets(
                lambda: adbc.connect(uri, autocommit=True),
                serving(url.port or 5432, f".s.PGSQL.{url.port or 5432}"),
                self.deadline,
            )
        except Exception as error:  # every driver failure becomes a SourceError
            raise self.error("connecting", _explain(error)) from None
        for sock in self._sockets:
            self.deadline.watch(sock)
        if not self.read_only():
            self.close()
            raise self.error("opening a read-only session", RuntimeError("not read-only"))

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._con.cursor() as cursor, _rolled_back(cursor):
                cursor.execute(sql, params or None)
                return [tuple(row) for row in cursor.fetchall()]
        except Exception as error:
            raise self.error("a query", _explain(error)) from None

    def fetch_with(
        self,
        sql: str,
        settings: Sequence[tuple[str, str]],
        memory: Sequence[tuple[str, str]] = (),
    ) -> list[tuple[Any, ...]]:
        """:meth:`fetch` with planner settings for this statement only (``SET LOCAL``,
        inside its read-only transaction): a pushed-down plan is one large statement
        whose row estimates multiply, and JIT compiling it took 80 s for 0.7 s of work.

        `memory` settings (such as ``work_mem``) are raised to the size given, never
        lowered: a server configured with more keeps its own."""
        try:
            with self._con.cursor() as cursor, _rolled_back(cursor):
                for name, value in settings:
                    cursor.execute(f"SET LOCAL {name} = {literal(value)}")
                for name, size in memory:
                    current = f"pg_catalog.current_setting({literal(name)})"
                    cursor.execute(
                        f"SELECT pg_catalog.set_config({literal(name)}, CASE WHEN "
                        f"pg_catalog.pg_size_bytes({current}) "
                        f"< pg_catalog.pg_size_bytes({literal(size)}) THEN {literal(size)} "
                        f"ELSE {current} END, true)"
                    )
                cursor.execute(sql)
                return [tuple(row) for row in cursor.fetchall()]
        except Exception as error:
            raise self.error("a query", _explain(error)) from None

    def placeholder(self, number: int) -> str:
        return f"${number}"

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[pa.RecordBatch]:
        cursor = self._con.cursor()
        try:
            with _rolled_back(cursor):
                try:
                    cursor.execute(sql, tuple(params) or None)
                    reader = cursor.fetch_record_batch()
                except Exception as error:
                    raise self.error("a query", _explain(error)) from None
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        return
                    except Exception as error:
                        raise self.error("reading rows", _explain(error)) from None
                    yield batch
        except SourceError:
            raise
        except Exception as error:  # the transaction could not begin
            raise self.error("a query", _explain(error)) from None
        finally:
            cursor.close()

    def query_columns(self, sql: str) -> list[Column]:
        try:
            with self._con.cursor() as cursor, _rolled_back(cursor):
                cursor.execute(f"SELECT * FROM (\n{sql}\n) AS q LIMIT 0")
                schema = cursor.fetch_arrow_table().schema
        except Exception as error:
            raise self.error("a query", _explain(error)) from None
        return [Column(field.name, _type_name(field)) for field in schema]

    def escape_hatches(self) -> list[str]:
        found: list[str] = []
        role = self.fetch(
            "SELECT current_user, rolsuper, "
            "pg_has_role(current_user, 'pg_write_server_files', 'MEMBER'), "
            "pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER') "
            "FROM pg_roles WHERE rolname = current_user"
        )
        if role and role[0][1]:
            found.append(
                f"role {role[0][0]} is a superuser (server files and programs, any function)"
            )
        elif role and (role[0][2] or role[0][3]):
            found.append(f"role {role[0][0]} may write server files or run server programs")
        dblink = self.fetch(
            "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname IN "
            "('dblink_exec', 'dblink_connect', 'dblink', 'dblink_send_query') "
            "AND has_function_privilege(current_user, p.oid, 'EXECUTE') ORDER BY 1"
        )
        if dblink:
            found.append(
                "dblink is installed and executable (dblink_exec writes through a second "
                "connection that no read-only transaction covers)"
            )
        return found

    def tables(self) -> list[Table]:
        rows = self.fetch(
            "SELECT c.table_schema, c.table_name, c.column_name, "
            "CASE WHEN c.data_type = 'USER-DEFINED' THEN c.udt_name ELSE c.data_type END, "
            "t.table_type "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            f"WHERE c.table_schema NOT IN ({', '.join(literal(s) for s in _SYSTEM_SCHEMAS)}) "
            "AND c.table_schema NOT LIKE 'pg\\_%' "
            "ORDER BY c.table_schema, c.table_name, c.ordinal_position"
        )
        return _group(rows)

    def read_only(self) -> bool:
        rows = self.fetch("SELECT current_setting('transaction_read_only')")
        return bool(rows) and str(rows[0][0]).lower() == "on"

    def server_version(self) -> str:
        rows = self.fetch("SELECT current_setting('server_version')")
        return f"PostgreSQL {rows[0][0]}" if rows else "PostgreSQL"

    def write_access(self, tables: Sequence[str]) -> list[str]:
        found: list[str] = []
        role = self.fetch(
            "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        if role and role[0][1]:
            found.append(f"role {role[0][0]} is a superuser (can write anything)")
        large_objects = self.fetch(
            "SELECT current_setting('lo_compat_privileges') = 'on', count(m.oid) "
            "FROM pg_largeobject_metadata m RIGHT JOIN pg_roles r "
            "ON m.lomowner = r.oid WHERE r.rolname = current_user"
        )
        if large_objects and (large_objects[0][0] or large_objects[0][1]):
            scope = "any" if large_objects[0][0] else f"the {large_objects[0][1]} it owns"
            found.append(
                f"large objects: {scope} (lo_put, lo_unlink run in a read-only session; "
                "billdrift rolls back every statement, so they are undone)"
            )
        found += [hatch for hatch in self.escape_hatches() if "dblink" in hatch]
        names = list(tables) or [table.qualified for table in self.tables()][:500]
        for name in names:
            checks = ", ".join(
                f"has_table_privilege(current_user, {literal(self.qualify(name))}, '{write}')"
                for write in _WRITES
            )
            rows = self.fetch(f"SELECT {checks}")
            granted = [write for write, ok in zip(_WRITES, rows[0], strict=True) if ok]
            if granted:
                found.append(f"{', '.join(granted)} on {name}")
        return found

    def read_only_role_sql(self, tables: Sequence[str]) -> str:
        role = "billdrift_readonly"
        schemas = sorted({name.split(".", 1)[0] if "." in name else "public" for name in tables})
        lines = [
            f"CREATE ROLE {role} LOGIN PASSWORD 'choose-a-strong-password';",
            f"ALTER ROLE {role} SET default_transaction_read_only = on;",
            f"GRANT CONNECT ON DATABASE {self.quote(self.url.database or 'postgres')} TO {role};",
        ]
        lines += [f"GRANT USAGE ON SCHEMA {self.quote(schema)} TO {role};" for schema in schemas]
        if tables:
            lines += [f"GRANT SELECT ON {self.qualify(name)} TO {role};" for name in tables]
        else:
            lines += [
                f"GRANT SELECT ON ALL TABLES IN SCHEMA {self.quote(schema)} TO {role};"
                for schema in schemas
            ]
        return "\n".join(lines)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort on a broken connection
            self._con.close()
        for sock in self._sockets:  # after the connection: the duplicates kept it open
            sock.close()


@contextlib.contextmanager
def _rolled_back(cursor: Any) -> Iterator[None]:
    """The statements run on `cursor` inside a read-only transaction that is always
    rolled back, whatever they did (see the module docstring)."""
    cursor.execute("BEGIN TRANSACTION READ ONLY")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a broken connection has nothing to undo
            cursor.execute("ROLLBACK")


def _type_name(field: pa.Field) -> str:
    metadata = field.metadata or {}
    raw = metadata.get(b"POSTGRESQL:type")
    return raw.decode() if raw else str(field.type)


def _group(rows: list[tuple[Any, ...]]) -> list[Table]:
    tables: dict[tuple[str, str], tuple[str, list[Column]]] = {}
    for schema, name, column, kind, table_type in rows:
        entry = tables.setdefault(
            (str(schema), str(name)), ("view" if "VIEW" in str(table_type) else "table", [])
        )
        entry[1].append(Column(str(column), str(kind).lower()))
    return [
        Table(schema, name, tuple(columns), kind)
        for (schema, name), (kind, columns) in tables.items()
    ]


def _explain(error: BaseException) -> BaseException:
    """The driver's message with libpq's prefixes trimmed and a hint for common faults."""
    text = str(error)
    for prefix in ("IO: ", "INVALID_STATE: ", "INVALID_ARGUMENT: ", "[libpq] "):
        text = text.replace(prefix, "")
    lowered = text.lower()
    hint = ""
    if "password authentication failed" in lowered or "no password supplied" in lowered:
        hint = " (check the user name and password in the URL)"
    elif "connection refused" in lowered:
        hint = " (is the server running, and is the host and port right?)"
    elif "does not exist" in lowered and "database" in lowered:
        hint = " (check the database name at the end of the URL)"
    elif "could not translate host name" in lowered:
        hint = " (check the host name)"
    elif "timeout expired" in lowered:
        hint = " (no login within the connect timeout; the URL's connect_timeout sets it)"
    return RuntimeError(text.strip() + hint)
