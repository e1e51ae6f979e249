"""The fast path both CSV sources try first: Arrow's reader on plain files.

DuckDB's ``read_csv`` is what the CSV sources rely on for everything hard:
quoted values, line breaks inside them, ragged rows kept as rejects with their
line. Most exports need none of it: no quote character
anywhere, one record per line. Arrow's multi-threaded reader parses such a file
into text columns in about half the time (a 120 MB export: 0.30 s against
0.52 s here; a 54 MB one: 0.08 s against 0.25 s).

So a source reads with Arrow only when the file is *plain*, and proves it
afterwards: no quote byte in the whole file, every record has the header's
width (Arrow refuses the file otherwise), every byte is UTF-8 (the counting pass
checks, so Arrow's own check is off), and
the physical line count equals header + records (so no blank line was skipped
and no stray carriage return split a line). Any doubt returns ``None`` and the
source takes its DuckDB path, which gives the same columns for plain files:
text as written, an empty field as NULL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv

from billdrift.sources.csv.utf8 import Utf8Check

_COUNT_CHUNK = 1 << 22
_TAIL = 1 << 16
#: Arrow parses blocks in parallel; 16 MB blocks keep both cores busy on a large
#: file without cutting it into hundreds of chunks.
_BLOCK = 1 << 24


@dataclass(frozen=True)
class Layout:
    """What one counting pass over the bytes tells about a file."""

    #: Physical lines up to the last non-empty one (trailing line breaks ignored).
    lines: int
    #: Whether a double quote appears anywhere: then only DuckDB reads the file.
    quoted: bool = False
    #: A carriage return that does not end a line, or CRLF and LF endings mixed:
    #: the sources have their own handling (and notes) for those.
    irregular_endings: bool = False
    #: The physical line of the first byte that is not UTF-8 (the readable file
    #: always should be: it is the file itself only when configured as UTF-8).
    undecodable: int | None = None

    @property
    def plain(self) -> bool:
        return not self.quoted and not self.irregular_endings

    @classmethod
    def of(cls, path: str | Path) -> Layout:
        breaks = returns = crlf = 0
        quoted, tail, last = False, b"", 0
        buffer = bytearray(_COUNT_CHUNK)  # reused: no fresh allocation per chunk
        utf8 = Utf8Check()
        with open(path, "rb", buffering=0) as handle:
            while size := handle.readinto(buffer):
                utf8.feed(buffer, size, breaks + 1)
                breaks += buffer.count(b"\n", 0, size)
                if buffer.find(b"\r", 0, size) != -1:  # most files have none: skip two counts
                    returns += buffer.count(b"\r", 0, size)
                    crlf += buffer.count(b"\r\n", 0, size)
                crlf += last == 13 and buffer[0] == 10
                quoted = quoted or buffer.find(b'"', 0, size) != -1
                tail = (tail + bytes(memoryview(buffer)[max(0, size - _TAIL) : size]))[-_TAIL:]
                last = buffer[size - 1]
        trailing = tail[len(tail.rstrip(b"\r\n")) :].count(b"\n")
        irregular = returns != crlf or crlf not in (0, breaks)
        return cls(breaks - trailing + 1, quoted, irregular, utf8.finish(breaks + 1))


def read_plain(
    path: str | Path,
    delimiter: str,
    width: int,
    columns: Sequence[int],
    layout: Callable[[], Layout],
) -> pa.Table | None:
    """Columns ``c<i>`` (for each i in `columns`) of a plain file, as text; None if the
    file is not plain or Arrow cannot read every record of it.

    `layout` gives the file's :class:`Layout` (a source may count it in a thread
    while Arrow parses); the result is trusted only if the layout is plain and
    its line count equals header + records, the one way to know Arrow skipped no
    blank line and split no line on a stray carriage return.
    """
    if width < 2:  # a one-column file cannot show a ragged row: leave it to DuckDB
        return None
    names = [f"c{index}" for index in range(width)]
    wanted = [names[index] for index in columns]
    try:
        # Memory-mapped: Arrow parses the page cache in place. Reading into buffers
        # of its own touched as many fresh pages as the file has bytes, and page
        # first-touch is the dearest thing a large run does on this kind of VM.
        with pa.memory_map(str(path)) as source:
            table = pa_csv.read_csv(
                source,
                read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK),
                parse_options=pa_csv.ParseOptions(delimiter=delimiter, quote_char=False),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=wanted,
                    column_types=dict.fromkeys(wanted, pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                    # the counting pass checks every byte (Layout.undecodable), and the
                    # table is dropped below if one is not UTF-8: a second check here
                    # cost a seventh of parsing a 120 MB export
                    check_utf8=False,
                ),
            )
    except (pa.ArrowInvalid, OSError):
        return None
    counted = layout()
    if (
        not counted.plain
        or counted.undecodable is not None  # Arrow's text would not be UTF-8
        or counted.lines != 1 + table.num_rows
    ):
        return None
    return table
