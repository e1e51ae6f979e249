"""Reading a CSV file's records into Arrow text columns: Arrow when it is plain, else DuckDB.

Both sides read a CSV file the same way. :func:`opened` prepares it (a scratch
directory, a UTF-8 file, CR-only line endings made LF) and :func:`scan` reads
the columns a side asks for, every value as text (an empty field is NULL):

* by Arrow's multi-threaded reader when the file is plain (no quote in its
  first megabyte; :mod:`billdrift.sources.csv.plain` proves the rest), while a
  second thread counts its lines;
* otherwise by DuckDB's ``read_csv`` with nothing left to guess (names, types
  and dialect given, strict parsing), which keeps rows it cannot split as
  rejects (:mod:`billdrift.sources.csv.rejects`) instead of stopping;
* and when DuckDB stops at mixed CRLF/LF endings, again from an LF-only copy,
  with a note.

The line count and the rejects then give every row its physical line
(:mod:`billdrift.sources.csv.lines`).
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.errors import SourceError
from billdrift.infra import duck
from billdrift.infra.duck import sql_string
from billdrift.sources.csv.dialect import Header
from billdrift.sources.csv.encoding import utf8_file
from billdrift.sources.csv.endings import PROBE_BYTES, cr_only, lf_only_copy, stray_return_message
from billdrift.sources.csv.naming import Naming
from billdrift.sources.csv.plain import Layout, read_plain
from billdrift.sources.csv.rejects import Reject, read_rejects


@dataclass
class CsvFile:
    """A CSV file prepared for reading (see :func:`opened`)."""

    #: UTF-8 bytes with LF or CRLF line endings: the file itself or a copy.
    readable: Path
    #: A private directory for copies and DuckDB's spill files, removed afterwards.
    scratch: Path
    naming: Naming
    #: What the read had to do to the file's form (line endings), for the data's notes.
    notes: list[str] = field(default_factory=list)

    def connect(self, **settings: Any) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection that spills (huge files) to the scratch directory (or,
        as a cursor of the readers' shared database, to that database's own private
        one: :class:`billdrift.infra.duck.SharedDatabase`), never to the user's
        working directory."""
        return duck.connect(temp_directory=str(self.scratch / "duckdb"), **settings)


@contextmanager
def opened(path: Path, codec: str, naming: Naming) -> Iterator[CsvFile]:
    """The file at `path`, in `codec`, ready for
    :func:`~billdrift.sources.csv.dialect.read_header` and :func:`scan`:
    transcoded to UTF-8 if need be, CR-only line endings made LF (with a note)."""
    with tempfile.TemporaryDirectory(prefix="billdrift-csv-") as folder:
        scratch = Path(folder)
        file = CsvFile(utf8_file(path, codec, scratch, naming), scratch, naming)
        with file.readable.open("rb") as handle:
            head = handle.read(PROBE_BYTES)
        if cr_only(head):
            file.readable = lf_only_copy(file.readable, scratch / "lf.csv", lone_cr=True)
            file.notes.append(f"{naming.name}: CR line endings were read as line breaks")
        yield file


@dataclass(frozen=True)
class Scan:
    """The records of one CSV file as text columns."""

    #: Columns ``c<i>`` asked for, one row per record read, in file order.
    table: pa.Table
    #: Records DuckDB could not split into the header's columns, in file order.
    rejects: tuple[Reject, ...]
    #: The bytes parsed: :attr:`CsvFile.readable`, or its LF-only copy.
    readable: Path
    #: Arrow read the file (it proved plain: nothing was rejected).
    plain: bool
    #: The line count, still running after DuckDB's scan: the source's own SQL runs
    #: meanwhile, and only line numbers wait for it.
    counting: Future[Layout]
    naming: Naming

    @property
    def layout(self) -> Layout:
        """The file's :class:`Layout`; a SourceError naming the line, the encoding and
        the setting when a byte is not UTF-8, wherever it is (the readers check only
        the columns read, and DuckDB would keep the row as a reject). Every source
        asks for it, for line numbers, before it returns any data."""
        return _decodable(self.counting.result(), self.naming)


def _decodable(layout: Layout, naming: Naming) -> Layout:
    if layout.undecodable is not None:
        raise SourceError(naming.undecodable(f"line {layout.undecodable}"))
    return layout


class _StrayReturn(Exception):
    """DuckDB's strict parser met a carriage return that ends no line (or mixed
    CRLF/LF endings)."""


def scan(
    file: CsvFile, con: duckdb.DuckDBPyConnection, header: Header, columns: Sequence[int]
) -> Scan:
    """Columns ``c<i>`` (i in `columns`, indexes into the header) of every record, as text.

    Mixed CRLF/LF endings are read from an LF-only copy, with a note in
    `file.notes`; a carriage return that ends no line is a SourceError naming its line.
    """
    try:
        return _scan(con, file.readable, header, columns, file.naming)
    except _StrayReturn:
        pass
    fixed = lf_only_copy(file.readable, file.scratch / "lf-only.csv", lone_cr=False)
    try:
        found = _scan(con, fixed, header, columns, file.naming)
    except _StrayReturn as again:
        message = stray_return_message(fixed, file.naming.file)
        raise SourceError(message or f"cannot read {file.naming.file}: {again}") from None
    file.notes.append(f"{file.naming.name}: mixed CRLF/LF line endings were read as LF")
    return found


def _scan(
    con: duckdb.DuckDBPyConnection,
    readable: Path,
    header: Header,
    columns: Sequence[int],
    naming: Naming,
) -> Scan:
    # The line count runs while the file is parsed (Arrow and DuckDB release the GIL).
    pool = ThreadPoolExecutor(1, thread_name_prefix="csv-lines")
    counting = pool.submit(Layout.of, readable)
    pool.shutdown(wait=False)  # the thread ends with the count
    table = None
    if not header.quoted:
        table = read_plain(readable, header.delimiter, len(header.names), columns, counting.result)
    if table is not None:
        return Scan(table, (), readable, True, counting, naming)
    rejects_table = f"billdrift_rejects_{uuid.uuid4().hex}"
    try:
        table = con.sql(_duckdb_scan(readable, header, columns, rejects_table)).to_arrow_table()
        rejects = read_rejects(con, rejects_table)
    except duckdb.Error as error:
        _decodable(counting.result(), naming)  # and the file is not removed under the count
        if "invalid state" in str(error):
            raise _StrayReturn(str(error)) from None
        raise SourceError(f"cannot read {naming.file}: {error}") from None
    return Scan(table, rejects, readable, False, counting, naming)


def _duckdb_scan(readable: Path, header: Header, columns: Sequence[int], rejects: str) -> str:
    """DuckDB's CSV reader with nothing left to guess: names, types and dialect are given."""
    types = ", ".join(f"'c{index}': 'VARCHAR'" for index in range(len(header.names)))
    return (
        f"SELECT {', '.join(f'c{index}' for index in columns)} "
        f"FROM read_csv({sql_string(str(readable))}, columns={{{types}}}, header=true, "
        f"auto_detect=false, delim={sql_string(header.delimiter)}, quote='\"', escape='\"', "
        "strict_mode=true, null_padding=false, store_rejects=true, "
        f"rejects_table={sql_string(rejects)}, rejects_scan={sql_string(rejects + '_scan')})"
    )


def in_record_order(table: pa.Table, key: str, ordinal: pa.Array) -> pa.Table:
    """`table` with its rows back in record order.

    A query over a scan carries each record's ordinal (`key`, attached to the
    bare scan before any expression runs): DuckDB 2.0 does not always keep file
    order for a parallel scan under a projection of expressions (seen at 1M
    rows, 2-3 runs in 6), and line numbers must not depend on luck.
    """
    if not pc.all(pc.equal(table.column(key), ordinal)).as_py():
        return table.sort_by(key)
    return table
