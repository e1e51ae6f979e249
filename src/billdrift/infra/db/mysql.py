"""MySQL and MariaDB through PyMySQL (pure Python: nothing to compile, same code for both).

The session is read-only at the server: ``SET SESSION TRANSACTION READ ONLY``
and every read inside ``START TRANSACTION READ ONLY``; a write fails with
error 1792. Rows stream from an unbuffered cursor (``SSCursor``) in batches
that become Arrow arrays at once, so memory stays bounded. Text arrives as raw
bytes and is decoded by Arrow, which checks it is UTF-8 in C; a value that is
not becomes a reported skip upstream instead of a crash or a silent mangle.

Time is bounded by the connection's deadline (:mod:`billdrift.infra.db.deadline`):
PyMySQL's connect, read and write timeouts and the server's statement limit
(MariaDB's ``max_statement_time``, MySQL's ``max_execution_time``) are set from the
time left, and the socket is shut down when it passes, mid-handshake included.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pymysql
import pymysql.connections
import pymysql.cursors
import pymysql.err

from billdrift.infra.db.deadline import Deadline, asked_connect_timeout
from billdrift.infra.db.interface import Column, ReadOnlyConnection, Table
from billdrift.infra.db.urls import DatabaseUrl

_BATCH = 65536
_UNKNOWN_VARIABLE = 1193
_SYSTEM_SCHEMAS = ("mysql", "information_schema", "performance_schema", "sys")
_WRITES = ("INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "ALL PRIVILEGES")


class MySqlConnection(ReadOnlyConnection):
    dialect = "mysql"
    quote_char = "`"

    def __init__(self, url: DatabaseUrl, deadline: Deadline | None = None) -> None:
        super().__init__(url, deadline)
        params = dict(url.query)
        try:
            asked = asked_connect_timeout(params)
            left = self.deadline.left()
            self._con = pymysql.connections.Connection(
                host=url.host or "localhost",
                port=url.port or 3306,
                user=url.user or "",
                password=url.password or "",
                database=url.database,
                unix_socket=params.get("unix_socket"),
                charset="utf8mb4",
                connect_timeout=self.deadline.connect_seconds(asked),
                read_timeout=left,
                write_timeout=left,
                use_unicode=False,  # bytes in; Arrow decodes and validates UTF-8
                autocommit=True,
                defer_connect=True,  # so the deadline can cut the handshake too
            )
            # PyMySQL's socket (replaced by a TLS one mid-handshake): no public name.
            self.deadline.watch(lambda: getattr(self._con, "_sock", None))
            self._con.connect()
            with self._con.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")
                _limit_statements(cursor, self.deadline.left())
        except Exception as error:  # every driver failure becomes a SourceError
            raise self.error("connecting", _explain(error)) from None
        if not self.read_only():
            self.close()
            raise self.error("opening a read-only session", RuntimeError("not read-only"))

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._con.cursor() as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                cursor.execute(sql, tuple(params) or None)
                rows = [tuple(_text(value) for value in row) for row in cursor.fetchall()]
                cursor.execute("COMMIT")
                return rows
        except Exception as error:
            self._rollback()
            raise self.error("a query", _explain(error)) from None

    def placeholder(self, number: int) -> str:
        return "%s"

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[pa.RecordBatch]:
        cursor = pymysql.cursors.SSCursor(self._con)
        try:
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(sql, tuple(params) or None)
            names = [str(column[0]) for column in cursor.description or ()]
            while True:
                rows = cursor.fetchmany(_BATCH)
                if not rows:
                    break
                columns = list(zip(*rows, strict=True))
                yield pa.record_batch([_arrow(values) for values in columns], names=names)
            cursor.execute("COMMIT")
        except Exception as error:
            self._rollback()
            raise self.error("a query", _explain(error)) from None
        finally:
            cursor.close()

    def query_columns(self, sql: str) -> list[Column]:
        try:
            with self._con.cursor() as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                cursor.execute(f"SELECT * FROM (\n{sql}\n) AS q LIMIT 0")
                description = cursor.description or ()
                cursor.execute("COMMIT")
        except Exception as error:
            self._rollback()
            raise self.error("a query", _explain(error)) from None
        return [Column(str(column[0]), _field_type(column[1])) for column in description]

    def tables(self) -> list[Table]:
        placeholders = ", ".join(["%s"] * len(_SYSTEM_SCHEMAS))
        rows = self.fetch(
            "SELECT c.table_schema, c.table_name, c.column_name, c.column_type, t.table_type "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
            f"WHERE c.table_schema NOT IN ({placeholders}) "
            "AND (DATABASE() IS NULL OR c.table_schema = DATABASE()) "
            "ORDER BY c.table_schema, c.table_name, c.ordinal_position",
            _SYSTEM_SCHEMAS,
        )
        tables: dict[tuple[str, str], tuple[str, list[Column]]] = {}
        for schema, name, column, kind, table_type in rows:
            entry = tables.setdefault(
                (str(schema), str(name)), ("view" if "VIEW" in str(table_type) else "table", [])
            )
            entry[1].append(Column(str(column), str(kind).lower()))
        return [Table(s, n, tuple(columns), kind) for (s, n), (kind, columns) in tables.items()]

    def read_only(self) -> bool:
        for variable in ("@@session.transaction_read_only", "@@session.tx_read_only"):
            try:
                rows = self.fetch(f"SELECT {variable}")
            except Exception:  # the other server has the other name
                continue
            return bool(rows) and str(rows[0][0]) == "1"
        return False

    def server_version(self) -> str:
        rows = self.fetch("SELECT VERSION()")
        version = str(rows[0][0]) if rows else ""
        return f"MariaDB {version}" if "mariadb" in version.lower() else f"MySQL {version}"

    def write_access(self, tables: Sequence[str]) -> list[str]:
        grants = [str(row[0]) for row in self.fetch("SHOW GRANTS FOR CURRENT_USER()")]
        database = self.url.database or ""
        found = []
        for grant in grants:
            upper = grant.upper()
            scope = upper.split(" ON ", 1)[1].split(" TO ", 1)[0] if " ON " in upper else ""
            relevant = scope.startswith("*.*") or (
                database and database.upper() in scope.replace("`", "")
            )
            writes = [write for write in _WRITES if write in upper.split(" ON ", 1)[0]]
            if relevant and writes:
                found.append(f"{', '.join(writes)} on {scope.strip().lower()}")
        return found

    def read_only_role_sql(self, tables: Sequence[str]) -> str:
        user = "'billdrift_readonly'@'%'"
        database = self.quote(self.url.database or "app")
        lines = [f"CREATE USER {user} IDENTIFIED BY 'choose-a-strong-password';"]
        if tables:
            lines += [
                f"GRANT SELECT ON {database}.{self.quote(name.split('.')[-1])} TO {user};"
                for name in tables
            ]
        else:
            lines.append(f"GRANT SELECT ON {database}.* TO {user};")
        return "\n".join(lines)

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection may already be gone
            self._con.rollback()

    def close(self) -> None:
        with contextlib.suppress(Exception):  # best effort on a broken connection
            self._con.close()


def _limit_statements(cursor: Any, seconds: float) -> None:
    """The server ends any statement still running after `seconds`: MariaDB's
    ``max_statement_time`` (every statement), else MySQL's ``max_execution_time``
    (SELECTs, in milliseconds). A server with neither keeps no limit of its own."""
    for setting in (
        f"SET SESSION max_statement_time = {seconds:.3f}",
        f"SET SESSION max_execution_time = {max(1, round(seconds * 1000))}",
    ):
        try:
            cursor.execute(setting)
            return
        except pymysql.err.OperationalError as error:
            if not error.args or error.args[0] != _UNKNOWN_VARIABLE:
                raise


def _text(value: object) -> object:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _arrow(values: Sequence[object]) -> pa.Array:
    """One column of a batch as Arrow: text stays bytes (binary) until validated."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(_text(v)) for v in values], pa.string())


def _field_type(code: object) -> str:
    from pymysql.constants import FIELD_TYPE

    names: dict[object, str] = {}
    for name, value in vars(FIELD_TYPE).items():  # CHAR and INTERVAL are aliases: keep first
        if name.isupper() and name not in ("CHAR", "INTERVAL"):
            names.setdefault(value, name.lower())
    return names.get(code, str(code))


def _explain(error: BaseException) -> BaseException:
    args: tuple[object, ...] = tuple(getattr(error, "args", ()))
    code = args[0] if args and isinstance(args[0], int) else None
    message = str(args[1]) if len(args) > 1 else str(error)
    hint = ""
    if code == 1045:
        hint = " (check the user name and password in the URL)"
    elif code == 2003:
        hint = " (is the server running, and is the host and port right?)"
    elif code == 1049:
        hint = " (check the database name at the end of the URL)"
    prefix = f"error {code}: " if code else ""
    return RuntimeError(prefix + message + hint)
