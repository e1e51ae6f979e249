"""What the SQLite source reads: the table (configured or the one like accounts) or query.

Names from configuration are matched against the database's own tables
(``schema.table`` accepted, case folded when that is unambiguous) and always
quoted, never pasted into SQL. Rows are labelled by rowid where the table has a
stable one, so a skipped row can be found again; the SELECT fetches the mapped
columns as stored, converted afterwards in Arrow.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from billdrift.config import AppConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.quoting import quote_identifier
from billdrift.sources.app.columns import ColumnMapping, detect_columns
from billdrift.sources.app.read_only_query import check_read_only_query


@dataclass(frozen=True)
class ReadPlan:
    """What to read: the FROM clause, its mapping, and how rows are labelled."""

    database: str
    from_sql: str  # "main"."users"  or  (user query) AS q
    label: str  # "users" or "query", used in source_ref
    mapping: ColumnMapping
    has_rowid: bool
    notes: tuple[str, ...] = ()
    #: The account id column *is* the rowid (INTEGER PRIMARY KEY): fetch it once.
    rowid_alias: bool = False


def _tables(con: sqlite3.Connection, schema: str = "main", views: bool = True) -> list[str]:
    kinds = "('table', 'view')" if views else "('table')"
    rows = con.execute(
        f"SELECT name FROM {quote_identifier(schema)}.sqlite_master WHERE type IN {kinds} "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _table_columns(con: sqlite3.Connection, schema: str, table: str) -> list[str]:
    rows = con.execute("SELECT name FROM pragma_table_info(?, ?)", (table, schema)).fetchall()
    return [str(row[0]) for row in rows]


def plan_read(con: sqlite3.Connection, database: str, options: AppConfig) -> ReadPlan:
    if options.query is not None:
        return _query_plan(con, database, options)
    if options.table is not None:
        schema, table = _resolve_table(con, database, options.table)
        columns = _table_columns(con, schema, table)
        mapping = detect_columns(columns, options, f"table {table!r} of {database}")
        return _table_plan(con, database, schema, table, mapping, ())
    return _auto_table(con, database, options)


def _table_plan(
    con: sqlite3.Connection,
    database: str,
    schema: str,
    table: str,
    mapping: ColumnMapping,
    notes: tuple[str, ...],
) -> ReadPlan:
    from_sql = f"{quote_identifier(schema)}.{quote_identifier(table)}"
    kind = con.execute(
        f"SELECT type FROM {quote_identifier(schema)}.sqlite_master WHERE name = ?", (table,)
    ).fetchall()
    has_rowid = bool(kind) and kind[0][0] == "table"  # views have no (stable) rowid
    if has_rowid:
        try:
            con.execute(f"SELECT _rowid_ FROM {from_sql} LIMIT 0").fetchall()
        except sqlite3.OperationalError:  # a WITHOUT ROWID table
            has_rowid = False
    alias = has_rowid and _is_rowid_alias(con, schema, table, mapping.account_id)
    return ReadPlan(database, from_sql, table, mapping, has_rowid, notes, alias)


def _is_rowid_alias(con: sqlite3.Connection, schema: str, table: str, column: str) -> bool:
    keys = con.execute(
        "SELECT name, upper(type) FROM pragma_table_info(?, ?) WHERE pk > 0", (table, schema)
    ).fetchall()
    return len(keys) == 1 and keys[0][0] == column and keys[0][1] == "INTEGER"


def _resolve_table(con: sqlite3.Connection, database: str, name: str) -> tuple[str, str]:
    """(schema, table) for a configured name; ``schema.table`` is accepted too."""
    schemas = [str(row[1]) for row in con.execute("PRAGMA database_list").fetchall()]
    attempts = [("main", name)]
    if "." in name:
        prefix, rest = name.split(".", 1)
        attempts.append((prefix, rest))
    for schema, table in attempts:
        if schema not in schemas:
            continue
        existing = _tables(con, schema)
        if table in existing:
            return schema, table
        folded = [candidate for candidate in existing if candidate.lower() == table.lower()]
        if len(folded) == 1:
            return schema, folded[0]
    tables = ", ".join(repr(table) for table in _tables(con)) or "(none)"
    raise ConfigError(f"app.table {name!r} does not exist in {database}; tables: {tables}")


def _auto_table(con: sqlite3.Connection, database: str, options: AppConfig) -> ReadPlan:
    """Use the one table that looks like accounts (an id column and an access field)."""
    tables = _tables(con, views=False)
    fits: list[tuple[str, ColumnMapping]] = []
    for table in tables:
        columns = _table_columns(con, "main", table)
        try:
            mapping = detect_columns(columns, options, f"table {table!r} of {database}")
        except (SourceError, ConfigError):
            continue
        fits.append((table, mapping))
    listing = ", ".join(repr(table) for table in tables) or "(none)"
    if not fits:
        raise SourceError(
            f"no table in {database} looks like app accounts (an account id column plus an "
            f"access column); tables: {listing}. Pass --app-table (app.table) and, if "
            "needed, app.columns / app.access_fields"
        )
    if len(fits) > 1:
        names = ", ".join(repr(table) for table, _ in fits)
        raise ConfigError(
            f"several tables in {database} look like app accounts: {names}. "
            "Pass --app-table (or set app.table) to choose one"
        )
    table, mapping = fits[0]
    note = (
        f"{database}: no app.table given; using table {table!r}, the only table "
        "that looks like accounts"
    )
    return _table_plan(con, database, "main", table, mapping, (note,))


def _query_plan(con: sqlite3.Connection, database: str, options: AppConfig) -> ReadPlan:
    query = check_read_only_query(options.query or "")
    from_sql = f"(\n{query}\n) AS q"
    try:
        cursor = con.execute(f"SELECT * FROM {from_sql} LIMIT 0")
    except sqlite3.ProgrammingError as error:
        raise ConfigError(f"app.query is not a single SELECT statement: {error}") from None
    except sqlite3.OperationalError as error:
        tables = ", ".join(repr(table) for table in _tables(con)) or "(none)"
        raise ConfigError(
            f"app.query failed on {database}: {error}. It must be one SELECT statement "
            f"(tables: {tables})"
        ) from None
    columns = [str(column[0]) for column in cursor.description]
    cursor.close()
    mapping = detect_columns(columns, options, f"the result of app.query on {database}")
    return ReadPlan(database, from_sql, "query", mapping, has_rowid=False)


def select_sql(plan: ReadPlan) -> str:
    """The mapped columns as stored (rowid first when there is one), no conversion.

    Conversion happens afterwards in Arrow: SQLite's CAST/trim cost more per
    row, and the typed values are what the boolean rules need (integer 1 and
    REAL 1.0 are true, the text "1.0" is not a recognized spelling).
    """
    select = ["_rowid_"] if plan.has_rowid and not plan.rowid_alias else []
    select += [quote_identifier(name) for name in plan.mapping.columns()]
    return f"SELECT {', '.join(select)} FROM {plan.from_sql}"
