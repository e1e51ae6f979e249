"""App data from a live PostgreSQL or MySQL/MariaDB database, read-only.

``--app postgresql://...``, ``mysql://...``, ``mariadb://...`` or ``env:NAME``
(the URL stays in the environment). The table comes from ``app.table``
(``schema.table`` accepted), from ``app.query`` (a custom read-only SELECT for
apps whose access lives across tables), or is picked automatically when
exactly one table looks like accounts. Every name from configuration is quoted
as an identifier, never pasted into SQL.

Rows stream in Arrow batches through :class:`~billdrift.sources.app.batches.BatchReader`,
so memory follows the canonical result, not the table. When the credentials
could write, the report says so and gives the SQL for a read-only role: the
session is read-only regardless, but a role that cannot write is the real
guarantee. The whole read, connect to last row, ends by ``app.timeout_seconds``
(see :mod:`billdrift.infra.db.deadline`).
"""

from __future__ import annotations

from billdrift.config import AppConfig
from billdrift.core.model import AppData
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Timeouts, bounded
from billdrift.infra.db.interface import ReadOnlyConnection, Table
from billdrift.infra.db.urls import is_database_url, resolve
from billdrift.sources.app.batches import BatchReader, Origin, alias
from billdrift.sources.app.columns import ColumnMapping, detect_columns, detection_note
from billdrift.sources.app.interface import AppSource
from billdrift.sources.app.read_only_query import check_read_only_query
from billdrift.sources.app.slicing import slice_where
from billdrift.sources.app.sqlite import SqliteAppSource

#: Types read as they are (no cast to text by the server): booleans, which Arrow
#: reads exactly, and on MySQL text and binary strings, which arrive as bytes and
#: are checked for valid UTF-8 by Arrow. A server-side CAST would silently turn
#: invalid bytes into "?" (MariaDB), hiding a broken value behind a plausible one.
_NATIVE = frozenset({"boolean", "bool"})
_MYSQL_STRINGS = frozenset(
    {"char", "varchar", "text", "tinytext", "mediumtext", "longtext", "binary", "varbinary"}
    | {"blob", "tinyblob", "mediumblob", "longblob", "enum", "set"}
    # the same, as a query's result columns name them (pymysql FIELD_TYPE)
    | {"var_string", "string", "tiny_blob", "medium_blob", "long_blob"}
)


class DatabaseAppSource(AppSource):
    kind = "database"

    @classmethod
    def accepts(cls, location: str) -> bool:
        return is_database_url(location) and not location.startswith("sqlite:")

    def read(self) -> AppData:
        url = resolve(self.location)
        if url.dialect == "sqlite":  # env:NAME may hold a sqlite:/// URL
            source = SqliteAppSource(url.raw, self.options)
            source.only = self.only
            return source.read()
        limits = Timeouts(self.options.timeout_seconds, "app.timeout_seconds")
        with bounded(url.shown, limits) as deadline, connect(url, deadline) as con:
            plan = _plan(con, self.options)
            select = _select(con, plan)
            params: list[str] = []
            if self.only is not None:
                where, params = slice_where(plan.mapping, self.only, con.quote, con.placeholder)
                select += where
            notes = list(plan.notes)
            if note := detection_note(plan.mapping, f"{url.shown} ({plan.label})"):
                notes.append(note)
            if self.only is None:  # a one-customer read repeats no set-up advice
                notes += _write_warning(con, plan)
            origin = Origin(url.shown, plan.label, con.server_version())
            return BatchReader(plan.mapping, origin).read(con.stream(select, params), notes)


class _Plan:
    """What to read: the FROM clause, the columns it offers and how they map."""

    def __init__(
        self,
        from_sql: str,
        label: str,
        mapping: ColumnMapping,
        types: dict[str, str],
        table: str | None,
        notes: tuple[str, ...] = (),
    ) -> None:
        self.from_sql = from_sql
        self.label = label
        self.mapping = mapping
        self.types = types
        self.table = table
        self.notes = notes


def plan_read(con: ReadOnlyConnection, options: AppConfig) -> _Plan:
    """What a read of the app side takes: the FROM clause, its column types and mapping
    (also what a check run inside the database defines its relations over)."""
    return _plan(con, options)


def _plan(con: ReadOnlyConnection, options: AppConfig) -> _Plan:
    where = con.url.shown
    if options.query is not None:
        query = check_read_only_query(options.query)
        hatches = [] if options.allow_writable_role else con.escape_hatches()
        if hatches:
            raise SourceError(
                f"refusing app.query on {where}: a query can call functions, and these "
                f"credentials can change things a read-only, rolled-back transaction does "
                f"not undo: {'; '.join(hatches)}. Connect as a role that can only read "
                "(`billdrift doctor` prints the SQL), or set app.allow_writable_role = true "
                "to accept the risk"
            )
        columns = con.query_columns(query)
        mapping = detect_columns(
            [column.name for column in columns], options, f"the result of app.query on {where}"
        )
        types = {column.name: column.type for column in columns}
        return _Plan(f"(\n{query}\n) AS q", "query", mapping, types, None)
    tables = con.tables()
    if options.table is not None:
        table = _find_table(tables, options.table, where)
        return _table_plan(con, table, options, ())
    fits = []
    for table in tables:
        try:
            detect_columns([c.name for c in table.columns], options, table.qualified)
        except (SourceError, ConfigError):
            continue
        fits.append(table)
    listing = ", ".join(table.qualified for table in tables) or "(none)"
    if not fits:
        raise SourceError(
            f"no table in {where} looks like app accounts (an account id column plus an "
            f"access column); tables: {listing}. Pass --app-table (app.table) or app.query"
        )
    if len(fits) > 1:
        names = ", ".join(table.qualified for table in fits)
        raise ConfigError(
            f"several tables in {where} look like app accounts: {names}. Pass --app-table "
            "(or set app.table) to choose one"
        )
    note = (
        f"{where}: no app.table given; using {fits[0].qualified}, the only table that "
        "looks like accounts"
    )
    return _table_plan(con, fits[0], options, (note,))


def _table_plan(
    con: ReadOnlyConnection, table: Table, options: AppConfig, notes: tuple[str, ...]
) -> _Plan:
    mapping = detect_columns(
        [column.name for column in table.columns], options, f"table {table.qualified}"
    )
    types = {column.name: column.type for column in table.columns}
    from_sql = f"{con.quote(table.schema)}.{con.quote(table.name)}"
    return _Plan(from_sql, table.qualified, mapping, types, table.qualified, notes)


def _find_table(tables: list[Table], name: str, where: str) -> Table:
    """``table`` or ``schema.table``; exact first, then case-insensitive if unambiguous."""
    schema, _, bare = name.rpartition(".")
    candidates = [t for t in tables if t.name == bare and (not schema or t.schema == schema)]
    if not candidates:
        candidates = [
            t
            for t in tables
            if t.name.lower() == bare.lower() and (not schema or t.schema.lower() == schema.lower())
        ]
    if len(candidates) == 1:
        return candidates[0]
    listing = ", ".join(t.qualified for t in tables) or "(none)"
    if len(candidates) > 1:
        names = ", ".join(t.qualified for t in candidates)
        raise ConfigError(f"app.table {name!r} is ambiguous in {where} ({names}); add the schema")
    raise ConfigError(f"app.table {name!r} does not exist in {where}; tables: {listing}")


def select_sql(con: ReadOnlyConnection, plan: _Plan) -> str:
    """The SELECT a read of `plan` runs (a kept connection's slice reads add a WHERE)."""
    return _select(con, plan)


def _select(con: ReadOnlyConnection, plan: _Plan) -> str:
    """Mapped columns, each under a neutral alias; text-like casts done by the server
    so every driver hands over text (or a native boolean) whatever the column type."""
    text = "TEXT" if con.dialect == "postgresql" else "CHAR"
    items = []
    for index, name in enumerate(plan.mapping.columns()):
        column = f"q.{con.quote(name)}" if plan.table is None else con.quote(name)
        kind = plan.types.get(name, "").lower()
        base = kind.split("(", 1)[0].strip()
        native = kind in _NATIVE or (con.dialect == "mysql" and base in _MYSQL_STRINGS)
        expression = column if native else f"CAST({column} AS {text})"
        items.append(f"{expression} AS {alias(index)}")
    return f"SELECT {', '.join(items)} FROM {plan.from_sql}"


def _write_warning(con: ReadOnlyConnection, plan: _Plan) -> list[str]:
    tables = [plan.table] if plan.table else []
    writes = con.write_access(tables)
    if not writes:
        return []
    role_sql = con.read_only_role_sql(tables).replace("\n", " ")
    return [
        f"the credentials for {con.url.shown} could write ({'; '.join(writes)}). billdrift "
        "only reads and its session is read-only, but a role that cannot write is the real "
        f"guarantee: {role_sql} (run `billdrift doctor` for details)"
    ]
