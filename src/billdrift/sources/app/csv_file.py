"""App data from a CSV/TSV export, read by DuckDB so a million rows stay fast.

Python reads only the header (to detect columns); DuckDB's ``read_csv`` does
the parsing with every column as text, and all conversion and validation
happens in one SQL pass (see :mod:`billdrift.sources.app.booleans`). Python
loops only over rows that are *skipped*, which are few in any file worth
reconciling.

Every unusable row becomes a :class:`~billdrift.core.model.Skip` whose location is
``line N``: the *physical* line where the row starts, counting the header as
line 1, exactly what an editor shows. DuckDB reports rejected rows by logical
line (newlines inside quotes not counted) and says nothing about the lines of
good rows, so :func:`_line_map` rebuilds the mapping; see its docstring.
"""

from __future__ import annotations

import bisect
import codecs
import csv
import dataclasses
import itertools
import re
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import APP_ACCESS_SIGNALS, APP_ACCOUNTS, AppData, Skip
from billdrift.errors import ConfigError, SourceError
from billdrift.infra import duck
from billdrift.infra.ordinals import ordinals
from billdrift.sources.app.booleans import (
    CODE_UNRECOGNIZED,
    WHITESPACE,
    sql_boolean_code,
    sql_flag,
    sql_string,
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
from billdrift.sources.app.sqlite import is_sqlite_file
from billdrift.sources.csv.endings import lf_only_copy, stray_return_message
from billdrift.sources.csv.padding import padded
from billdrift.sources.csv.plain import Layout, read_plain

_SUFFIXES: Final = (".csv", ".tsv", ".txt")
_DELIMITERS: Final = (",", "\t", ";", "|")
_DELIMITER_NAMES: Final = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_GLOB_CHARS: Final = frozenset("*?[]{}")
_CHUNK: Final = 1 << 24
_TAIL: Final = 1 << 16
_CASE_SEGMENTS: Final = 64  # up to this many line-number segments, a CASE beats a join
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
        path = Path(self.location)
        if not path.exists():
            raise SourceError(f"app file not found: {self.location}")
        if path.is_dir():
            raise SourceError(f"app input {self.location} is a directory; expected a CSV file")
        encoding = _codec_name(self.options.encoding)
        with tempfile.TemporaryDirectory(prefix="billdrift-csv-") as scratch:
            readable = _utf8_input(path, encoding, Path(scratch))
            return _read(readable, path.name, self.options.encoding, self, Path(scratch))


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise ConfigError(f"app.encoding: unknown encoding {encoding!r}") from None


def _utf8_input(path: Path, encoding: str, scratch: Path) -> Path:
    """A UTF-8 file DuckDB can read safely: the original, or a transcoded copy.

    DuckDB treats ``*?[]{}`` in a path as a glob, so such names are linked
    under a plain name rather than escaped.
    """
    if encoding not in ("utf-8", "utf-8-sig"):
        return _transcode(path, encoding, scratch / "input.csv")
    if _GLOB_CHARS.isdisjoint(str(path)):
        return path.resolve()
    link = scratch / "input.csv"
    link.symlink_to(path.resolve())
    return link


def _transcode(path: Path, encoding: str, target: Path) -> Path:
    """Stream `path` from `encoding` to UTF-8; an undecodable byte is a SourceError."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    newlines = 0
    try:
        with path.open("rb") as source, target.open("w", encoding="utf-8", newline="") as out:
            while chunk := source.read(_CHUNK):
                try:
                    out.write(decoder.decode(chunk))
                except UnicodeDecodeError as error:
                    line = newlines + chunk.count(b"\n", 0, max(error.start, 0)) + 1
                    raise SourceError(
                        f"{path.name} is not valid {encoding} text (line {line}); set "
                        "`app.encoding` to the file's actual encoding"
                    ) from None
                newlines += chunk.count(b"\n")
            out.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError:
        raise SourceError(f"{path.name} ends in the middle of a {encoding} character") from None
    except OSError as error:
        raise SourceError(f"cannot read app file {path.name}: {error.strerror}") from None
    return target


@dataclass(frozen=True)
class _Header:
    columns: tuple[str, ...]
    delimiter: str
    lines: int  # physical lines the header record spans (1 unless it has quoted newlines)


def _read_header(readable: Path, name: str, tsv: bool) -> _Header | None:
    """The header record, or None when the file holds nothing but whitespace.

    Lines are decoded one at a time, so a bad byte further down the file is a
    per-row skip for DuckDB, not a header error here.
    """
    try:
        with readable.open("rb") as raw:
            first = raw.readline().decode("utf-8").removeprefix("\ufeff")
            if not first.strip():
                if not raw.read(1 << 16).strip():
                    return None
                raise SourceError(f"the first line of {name} is empty; expected a header row")
            delimiter = "\t" if tsv else _pick_delimiter(first)
            lines = itertools.chain([first], (line.decode("utf-8") for line in raw))
            reader = csv.reader(lines, delimiter=delimiter)
            columns = next(reader, [])
            return _Header(tuple(columns), delimiter, reader.line_num)
    except UnicodeDecodeError:
        raise SourceError(
            f"the header of {name} is not valid UTF-8 text; set `app.encoding` to the "
            'file\'s encoding (e.g. "latin-1" or "cp1252")'
        ) from None
    except csv.Error as error:
        raise SourceError(f"cannot parse the header of {name}: {error}") from None
    except OSError as error:
        raise SourceError(f"cannot read app file {name}: {error.strerror}") from None


def _pick_delimiter(first_line: str) -> str:
    """Comma unless the header clearly uses another separator (tab, semicolon, pipe)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] > 0 else ","


def _empty(name: str, note: str) -> AppData:
    return AppData(
        accounts=APP_ACCOUNTS.empty_table(),
        signals=APP_ACCESS_SIGNALS.empty_table(),
        description=f"{name} (CSV): empty",
        notes=(note,),
    )


def _read(readable: Path, name: str, encoding: str, source: CsvAppSource, scratch: Path) -> AppData:
    notes: tuple[str, ...] = ()
    if _cr_only(readable):  # classic Mac / old Excel exports end lines with CR alone
        readable = lf_only_copy(readable, scratch / "lf.csv", lone_cr=True)
        notes = (f"{name}: CR line endings were read as line breaks",)
    header = _read_header(readable, name, Path(source.location).suffix.lower() == ".tsv")
    if header is None:
        return _empty(name, f"{name} is empty: no header and no accounts")
    mapping = detect_columns(header.columns, source.options, f"the header of {name}")
    try:
        data = _run(readable, name, encoding, header, mapping, scratch)
    except duckdb.InvalidInputException as error:
        if "invalid state" not in str(error):
            raise SourceError(f"cannot read app file {name}: {error}") from None
        # DuckDB's strict parser stops at mixed CRLF/LF line endings; LF-only is
        # equivalent (same physical lines) and still strict about everything else.
        readable = lf_only_copy(readable, scratch / "lf.csv", lone_cr=False)
        try:
            data = _run(readable, name, encoding, header, mapping, scratch)
        except duckdb.InvalidInputException as again:
            message = stray_return_message(readable, name)
            raise SourceError(message or f"cannot read app file {name}: {again}") from None
        notes = (f"{name}: mixed CRLF/LF line endings were read as LF",)
    return dataclasses.replace(data, notes=(*data.notes, *notes))


def _run(
    readable: Path,
    name: str,
    encoding: str,
    header: _Header,
    mapping: ColumnMapping,
    scratch: Path,
) -> AppData:
    # Spill (huge files) goes to our scratch directory, never to the user's cwd.
    con = duck.connect(temp_directory=str(scratch / "duckdb"))
    try:
        return _CsvRun(con, readable, name, encoding, header, mapping).run()
    except duckdb.InvalidInputException:
        raise
    except duckdb.Error as error:
        raise SourceError(f"cannot read app file {name}: {error}") from None
    finally:
        con.close()


def _cr_only(readable: Path) -> bool:
    with readable.open("rb") as handle:
        head = handle.read(_TAIL)
    return b"\r" in head and b"\n" not in head


@dataclass(frozen=True)
class _LineMap:
    """Physical line numbers for DuckDB's output rows and rejected logical lines.

    Good row ``k`` (0-based, file order) starts on physical line
    ``k + offset``, where ``offset`` belongs to the last segment whose start is
    ``<= k``; a new segment begins after every line that holds no good row
    (header, rejected or blank line, continuation of a multi-line record).
    """

    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    logical: Callable[[int], int]  # DuckDB's logical line -> physical line
    approximate: bool = False

    def line_of(self, k: int) -> int:
        return k + self.offsets[bisect.bisect_right(self.starts, k) - 1]


def _skipping(excluded: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Segments mapping k to the k-th line (1-based) not in sorted, 0-based `excluded`."""
    starts, offsets = [0], [1]
    for j, index in enumerate(excluded):
        start = index - j  # lines kept before this excluded one
        if start == starts[-1]:
            offsets[-1] = j + 2
        else:
            starts.append(start)
            offsets.append(j + 2)
    return tuple(starts), tuple(offsets)


def _segments(lines: list[int]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Segments for an explicit list of physical lines, one per good row."""
    starts: list[int] = []
    offsets: list[int] = []
    for k, line in enumerate(lines):
        if not offsets or line - k != offsets[-1]:
            starts.append(k)
            offsets.append(line - k)
    return tuple(starts) or (0,), tuple(offsets) or (2,)


def _line_map(
    readable: Path, header: _Header, n_good: int, rejected: list[int], layout: Layout
) -> _LineMap:
    """Work out which physical line each row starts on, cheapest method first.

    1. The file's line count (`layout`, one counting pass) proves the common
       layout when it equals header + rows + rejects: every record DuckDB returned
       or rejected takes at least one line, and blank lines, quoted newlines and
       rejects that swallow lines only ever add lines. Then good rows fill the
       lines DuckDB did not reject.
    2. Otherwise quote parity per line finds multi-line records and blank lines
       (a fraction of a second per million lines), accepted only if it accounts
       for exactly DuckDB's row count.
    3. Otherwise Python's csv module re-parses the file (seconds per million),
       and if even that disagrees the numbers are marked approximate.
    A record spanning several lines is reported at its first line.
    """
    extra = header.lines - 1
    if layout.lines == header.lines + n_good + len(rejected):
        excluded = [*range(header.lines), *(line - 1 + extra for line in rejected)]
        starts, offsets = _skipping(excluded)
        return _LineMap(starts, offsets, lambda line: line + extra)
    by_quotes = _quote_layout(readable, n_good, rejected)
    if by_quotes is not None:
        return by_quotes
    units, blank, exact = _scan_records(readable, header.delimiter)
    rejected_set = set(rejected)
    good = [
        units[index]
        for index in range(1, len(units))
        if index not in blank and index + 1 not in rejected_set
    ]
    if not exact or len(good) != n_good:
        return _LineMap((0,), (header.lines + 1,), lambda line: line + extra, approximate=True)

    def logical(line: int) -> int:
        return units[line - 1] if 0 < line <= len(units) else line + extra

    starts, offsets = _segments(good)
    return _LineMap(starts, offsets, logical)


def _quote_layout(readable: Path, n_good: int, rejected: list[int]) -> _LineMap | None:
    """Record boundaries from quote parity: a line with an odd number of quotes
    opens or closes a quoted newline. Exact for RFC 4180 files; a stray quote in
    an unquoted value breaks the count check and hands over to the csv module.
    """
    data = readable.read_bytes()
    has_blank = data.find(b"\n\n") != -1 or data.find(b"\n\r\n") != -1
    lines = data.split(b"\n")
    del data
    if lines[-1] == b"":
        lines.pop()
    odd = [index for index, line in enumerate(lines) if line.count(b'"') % 2]
    if len(odd) % 2:
        return None
    continuation = [
        index
        for first, last in zip(odd[::2], odd[1::2], strict=True)
        for index in range(first + 1, last + 1)
    ]
    inside = set(continuation)
    blank = (
        [
            index
            for index, line in enumerate(lines)
            if (line == b"" or line == b"\r") and index not in inside
        ]
        if has_blank
        else []
    )
    unit_starts, unit_offsets = _skipping(continuation)

    def logical(line: int) -> int:
        unit = line - 1
        return unit + unit_offsets[bisect.bisect_right(unit_starts, unit) - 1]

    excluded = sorted({0, *continuation, *blank, *(logical(line) - 1 for line in rejected)})
    if len(lines) - len(excluded) != n_good:
        return None
    starts, offsets = _skipping(excluded)
    return _LineMap(starts, offsets, logical)


def _scan_records(readable: Path, delimiter: str) -> tuple[list[int], set[int], bool]:
    """Start line of every record and blank line, in DuckDB's logical numbering.

    Lines are split on ``\\n`` only (a physical line is what ``wc -l`` and
    editors count); the csv module then joins lines inside quotes. The flag is
    False when the csv module gives up (a stray carriage return, say).
    """
    units: list[int] = []
    blank: set[int] = set()
    try:
        with readable.open("rb") as raw:
            lines = (line.decode("utf-8", errors="replace") for line in raw)
            reader = csv.reader(lines, delimiter=delimiter)
            previous = 0
            for row in reader:
                if not row:
                    blank.add(len(units))
                units.append(previous + 1)
                previous = reader.line_num
    except csv.Error:
        return units, blank, False
    return units, blank, True


_FOUND = re.compile(r"Found:\s*(\d+)")


def _reject_reason(error_type: str, message: str, width: int, encoding: str) -> str:
    kind = error_type.upper()
    if kind in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        found = _FOUND.search(message)
        got = f"found {found.group(1)}" if found else kind.lower()
        return f"expected {width} columns as in the header, {got}"
    if kind == "UNQUOTED VALUE":
        return "a quoted value is not closed properly (unterminated quote, or text after it)"
    if "ENCODING" in kind or "UNICODE" in kind:
        return (
            f"not valid {encoding} text; set `app.encoding` to the file's encoding "
            '(e.g. "latin-1" or "cp1252")'
        )
    if "LINE SIZE" in kind:
        return "the line is longer than the CSV reader's maximum line size"
    return f"unreadable row: {message}"


class _CsvRun:
    """One read of one file on one private DuckDB connection."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        readable: Path,
        name: str,
        encoding: str,
        header: _Header,
        mapping: ColumnMapping,
    ) -> None:
        self.con = con
        self.readable = readable
        self.name = name
        # the scanned and the parsed file, kept alive while registered with DuckDB
        self.raw: pa.Table | None = None
        self.staged: pa.Table | None = None
        self.encoding = encoding
        self.header = header
        self.mapping = mapping
        self.fields = mapping.fields()
        self.rejects = f"billdrift_rejects_{uuid.uuid4().hex}"
        self.plain = False  # set by _stage: Arrow read the file (no rejects table)
        self.layout = Layout(0)  # set by _stage: the file's line count
        position: dict[str, int] = {}
        for index, column in enumerate(header.columns):
            position.setdefault(column, index)
        self.position = position

    def _col(self, column: str) -> str:
        return f"c{self.position[column]}"

    def _scan_sql(self) -> str:
        columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(self.header.columns)))
        return (
            f"read_csv({sql_string(str(self.readable))}, columns={{{columns}}}, header=true, "
            f"auto_detect=false, delim={sql_string(self.header.delimiter)}, quote='\"', "
            "escape='\"', strict_mode=true, null_padding=false, store_rejects=true, "
            f"rejects_table={sql_string(self.rejects)}, "
            f"rejects_scan={sql_string(self.rejects + '_scan')})"
        )

    def _stage(self) -> None:
        """Parse the file once into `staged`: typed, trimmed, flags classified.

        Text that needs no work (no value padded, so none blank: both scans read an
        empty field as NULL; see :func:`~billdrift.sources.csv.padding.padded`) is taken
        from the scanned columns as is, and so are the raw flag values: copying a
        million strings through DuckDB and back costs more than proving they need
        nothing.
        """
        # `k` is each record's ordinal in the file, attached to the bare scan before
        # any expression runs. DuckDB 2.0 does not always keep file order for a
        # parallel CSV scan under a projection of CASE expressions (seen at 1M rows:
        # 2-3 runs in 6 came out reordered, with CREATE TABLE AS and with streamed
        # results alike), and line numbers must not depend on luck.
        self.layout = Layout.of(self.readable)
        raw = self._plain_scan()
        self.plain = raw is not None
        if raw is None:
            raw = self.con.sql(f"SELECT * FROM {self._scan_sql()}").to_arrow_table()
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
        if not pc.all(pc.equal(staged.column("k"), ordinal)).as_py():
            staged = staged.sort_by("k")  # row k must be record k for the kept columns
        for name, source in kept.items():
            staged = staged.append_column(name, raw.column(source))
        self.staged = staged
        self.con.register("staged", self.staged)

    def _plain_scan(self) -> pa.Table | None:
        """Every column read by Arrow when the file is plain (see
        :mod:`billdrift.sources.csv.plain`), else None: DuckDB scans it."""
        layout = self.layout
        if not layout.plain:  # no need to try Arrow at all
            return None
        width = len(self.header.columns)
        return read_plain(self.readable, self.header.delimiter, width, range(width), lambda: layout)

    def _rejected(self) -> dict[int, str]:
        if self.plain:
            return {}  # Arrow read every record: nothing was rejected
        rows = self.con.execute(
            f"SELECT line, error_type, error_message FROM {quote_identifier(self.rejects)} "
            "ORDER BY line"
        ).fetchall()
        width = len(self.header.columns)
        reasons: dict[int, str] = {}
        for line, error_type, message in rows:
            reasons.setdefault(
                int(line), _reject_reason(str(error_type), str(message), width, self.encoding)
            )
        return reasons

    def run(self) -> AppData:
        self._stage()
        rejected = self._rejected()
        n_good = int(self.con.execute("SELECT count(*) FROM staged").fetchall()[0][0])
        if self.plain:  # one record per line was proved before the file was read
            lines = _LineMap(*_skipping([0]), lambda line: line)
        else:
            lines = _line_map(self.readable, self.header, n_good, sorted(rejected), self.layout)
        has_dups = self._find_duplicates()
        joins, line_sql, ordered = self._joins(lines, has_dups)
        good_rows = self._good_condition(has_dups)
        skips = self._row_skips(joins, good_rows, lines)
        if not skips and len(lines.starts) == 1:
            good = self._every_row_good(lines.offsets[0])
        else:
            good = self.con.sql(
                f"SELECT {self._output_columns(line_sql)} FROM staged s {joins} "
                f"WHERE {good_rows}{' ORDER BY s.k' if ordered else ''}"
            ).to_arrow_table()
        skips += [
            Skip("app", self.name, f"line {lines.logical(line)}", reason)
            for line, reason in rejected.items()
        ]
        skips.sort(key=lambda skip: int(skip.location.split()[1]))
        return self._result(good, skips, lines, n_good + len(rejected))

    def _find_duplicates(self) -> bool:
        """Whether any account id repeats; if so, `dups` holds each one's first row.
        Asked first with a bare count: repeats are rare, and the full table costs
        more than the question on a million rows."""
        repeated = self.con.execute(
            "SELECT count(account_id) - count(DISTINCT account_id) FROM staged"
        ).fetchall()[0][0]
        if not repeated:
            return False
        self.con.execute(
            "CREATE TEMP TABLE dups AS SELECT account_id, min(k) AS first_k FROM staged "
            "WHERE account_id IS NOT NULL GROUP BY account_id HAVING count(*) > 1"
        )
        return True

    def _joins(self, lines: _LineMap, has_dups: bool) -> tuple[str, str, bool]:
        """JOIN clauses, the line-number expression, and whether row order must be restored.

        A few segments become a CASE (no join, so DuckDB keeps file order for
        free); many (a file full of multi-line records) use an ASOF join.
        """
        joins = ""
        if len(lines.starts) <= _CASE_SEGMENTS:
            branches = " ".join(
                f"WHEN s.k >= {start} THEN {offset}"
                for start, offset in reversed(list(zip(lines.starts, lines.offsets, strict=True)))
            )
            line_sql = f"(s.k + CASE {branches} END)"
        else:
            segments = pa.table(
                {
                    "start_k": pa.array(lines.starts, pa.int64()),
                    "line_offset": pa.array(lines.offsets, pa.int64()),
                }
            )
            self.con.register("segments", segments)
            joins += " ASOF LEFT JOIN segments g ON s.k >= g.start_k"
            line_sql = "(s.k + g.line_offset)"
        if has_dups:
            joins += " LEFT JOIN dups d ON s.account_id = d.account_id"
        return joins, line_sql, bool(joins)

    def _good_condition(self, has_dups: bool) -> str:
        conditions = ["s.account_id IS NOT NULL"]
        conditions += [
            f"coalesce(s.f{index}_code, 0) <> {CODE_UNRECOGNIZED}"
            for index, (_, kind) in enumerate(self.fields)
            if kind == "flag"
        ]
        if has_dups:
            conditions.append("(d.first_k IS NULL OR d.first_k = s.k)")
        return " AND ".join(conditions)

    def _every_row_good(self, offset: int) -> pa.Table:
        """The common case (every row usable, one record per line), built from the
        staged columns as they are: no third pass of a million rows through DuckDB."""
        staged = self.staged
        if staged is None:
            raise RuntimeError("_stage() must run first")
        lines = pc.cast(pc.add(staged["k"], offset), pa.string())
        columns = {role: staged[role] for role in ROLES}
        columns["source_ref"] = pc.binary_join_element_wise(f"{self.name}:line ", lines, "")
        for index, (_, kind) in enumerate(self.fields):
            columns[f"f{index}_raw"] = staged[f"f{index}_raw"]
            if kind == "flag":  # codes here are only CODE_TRUE, CODE_FALSE or NULL
                columns[f"f{index}_flag"] = pc.cast(staged[f"f{index}_code"], pa.bool_())
        return pa.table(columns)

    def _output_columns(self, line_sql: str) -> str:
        prefix = sql_string(f"{self.name}:line ")
        select = [f"s.{role}" for role in ROLES]
        select.append(f"{prefix} || {line_sql} AS source_ref")
        for index, (_, kind) in enumerate(self.fields):
            select.append(f"s.f{index}_raw")
            if kind == "flag":
                select.append(f"{sql_flag(f's.f{index}_code')} AS f{index}_flag")
        return ", ".join(select)

    def _row_skips(self, joins: str, good_rows: str, lines: _LineMap) -> list[Skip]:
        """A Skip for every parsed row that cannot be used (few; fetched to Python)."""
        first = "d.first_k" if "dups d" in joins else "NULL"
        flag_columns = [
            (index, column) for index, (column, kind) in enumerate(self.fields) if kind == "flag"
        ]
        select = ["s.k", "s.account_id", f"{first} AS first_k", "s.customer_id"]
        select += [f"s.f{index}_raw, s.f{index}_code" for index, _ in flag_columns]
        rows = self.con.execute(
            f"SELECT {', '.join(select)} FROM staged s {joins} WHERE NOT ({good_rows}) ORDER BY s.k"
        ).fetchall()
        skips: list[Skip] = []
        for row in rows:
            k, account_id, first_k, customer = int(row[0]), row[1], row[2], row[3]
            location = f"line {lines.line_of(k)}"
            bad = [
                (column, row[4 + 2 * position])
                for position, (_, column) in enumerate(flag_columns)
                if row[5 + 2 * position] == CODE_UNRECOGNIZED
            ]
            if account_id is None:
                reason, column = "the account id is empty", self.mapping.account_id
            elif bad:
                reason, column = unrecognized_reason(bad), bad[0][0]
            else:
                reason = (
                    f"duplicate account id {account_id!r} (first seen on line "
                    f"{lines.line_of(int(first_k))}); only the first row with an id is used"
                )
                column = self.mapping.account_id
            # The customer id lets the rules hold back on that customer (never orphaned).
            skips.append(Skip("app", self.name, location, reason, column, customer_id=customer))
        return skips

    def _result(self, good: pa.Table, skips: list[Skip], lines: _LineMap, rows: int) -> AppData:
        accounts = good.select([*ROLES, "source_ref"]).cast(APP_ACCOUNTS)
        signals = _signals(good, self.mapping)
        notes = [note] if (note := detection_note(self.mapping, self.name)) else []
        if lines.approximate:
            notes.append(
                f"{self.name}: could not match every record to its line (irregular quoting); "
                "line numbers in skipped-row locations may be approximate"
            )
        delimiter = _DELIMITER_NAMES.get(self.header.delimiter, repr(self.header.delimiter))
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
