"""App data from a CSV/TSV export, read by DuckDB so a million rows stay fast.

Reading the file itself (encoding, delimiter, quoting, Arrow or DuckDB, rows
that cannot be split, physical line numbers) is :mod:`billdrift.sources.csv`,
shared with the billing side. Here: which columns hold the account, and what
their values mean, worked out in one SQL pass over the scanned text (see
:mod:`billdrift.sources.app.booleans`). Python loops only over rows that are
*skipped*, which are few in any file worth reconciling.

Every unusable row becomes a :class:`~billdrift.core.model.Skip` whose location is
``line N``: the *physical* line where the row starts, counting the header as
line 1, exactly what an editor shows (see :mod:`billdrift.sources.csv.lines`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import APP_ACCESS_SIGNALS, APP_ACCOUNTS, AppData, Skip
from billdrift.core.refs import NUMBER, canonical_refs, located
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.ordinals import ordinals
from billdrift.infra.quoting import sql_string
from billdrift.sources.app.booleans import (
    CODE_UNRECOGNIZED,
    WHITESPACE,
    sql_boolean_code,
    sql_flag,
    unrecognized_reason,
)
from billdrift.sources.app.columns import (
    ROLES,
    ColumnMapping,
    detect_columns,
    detection_note,
)
from billdrift.sources.app.interface import AppSource
from billdrift.sources.app.repeats import Repeats, repeated_reason, repeated_rows
from billdrift.sources.app.signals import access_signals
from billdrift.sources.app.sqlite_file import is_sqlite_file
from billdrift.sources.csv.dialect import Header, delimiter_name, read_header
from billdrift.sources.csv.encoding import codec_name
from billdrift.sources.csv.lines import Lines, locate
from billdrift.sources.csv.naming import Naming
from billdrift.sources.csv.padding import padded
from billdrift.sources.csv.scan import CsvFile, Scan, in_record_order, opened, scan

_SUFFIXES: Final = (".csv", ".tsv", ".txt")
_WS: Final = sql_string(WHITESPACE)


class CsvAppSource(AppSource):
    """A CSV (or TSV) export of the app's accounts, one row per account."""

    kind = "csv"

    @classmethod
    def accepts(cls, location: str) -> bool:
        if "://" in location:
            return False
        path = Path(location)
        if path.suffix.lower() in _SUFFIXES:
            return True
        return path.is_file() and not is_sqlite_file(path)

    def read(self) -> AppData:
        if self.only is not None:
            raise ConfigError(
                "reading one customer's accounts needs the app in a database (SQLite, "
                "PostgreSQL, MySQL/MariaDB): a CSV file can only be read whole"
            )
        path = Path(self.location)
        if not path.exists():
            raise SourceError(f"app file not found: {self.location}")
        if path.is_dir():
            raise SourceError(f"app input {self.location} is a directory; expected a CSV file")
        codec = codec_name(self.options.encoding, "app.encoding")
        naming = Naming("app", path.name, self.options.encoding)
        with opened(path, codec, naming) as file:
            header = read_header(file.readable, naming)
            if header is None:
                return _empty(naming.name, f"{naming.name} is empty: no header and no accounts")
            mapping = detect_columns(header.names, self.options, f"the header of {naming.name}")
            data = _read(file, header, mapping)
            return dataclasses.replace(data, notes=(*data.notes, *file.notes))


def _empty(name: str, note: str) -> AppData:
    return AppData(
        accounts=APP_ACCOUNTS.empty_table(),
        signals=APP_ACCESS_SIGNALS.empty_table(),
        description=f"{name} (CSV): empty",
        notes=(note,),
    )


def _read(file: CsvFile, header: Header, mapping: ColumnMapping) -> AppData:
    con = file.connect()
    try:
        return _CsvRun(con, file, header, mapping).run()
    except duckdb.Error as error:
        raise SourceError(f"cannot read {file.naming.file}: {error}") from None
    finally:
        con.close()


class _CsvRun:
    """One read of one file on one private DuckDB connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        file: CsvFile,
        header: Header,
        mapping: ColumnMapping,
    ) -> None:
        self.con = con
        self.file = file
        self.name = file.naming.name
        # the scanned and the parsed file, kept alive while registered with DuckDB
        self.raw: pa.Table | None = None
        self.staged: pa.Table | None = None
        self.dups: pa.Table | None = None  # rows of repeated ids, by k
        self.encoding = file.naming.encoding
        self.header = header
        self.mapping = mapping
        self.fields = mapping.fields()
        position: dict[str, int] = {}
        for index, column in enumerate(header.names):
            position.setdefault(column, index)
        self.position = position

    def _col(self, column: str) -> str:
        return f"c{self.position[column]}"

    def _stage(self) -> Scan:
        """Scan the file and parse it once into `staged`: typed, trimmed, flags classified.

        Text that needs no work (no value padded, so none blank: both scans read an
        empty field as NULL; see :func:`~billdrift.sources.csv.padding.padded`) is taken
        from the scanned columns as is, and so are the raw flag values: copying a
        million strings through DuckDB and back costs more than proving they need
        nothing. `k` is each record's ordinal (see
        :func:`~billdrift.sources.csv.scan.in_record_order`).
        """
        scanned = scan(self.file, self.con, self.header, range(len(self.header.names)))
        raw = scanned.table
        ordinal = ordinals(len(raw))
        self.raw = raw.append_column("k", ordinal)
        self.con.register("raw", self.raw)
        select: list[str] = []
        kept: dict[str, str] = {}  # staged column -> scanned column, taken as is
        for role in ROLES:
            column = self.mapping.role_column(role)
            if column is None:
                select.append(f"NULL::VARCHAR AS {role}")
            elif not padded(raw.column(self._col(column))):
                kept[role] = self._col(column)
            elif role in ("account_id", "customer_id", "subscription_id"):
                select.append(f"{_sql_id(self._col(column))} AS {role}")
            else:
                select.append(f"{_sql_text(self._col(column))} AS {role}")
        for index, (column, kind) in enumerate(self.fields):
            source = self._col(column)
            if kind == "flag":
                kept[f"f{index}_raw"] = source
                select.append(f"{sql_boolean_code(source)}::TINYINT AS f{index}_code")
            else:
                select.append(f"{_sql_status(source)} AS f{index}_raw")
        staged = self.con.sql(f"SELECT {', '.join([*select, 'k'])} FROM raw").to_arrow_table()
        staged = in_record_order(staged, "k", ordinal)  # row k must be record k for kept columns
        for name, source in kept.items():
            staged = staged.append_column(name, raw.column(source))
        self.staged = staged
        return scanned

    def run(self) -> AppData:
        scanned = self._stage()
        staged = self.staged
        if staged is None:
            raise RuntimeError("_stage() must run first")
        n_good = staged.num_rows
        lines = locate(scanned.readable, self.header, scanned.layout, n_good, scanned.rejects)
        # each row's line; the text is made only for the rows reported (core.refs)
        self.staged = staged.append_column(NUMBER, lines.column(n_good))
        self.con.register("staged", self.staged)
        # positions are k: staged is in order
        repeats = repeated_rows(staged["account_id"], self.con)
        has_dups = bool(repeats)
        if has_dups:
            self.dups = pa.table({"k": pa.array(repeats.rows, pa.int64())})
            self.con.register("dups", self.dups)
        joins = " LEFT JOIN dups d ON s.k = d.k" if has_dups else ""
        good_rows = self._good_condition(has_dups)
        skips = self._row_skips(joins, good_rows, lines, repeats)
        if not skips:
            good = self._every_row_good()
        else:
            good = self.con.sql(
                f"SELECT {self._output_columns()} FROM staged s {joins} "
                f"WHERE {good_rows}{' ORDER BY s.k' if has_dups else ''}"
            ).to_arrow_table()
        width = len(self.header.names)
        skips += [
            Skip(
                "app",
                self.name,
                f"line {line}",
                reject.reason(width),
            )
            for reject, line in zip(scanned.rejects, lines.rejected, strict=True)
        ]
        skips.sort(key=lambda skip: int(skip.location.split()[1]))
        return self._result(good, skips, lines, n_good + len(scanned.rejects))

    def _good_condition(self, has_dups: bool) -> str:
        conditions = ["s.account_id IS NOT NULL"]
        conditions += [
            f"coalesce(s.f{index}_code, 0) <> {CODE_UNRECOGNIZED}"
            for index, (_, kind) in enumerate(self.fields)
            if kind == "flag"
        ]
        if has_dups:
            conditions.append("d.k IS NULL")
        return " AND ".join(conditions)

    def _every_row_good(self) -> pa.Table:
        """The common case (every row usable), built from the staged columns as they
        are: no third pass of a million rows through DuckDB."""
        staged = self.staged
        if staged is None:
            raise RuntimeError("_stage() must run first")
        columns = {role: staged[role] for role in [*ROLES, NUMBER]}
        for index, (_, kind) in enumerate(self.fields):
            columns[f"f{index}_raw"] = staged[f"f{index}_raw"]
            if kind == "flag":  # codes here are only CODE_TRUE, CODE_FALSE or NULL
                columns[f"f{index}_flag"] = pc.cast(staged[f"f{index}_code"], pa.bool_())
        return pa.table(columns)

    def _output_columns(self) -> str:
        select = [f"s.{role}" for role in [*ROLES, NUMBER]]
        for index, (_, kind) in enumerate(self.fields):
            select.append(f"s.f{index}_raw")
            if kind == "flag":
                select.append(f"{sql_flag(f's.f{index}_code')} AS f{index}_flag")
        return ", ".join(select)

    def _row_skips(self, joins: str, good_rows: str, lines: Lines, repeats: Repeats) -> list[Skip]:
        """A Skip for every parsed row that cannot be used (few; fetched to Python)."""
        flag_columns = [
            (index, column) for index, (column, kind) in enumerate(self.fields) if kind == "flag"
        ]
        select = ["s.k", "s.account_id", "s.customer_id"]
        select += [f"s.f{index}_raw, s.f{index}_code" for index, _ in flag_columns]
        rows = self.con.execute(
            f"SELECT {', '.join(select)} FROM staged s {joins} WHERE NOT ({good_rows}) ORDER BY s.k"
        ).fetchall()
        skips: list[Skip] = []

        def place(position: int) -> str:
            return f"line {lines.line_of(position)}"

        for row in rows:
            k, account_id, customer = int(row[0]), row[1], row[2]
            location = f"line {lines.line_of(k)}"
            bad = [
                (column, row[3 + 2 * position])
                for position, (_, column) in enumerate(flag_columns)
                if row[4 + 2 * position] == CODE_UNRECOGNIZED
            ]
            if account_id is None:
                reason, column = "the account id is empty", self.mapping.account_id
            elif bad:
                reason, column = unrecognized_reason(bad), bad[0][0]
            else:
                reason = repeated_reason(account_id, repeats.of(account_id), place)
                column = self.mapping.account_id
            # The customer id lets the rules hold back on that customer (never orphaned).
            skips.append(Skip("app", self.name, location, reason, column, customer_id=customer))
        return skips

    def _result(self, good: pa.Table, skips: list[Skip], lines: Lines, rows: int) -> AppData:
        place = located(f"{self.name}:line ", good.column(NUMBER))["source_ref"]
        accounts = canonical_refs(good.append_column("source_ref", place), APP_ACCOUNTS)
        signals = _signals(good, self.mapping)
        notes = [note] if (note := detection_note(self.mapping, self.name)) else []
        if (approximate := lines.note(self.name)) is not None:
            notes.append(approximate)
        delimiter = delimiter_name(self.header.delimiter)
        description = (
            f"{self.name} (CSV, {delimiter}-delimited, {self.encoding}): {rows:,} rows, "
            f"{accounts.num_rows:,} accounts, {len(skips):,} skipped"
        )
        return AppData(
            accounts=accounts,
            signals=signals,
            skips=tuple(skips),
            description=description,
            mapping=self.mapping.as_dict(),
            notes=tuple(notes),
        )


def _signals(good: pa.Table, mapping: ColumnMapping) -> pa.Table:
    return access_signals(
        good["account_id"],
        mapping,
        lambda index: good[f"f{index}_raw"],
        lambda index: good[f"f{index}_flag"],
    )


def _sql_edges(column: str) -> str:
    """Cheap test for leading/trailing whitespace, so trim runs only where needed."""
    return f"(ascii({column}) <= 32 OR ascii(right({column}, 1)) <= 32)"


def _sql_id(column: str) -> str:
    """An identifier: surrounding whitespace removed, blank -> NULL."""
    return (
        f"(CASE WHEN {_sql_edges(column)} THEN nullif(trim({column}, {_WS}), '') ELSE {column} END)"
    )


def _sql_text(column: str) -> str:
    """Free text (email, plan, role): kept as given, but blank -> NULL."""
    blank = f"ascii({column}) <= 32 AND trim({column}, {_WS}) = ''"
    return f"(CASE WHEN {blank} THEN NULL ELSE {column} END)"


def _sql_status(column: str) -> str:
    """A status value: trimmed and lower-cased so it compares with policy lists; blank -> NULL."""
    return (
        f"(CASE WHEN {_sql_edges(column)} THEN nullif(lower(trim({column}, {_WS})), '') "
        f"ELSE lower({column}) END)"
    )
