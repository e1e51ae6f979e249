"""App data from a SQLite database file, opened strictly read-only.

billdrift is pointed at production-like data, so the database is opened with
``mode=ro`` *and* ``PRAGMA query_only``: even a custom query cannot change it.
Rows are read in ``fetchmany`` batches and turned into Arrow columns at once
(trimming and lower-casing are Arrow kernels); Python touches single values
only to classify flags with the shared rules of
:mod:`billdrift.sources.app.booleans`. Fetching rows through Python's sqlite3
module is the floor (about 2 s per million 7-column rows on a small machine).

SQLite is dynamically typed, so a "boolean" column may hold 0/1 integers,
``'t'``/``'false'`` text and NULL side by side; all go through the same rules,
and anything else skips the row naming the field.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import APP_ACCOUNTS, AppData, Skip
from billdrift.errors import ConfigError, SourceError
from billdrift.infra import duck
from billdrift.sources.app.booleans import (
    parse_boolean_values,
    unrecognized_reason,
)
from billdrift.sources.app.columns import (
    ROLES,
    ColumnMapping,
    detect_columns,
    detection_note,
    quote_identifier,
)
from billdrift.sources.app.interface import AppSource
from billdrift.sources.app.signals import access_signals
from billdrift.sources.app.text import TextKind, clean_text

SQLITE_MAGIC: Final = b"SQLite format 3\x00"
_SUFFIXES: Final = (".db", ".sqlite", ".sqlite3")
_BATCH: Final = 65536
_MMAP_BYTES: Final = 1 << 30
_ID_ROLES: Final = frozenset({"account_id", "customer_id", "subscription_id"})
_LEADING: Final = re.compile(r"(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?(?:\*/|\Z))*", re.DOTALL)
_READ_ONLY_STARTS: Final = ("SELECT", "WITH", "VALUES")


def is_sqlite_file(path: Path) -> bool:
    """True when `path` starts with the SQLite header (never raises)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def database_path(location: str) -> Path:
    """The file behind ``sqlite:///relative``, ``sqlite:////absolute`` or a plain path."""
    if not location.startswith("sqlite:"):
        return Path(location)
    if not location.startswith("sqlite:///"):
        raise SourceError(
            f"cannot read {location}: expected sqlite:///relative/path.db or "
            "sqlite:////absolute/path.db"
        )
    path = location[len("sqlite:///") :].split("?", 1)[0]
    if not path:
        raise SourceError(f"{location} names no database file")
    return Path(path)


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open `path` so that nothing, including a custom query, can write to it."""
    uri = path.resolve().as_uri() + "?mode=ro"
    try:
        con = sqlite3.connect(uri, uri=True)
        con.execute("PRAGMA query_only = ON")
        con.execute(f"PRAGMA mmap_size = {_MMAP_BYTES}")  # read pages without copying them
    except sqlite3.Error as error:
        raise SourceError(f"cannot open SQLite database {path.name}: {error}") from None
    return con


def open_sqlite(location: str) -> tuple[Path, sqlite3.Connection]:
    """The database file behind `location`, opened read-only; SourceError if it is not one."""
    path = database_path(location)
    if not path.exists():
        raise SourceError(f"SQLite database not found: {path}")
    if path.is_dir():
        raise SourceError(f"app input {path} is a directory; expected a SQLite database")
    if path.stat().st_size and not is_sqlite_file(path):
        raise SourceError(f"{path.name} is not a SQLite database (no SQLite header)")
    return path, connect_read_only(path)


def check_read_only_query(query: str) -> str:
    """The query without trailing semicolons; ConfigError unless it is a SELECT.

    This is for a clear message only; the read-only connection is the guard.
    """
    body = query.strip().rstrip(";").strip()
    leading = _LEADING.match(body)
    rest = body[leading.end() :] if leading else body
    word = re.match(r"[A-Za-z]+", rest)
    keyword = word.group(0).upper() if word else rest[:20]
    if keyword not in _READ_ONLY_STARTS:
        raise ConfigError(
            f"app.query must be one read-only SELECT statement; got {keyword!r}. "
            "billdrift only reads the app database"
        )
    return body


class SqliteAppSource(AppSource):
    """A SQLite database: one table (``app.table``, or auto-picked) or ``app.query``."""

    kind = "sqlite"

    @classmethod
    def accepts(cls, location: str) -> bool:
        if location.startswith("sqlite:"):
            return True
        if "://" in location:
            return False
        path = Path(location)
        return path.suffix.lower() in _SUFFIXES or (path.is_file() and is_sqlite_file(path))

    def read(self) -> AppData:
        path, con = open_sqlite(self.location)
        try:
            plan = _plan(con, path.name, self)
            return _Reader(con, plan).read()
        except sqlite3.DatabaseError as error:
            raise SourceError(f"cannot read SQLite database {path.name}: {error}") from None
        finally:
            con.close()


@dataclass(frozen=True)
class _Plan:
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


def _plan(con: sqlite3.Connection, database: str, source: SqliteAppSource) -> _Plan:
    options = source.options
    if options.query is not None:
        return _query_plan(con, database, source)
    if options.table is not None:
        schema, table = _resolve_table(con, database, options.table)
        columns = _table_columns(con, schema, table)
        mapping = detect_columns(columns, options, f"table {table!r} of {database}")
        return _table_plan(con, database, schema, table, mapping, ())
    return _auto_table(con, database, source)


def _table_plan(
    con: sqlite3.Connection,
    database: str,
    schema: str,
    table: str,
    mapping: ColumnMapping,
    notes: tuple[str, ...],
) -> _Plan:
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
    return _Plan(database, from_sql, table, mapping, has_rowid, notes, alias)


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


def _auto_table(con: sqlite3.Connection, database: str, source: SqliteAppSource) -> _Plan:
    """Use the one table that looks like accounts (an id column and an access field)."""
    tables = _tables(con, views=False)
    fits: list[tuple[str, ColumnMapping]] = []
    for table in tables:
        columns = _table_columns(con, "main", table)
        try:
            mapping = detect_columns(columns, source.options, f"table {table!r} of {database}")
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


def _query_plan(con: sqlite3.Connection, database: str, source: SqliteAppSource) -> _Plan:
    query = check_read_only_query(source.options.query or "")
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
    mapping = detect_columns(columns, source.options, f"the result of app.query on {database}")
    return _Plan(database, from_sql, "query", mapping, has_rowid=False)


def _select_sql(plan: _Plan) -> str:
    """The mapped columns as stored (rowid first when there is one), no conversion.

    Conversion happens afterwards in Arrow: SQLite's CAST/trim cost more per
    row, and the typed values are what the boolean rules need (integer 1 and
    REAL 1.0 are true, the text "1.0" is not a recognized spelling).
    """
    select = ["_rowid_"] if plan.has_rowid and not plan.rowid_alias else []
    select += [quote_identifier(name) for name in plan.mapping.columns()]
    return f"SELECT {', '.join(select)} FROM {plan.from_sql}"


def _text(value: object) -> str | None:
    """Any SQLite value as text: NULL stays None, 1 -> "1", 1.0 -> "1", bytes decoded."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text_array(values: Sequence[object]) -> pa.Array:
    """A column as an Arrow string array, in C whenever the column is uniformly typed.

    Text columns convert directly and integer columns (ids) are cast by Arrow;
    only mixed or unusual columns pay for a per-value Python conversion.
    """
    try:
        return pa.array(values, pa.string())
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass
    try:
        inferred = pa.array(values)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        inferred = None
    if inferred is not None and pa.types.is_integer(inferred.type):
        return pc.cast(inferred, pa.string())
    return pa.array([_text(value) for value in values], pa.string())


def _convert(values: Sequence[object], kind: TextKind) -> pa.Array:
    """Text for one role: ids trimmed, statuses trimmed and lower-cased, text as given."""
    return clean_text(_text_array(values), kind)


def _flag_column(values: Sequence[object]) -> tuple[pa.Array, pa.Array, list[int]]:
    """Parsed flags, raw text and unrecognized positions of one flag column.

    Flag columns hold a handful of distinct values (often 0/1 integers mixed
    with text), so each distinct value is parsed once with the shared rules and
    the results are spread to every row with an Arrow ``take``.
    """
    distinct = list(set(values))
    code_of = {value: code for code, value in enumerate(distinct)}
    codes = pa.array([code_of[value] for value in values], pa.int32())
    parsed, bad = parse_boolean_values(distinct)
    flags = pc.take(pa.array(parsed, pa.bool_()), codes)
    raws = pc.take(pa.array([_text(value) for value in distinct], pa.string()), codes)
    if not bad:
        return flags, raws, []
    rows = pc.indices_nonzero(pc.is_in(codes, pa.array(bad, pa.int32())))
    return flags, raws, rows.to_pylist()


@dataclass
class _Columns:
    """Arrow chunks of every row read, plus the flag problems found on the way."""

    labels: list[pa.Array]
    roles: dict[str, list[pa.Array]]
    raws: list[list[pa.Array]]
    flags: list[list[pa.Array]]
    bad: dict[int, list[tuple[str, object]]]


class _Reader:
    """Reads the planned rows in batches, then validates all of them with Arrow."""

    def __init__(self, con: sqlite3.Connection, plan: _Plan) -> None:
        self.con = con
        self.plan = plan
        self.mapping = plan.mapping
        self.fields = plan.mapping.fields()
        offset = 1 if plan.has_rowid and not plan.rowid_alias else 0
        self.index = {name: offset + i for i, name in enumerate(plan.mapping.columns())}
        self.roles = {role: column for role in ROLES if (column := plan.mapping.role_column(role))}
        self.read_columns = _Columns(
            labels=[],
            roles={role: [] for role in self.roles},
            raws=[[] for _ in self.fields],
            flags=[[] for _ in self.fields],
            bad={},
        )
        self.rows = 0

    def read(self) -> AppData:
        cursor = self.con.execute(_select_sql(self.plan))
        try:
            while batch := cursor.fetchmany(_BATCH):
                self._take(batch)
        finally:
            cursor.close()
        return self._result()

    def _take(self, batch: list[tuple[object, ...]]) -> None:
        columns = list(zip(*batch, strict=True))
        start = self.rows
        self.rows += len(batch)
        read = self.read_columns
        if self.plan.rowid_alias:
            ids = columns[self.index[self.mapping.account_id]]
            read.labels.append(pa.array(ids, pa.int64()))
        elif self.plan.has_rowid:
            read.labels.append(pa.array(columns[0], pa.int64()))
        else:
            read.labels.append(pa.array(range(start + 1, self.rows + 1), pa.int64()))
        for role, column in self.roles.items():
            text_kind: TextKind = "id" if role in _ID_ROLES else "text"
            read.roles[role].append(_convert(columns[self.index[column]], text_kind))
        for index, (name, kind) in enumerate(self.fields):
            values = columns[self.index[name]]
            if kind == "status":
                read.raws[index].append(_convert(values, "status"))
                continue
            flags, raws, unrecognized = _flag_column(values)
            for row in unrecognized:
                read.bad.setdefault(start + row, []).append((name, values[row]))
            read.flags[index].append(flags)
            read.raws[index].append(raws)

    def _where(self, label: int) -> str:
        return f"row rowid={label}" if self.plan.has_rowid else f"row {label}"

    def _skipped(
        self, ids: pa.ChunkedArray, labels: pa.ChunkedArray, customer_ids: pa.ChunkedArray | None
    ) -> tuple[list[Skip], list[int]]:
        """Skips for empty ids, unrecognized flags and duplicates (first row claims an id).

        Clean data (no nulls, no bad flags, all ids distinct) is proven with
        three vectorized checks and never reaches the Python loop. Each skip carries
        the row's customer id so the rules never call that customer orphaned.
        """
        bad = self.read_columns.bad
        unique = self.plan.rowid_alias  # an INTEGER PRIMARY KEY cannot repeat
        if not ids.null_count and not bad and (unique or not _has_duplicates(ids)):
            return [], []
        database, id_column = self.plan.database, self.mapping.account_id
        first: dict[str, int] = {}
        skips: list[Skip] = []
        skipped: list[int] = []
        label_list = labels.to_pylist()
        customers = (
            customer_ids.to_pylist() if customer_ids is not None else [None] * len(label_list)
        )
        for row, account_id in enumerate(ids.to_pylist()):
            label = label_list[row]
            if account_id is None:
                problem = (self._where(label), "the account id is empty", id_column)
            elif row in bad:
                first.setdefault(account_id, label)
                problems = bad[row]
                location = f"row {id_column}={account_id}"
                problem = (location, unrecognized_reason(problems), problems[0][0])
            elif (earlier := first.setdefault(account_id, label)) != label:
                where = self._where(earlier).removeprefix("row ")
                reason = (
                    f"duplicate account id {account_id!r} (first seen at {where}); "
                    "only the first row with an id is used"
                )
                problem = (self._where(label), reason, id_column)
            else:
                continue
            location, reason, field = problem
            skips.append(Skip("app", database, location, reason, field, customer_id=customers[row]))
            skipped.append(row)
        return skips, skipped

    def _result(self) -> AppData:
        read = self.read_columns
        labels = pa.chunked_array(read.labels, pa.int64())
        ids = pa.chunked_array(read.roles["account_id"], pa.string())
        customers = read.roles.get("customer_id")
        customer_ids = None if customers is None else pa.chunked_array(customers, pa.string())
        skips, skipped = self._skipped(ids, labels, customer_ids)
        where = "rowid=" if self.plan.has_rowid else "row "
        prefix = f"{self.plan.database}:{self.plan.label} {where}"
        table = pa.table(
            {
                **{
                    role: pa.chunked_array(read.roles[role], pa.string())
                    if role in read.roles
                    else pa.nulls(self.rows, pa.string())
                    for role in ROLES
                },
                "source_ref": pc.binary_join_element_wise(prefix, pc.cast(labels, pa.string()), ""),
                **{
                    f"raw{index}": pa.chunked_array(read.raws[index], pa.string())
                    for index in range(len(self.fields))
                },
                **{
                    f"flag{index}": pa.chunked_array(read.flags[index], pa.bool_())
                    for index, (_, kind) in enumerate(self.fields)
                    if kind == "flag"
                },
            }
        )
        if skipped:
            table = table.filter(_keep_mask(self.rows, skipped))
        return self._data(table, skips)

    def _data(self, table: pa.Table, skips: list[Skip]) -> AppData:
        count = table.num_rows
        signals = access_signals(
            table["account_id"],
            self.mapping,
            lambda index: table[f"raw{index}"],
            lambda index: table[f"flag{index}"],
        )
        notes = list(self.plan.notes)
        if note := detection_note(self.mapping, f"{self.plan.database} ({self.plan.label})"):
            notes.append(note)
        return AppData(
            accounts=table.select([*ROLES, "source_ref"]).cast(APP_ACCOUNTS),
            signals=signals,
            skips=tuple(skips),
            description=(
                f"{self.plan.database} (SQLite, {self.plan.label}): {self.rows:,} rows, "
                f"{count:,} accounts, {len(skips):,} skipped"
            ),
            mapping=self.mapping.as_dict(),
            notes=tuple(notes),
        )


def _has_duplicates(ids: pa.ChunkedArray) -> bool:
    """Whether any id repeats; DuckDB's parallel hash count beats Arrow's several-fold."""
    con = duck.connect()
    try:
        con.register("ids", pa.table({"id": ids}))
        rows = con.execute("SELECT count(id) - count(DISTINCT id) FROM ids").fetchall()
        return bool(rows[0][0])
    finally:
        con.close()


def _keep_mask(rows: int, skipped: list[int]) -> pa.Array:
    """A filter mask that is False exactly at the skipped positions."""
    mask = [True] * rows
    for position in skipped:
        mask[position] = False
    return pa.array(mask, pa.bool_())
