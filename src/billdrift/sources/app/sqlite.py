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

What to read (the table or query, and its mapping) is planned in
:mod:`~billdrift.sources.app.sqlite_plan`; SQLite values become Arrow columns
in :mod:`~billdrift.sources.app.sqlite_values`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pyarrow as pa

from billdrift.core.model import APP_ACCOUNTS, AppData, Skip
from billdrift.core.refs import canonical_refs, located
from billdrift.errors import SourceError
from billdrift.infra.quoting import quote_identifier
from billdrift.sources.app.booleans import unrecognized_reason
from billdrift.sources.app.columns import ROLES, detection_note
from billdrift.sources.app.interface import AppSource
from billdrift.sources.app.repeats import Repeats, repeated_reason, repeated_rows
from billdrift.sources.app.signals import access_signals
from billdrift.sources.app.slicing import slice_where
from billdrift.sources.app.sqlite_file import database_path as database_path  # for its readers
from billdrift.sources.app.sqlite_file import is_sqlite_file, is_sqlite_location
from billdrift.sources.app.sqlite_plan import ReadPlan, plan_read, select_sql
from billdrift.sources.app.sqlite_values import flag_column, role_text
from billdrift.sources.app.text import TextKind

_BATCH: Final = 65536
_MMAP_BYTES: Final = 1 << 30
_ID_ROLES: Final = frozenset({"account_id", "customer_id", "subscription_id"})


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


class SqliteAppSource(AppSource):
    """A SQLite database: one table (``app.table``, or auto-picked) or ``app.query``."""

    kind = "sqlite"

    @classmethod
    def accepts(cls, location: str) -> bool:
        return is_sqlite_location(location)

    def read(self) -> AppData:
        path, con = open_sqlite(self.location)
        try:
            plan = plan_read(con, path.name, self.options)
            where: tuple[str, list[str]] = ("", [])
            if self.only is not None:
                where = slice_where(plan.mapping, self.only, quote_identifier, lambda n: "?")
            return _Reader(con, plan, where).read()
        except sqlite3.DatabaseError as error:
            raise SourceError(f"cannot read SQLite database {path.name}: {error}") from None
        finally:
            con.close()


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

    def __init__(
        self, con: sqlite3.Connection, plan: ReadPlan, where: tuple[str, list[str]] = ("", [])
    ) -> None:
        self.con = con
        self.plan = plan
        self.where = where
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
        clause, params = self.where
        cursor = self.con.execute(select_sql(self.plan) + clause, params)
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
            read.roles[role].append(role_text(columns[self.index[column]], text_kind))
        for index, (name, kind) in enumerate(self.fields):
            values = columns[self.index[name]]
            if kind == "status":
                read.raws[index].append(role_text(values, "status"))
                continue
            flags, raws, unrecognized = flag_column(values)
            for row in unrecognized:
                read.bad.setdefault(start + row, []).append((name, values[row]))
            read.flags[index].append(flags)
            read.raws[index].append(raws)

    def _where(self, label: int) -> str:
        return f"row rowid={label}" if self.plan.has_rowid else f"row {label}"

    def _place(self, labels: list[int]) -> Callable[[int], str]:
        """Where the row at a position is, as a reason names it: ``rowid=4``, ``row 4``."""
        if self.plan.has_rowid:
            return lambda k: f"rowid={labels[k]}"
        return lambda k: f"row {labels[k]}"

    def _skipped(
        self, ids: pa.ChunkedArray, labels: pa.ChunkedArray, customer_ids: pa.ChunkedArray | None
    ) -> tuple[list[Skip], list[int]]:
        """Skips for empty ids, unrecognized flags and repeated ids (every copy:
        :mod:`billdrift.sources.app.repeats`).

        Clean data (no nulls, no bad flags, all ids distinct) is proven with
        three vectorized checks and never reaches the Python loop. Each skip carries
        the row's customer id so the rules never call that customer orphaned.
        """
        bad = self.read_columns.bad
        unique = self.plan.rowid_alias  # an INTEGER PRIMARY KEY cannot repeat
        repeats = Repeats() if unique else repeated_rows(ids)
        if not ids.null_count and not bad and not repeats:
            return [], []
        database, id_column = self.plan.database, self.mapping.account_id
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
                problems = bad[row]
                location = f"row {id_column}={account_id}"
                problem = (location, unrecognized_reason(problems), problems[0][0])
            elif copies := repeats.of(account_id):
                place = self._place(label_list)
                reason = repeated_reason(account_id, copies, place)
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
                **located(prefix, labels),  # the text only for reported rows (core.refs)
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
            accounts=canonical_refs(table, APP_ACCOUNTS),
            signals=signals,
            skips=tuple(skips),
            description=(
                f"{self.plan.database} (SQLite, {self.plan.label}): {self.rows:,} rows, "
                f"{count:,} accounts, {len(skips):,} skipped"
            ),
            mapping=self.mapping.as_dict(),
            notes=tuple(notes),
        )


def _keep_mask(rows: int, skipped: list[int]) -> pa.Array:
    """A filter mask that is False exactly at the skipped positions."""
    mask = [True] * rows
    for position in skipped:
        mask[position] = False
    return pa.array(mask, pa.bool_())
