"""Whether the bytes both CSV readers parse are UTF-8, checked in the one pass that counts lines.

Neither reader can be trusted to say so: Arrow and DuckDB check only the columns a
read asks for, and DuckDB keeps a row with a bad byte as a reject, which made a
file in another encoding a row skipped rather than the error the README
promises. So every byte is checked, chunk by chunk, as the line count reads it:
Arrow's validator (vectorized, a few milliseconds for 100 MB) says whether a
chunk is valid, and only a chunk it doubts (a character cut at the chunk's end,
or a real error) goes through Python's incremental decoder, which finds the
first bad byte exactly. The line of that byte is what the error names.
"""

from __future__ import annotations

import codecs

import pyarrow as pa


class Utf8Check:
    """Fed a file's consecutive chunks; remembers the line of its first byte that is
    not UTF-8."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
        #: The physical line (1-based) of the first invalid byte, once one is found.
        self.bad_line: int | None = None

    def feed(self, buffer: bytearray, size: int, line: int) -> None:
        """Check the next chunk, ``buffer[:size]``, which starts on physical `line`."""
        if self.bad_line is not None:
            return
        chunk = memoryview(buffer)[:size]
        pending = len(self._decoder.getstate()[0])
        if not pending and _valid(chunk):
            return
        try:
            self._decoder.decode(chunk)
        except UnicodeDecodeError as error:
            # error.start counts the bytes held back from the previous chunk too;
            # they hold no line break (no character contains one).
            self.bad_line = line + buffer.count(b"\n", 0, max(error.start - pending, 0))

    def finish(self, line: int) -> int | None:
        """The line of the first invalid byte, a character cut off by the end of the
        file (whose last line is `line`) included; None when every byte was UTF-8."""
        if self.bad_line is None:
            try:
                self._decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                self.bad_line = line
        return self.bad_line


def _valid(chunk: memoryview) -> bool:
    """Whether `chunk` is UTF-8 ending on a whole character, by Arrow's validator,
    without copying it."""
    offsets = pa.array([0, len(chunk)], pa.int32()).buffers()[1]
    text = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(chunk)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True
