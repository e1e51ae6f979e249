"""Physical line numbers: the line of the file on which each record starts.

Skips and ``source_number`` (:mod:`billdrift.core.refs`) name the *physical* line
where a row starts, the header being line 1, exactly what an editor shows, even
after rejected rows, line breaks inside quoted values or blank lines. DuckDB
numbers rejected records by *logical* line (records and blank lines, quoted line
breaks not counted) and says nothing about the lines of good rows, so the mapping
is rebuilt here, cheapest method first (see :func:`locate`).

Good row ``k`` (0-based, file order) starts on physical line ``k + offset``,
where ``offset`` belongs to the last segment whose start is ``<= k``: a new
segment begins after every line that holds no good row (header, rejected or
blank line, continuation of a multi-line record). Most files are one segment.
"""

from __future__ import annotations

import bisect
import csv
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.infra.ordinals import ordinals
from billdrift.sources.csv.dialect import Header
from billdrift.sources.csv.plain import Layout
from billdrift.sources.csv.rejects import Reject


@dataclass(frozen=True)
class Lines:
    """Where the good rows and the rejected records of one read start."""

    starts: tuple[int, ...]
    offsets: tuple[int, ...]
    #: The physical line of each rejected record, in the order they were given.
    rejected: tuple[int, ...] = ()
    #: No method matched every record to a line: numbers may be off (a note says so).
    approximate: bool = False

    def line_of(self, k: int) -> int:
        """The physical line of good row `k`."""
        return k + self.offsets[bisect.bisect_right(self.starts, k) - 1]

    def column(self, count: int) -> pa.Array:
        """The physical line of each of `count` good rows, as int64."""
        ordinal = ordinals(count)
        if len(self.starts) == 1:
            return pc.add(ordinal, self.offsets[0])
        marks = pc.is_in(ordinal, value_set=pa.array(self.starts, pa.int64()))
        segment = pc.subtract(pc.cumulative_sum(pc.cast(marks, pa.int64())), 1)
        return pc.add(ordinal, pc.take(pa.array(self.offsets, pa.int64()), segment))

    def note(self, name: str) -> str | None:
        """What a report should say about these numbers, if anything."""
        if not self.approximate:
            return None
        return (
            f"{name}: could not match every record to its line (irregular quoting); "
            "line numbers in skipped-row locations may be approximate"
        )


def locate(
    readable: Path, header: Header, layout: Layout, count: int, rejects: Sequence[Reject]
) -> Lines:
    """Work out which physical line each of `count` good rows and each reject starts on.

    1. The file's line count (`layout`, one counting pass) proves the common
       layout when it equals header + rows + the lines the rejects take: every
       record takes at least one line, and blank lines and quoted line breaks
       only ever add lines. Then good rows fill the lines not rejected.
    2. Otherwise quote parity per line finds multi-line records and blank lines
       (vectorized, a fraction of a second per million lines), accepted only if
       it accounts for exactly DuckDB's good rows and rejects.
    3. Otherwise Python's csv module re-parses the file (seconds per million
       lines; a stray quote in an unquoted value misleads the parity), and if
       even that disagrees the numbers are marked approximate.
    A record spanning several lines is reported at its first line.
    """
    if layout.lines == header.lines + count + sum(reject.span for reject in rejects):
        shifted = _shifted(header.lines, count, rejects)
        if shifted is not None:
            return shifted
    found = _by_quotes(readable, count, rejects)
    if found is None:
        found = _by_csv_module(readable, header, count, rejects)
    if found is not None:
        return found
    extra = header.lines - 1
    rejected = tuple(reject.record + extra for reject in rejects)
    return Lines((0,), (header.lines + 1,), rejected, approximate=True)


def _shifted(header_lines: int, count: int, rejects: Sequence[Reject]) -> Lines | None:
    """Numbers when records are lines: each reject pushes the rows after it down
    by the lines it takes. None if the rejects do not fit that layout after all."""
    starts, offsets = [0], [header_lines + 1]
    rejected: list[int] = []
    before = spans = 0
    for index, reject in enumerate(rejects):
        good_before = reject.record - 2 - index  # records before it, less header and rejects
        if not before <= good_before <= count:
            return None
        rejected.append(header_lines + 1 + good_before + spans)
        spans += reject.span
        before = good_before
        if starts[-1] == good_before:
            offsets[-1] = header_lines + 1 + spans
        else:
            starts.append(good_before)
            offsets.append(header_lines + 1 + spans)
    return Lines(tuple(starts), tuple(offsets), tuple(rejected))


def _by_quotes(readable: Path, count: int, rejects: Sequence[Reject]) -> Lines | None:
    """Numbers from where each record starts, matched to DuckDB's record numbers."""
    records, lines = _record_starts(readable)
    rejected = pa.array([reject.record for reject in rejects], pa.int64())
    keep = pc.and_(pc.greater(records, 1), pc.invert(pc.is_in(records, value_set=rejected)))
    good = lines.filter(keep)
    where = pc.index_in(rejected, value_set=records)
    if len(good) != count or where.null_count:
        return None
    starts, offsets = _segments(good)
    return Lines(starts, offsets, tuple(pc.take(lines, where).to_pylist()))


def _record_starts(readable: Path) -> tuple[pa.Array, pa.Array]:
    """(DuckDB record number, physical line) for every record of the file, header included.

    DuckDB numbers records and blank lines together (the header is 1) but not
    line breaks inside quoted values. A line break is inside a value when an
    odd number of quote characters came before it in the record (RFC 4180
    doubles quotes inside values, so the parity is exact). Only per-line counts
    are taken in Python (C-level map); the bookkeeping is Arrow.
    """
    lines = readable.read_bytes().split(b"\n")
    quotes = pa.array(list(map(bytes.count, lines, itertools.repeat(b'"'))), pa.int64())
    lengths = pa.array(list(map(len, lines)), pa.int64())
    short = pc.indices_nonzero(pc.less_equal(lengths, 1)).to_pylist()
    blank = pa.array([False] * len(lines))
    if short:
        empty = [index for index in short if lines[index] in (b"", b"\r")]
        blank = pc.is_in(
            pa.array(range(len(lines)), pa.int64()), value_set=pa.array(empty, pa.int64())
        )
    odd = pc.bit_wise_and(quotes, 1)
    outside = pc.equal(pc.bit_wise_and(pc.subtract(pc.cumulative_sum(odd), odd), 1), 0)
    numbers = pc.cumulative_sum(pc.cast(outside, pa.int64()))
    starts = pc.indices_nonzero(pc.and_(outside, pc.invert(blank)))
    return pc.take(numbers, starts), pc.add(pc.cast(starts, pa.int64()), 1)


def _segments(good: pa.Array) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Segments for the physical line of each good row (int64, in row order)."""
    if len(good) == 0:
        return (0,), (2,)
    offsets = pc.subtract(good, ordinals(len(good)))
    changed = pc.not_equal(offsets.slice(1), offsets.slice(0, len(offsets) - 1))
    starts = pc.add(pc.indices_nonzero(changed), 1).to_pylist()
    starts = [0, *starts]
    return tuple(starts), tuple(pc.take(offsets, pa.array(starts, pa.int64())).to_pylist())


def _by_csv_module(
    readable: Path, header: Header, count: int, rejects: Sequence[Reject]
) -> Lines | None:
    """Numbers from Python's csv module, which re-parses the whole file."""
    units, blank, exact = _scan_records(readable, header.delimiter)
    rejected = {reject.record for reject in rejects}
    good = [
        units[index]
        for index in range(1, len(units))
        if index not in blank and index + 1 not in rejected
    ]
    if not exact or len(good) != count:
        return None
    starts, offsets = _segments(pa.array(good, pa.int64()))
    extra = header.lines - 1
    lines = [
        units[record - 1] if 0 < record <= len(units) else record + extra
        for record in (reject.record for reject in rejects)
    ]
    return Lines(starts, offsets, tuple(lines))


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
