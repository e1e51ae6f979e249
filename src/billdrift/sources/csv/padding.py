"""Whether Arrow text needs trimming or blank-to-NULL work, decided exactly and cheaply.

Sources clean text (trim ids, turn blank values into NULL) so both sides compare
alike. Most columns need none of it, and running the cleaning over a million
values, or copying them through DuckDB to do so, costs more than proving that
no value needs it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def padded(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether any value starts or ends with whitespace or a control character.

    Exact, over every value, yet cheap: only the first and the last byte of each
    value are read, straight from the Arrow buffers. A byte <= 32 there is exactly
    a first or last character <= U+0020, since no byte of a multi-byte UTF-8
    character is that small. Sources use it to skip trimming text that needs none.
    """
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    for chunk in chunks:
        if not pa.types.is_string(chunk.type) and not pa.types.is_large_string(chunk.type):
            chunk = chunk.cast(pa.string())
        count = len(chunk)
        if count == chunk.null_count:
            continue
        _, offsets_buffer, data = chunk.buffers()
        if data is None:
            continue
        width = pa.int64() if pa.types.is_large_string(chunk.type) else pa.int32()
        offsets = pa.Array.from_buffers(
            width, count + 1, [None, offsets_buffer], offset=chunk.offset
        )
        starts, ends = offsets.slice(0, count), offsets.slice(1, count)
        filled = pc.greater(ends, starts)  # null and empty values have no bytes
        data_bytes = pa.Array.from_buffers(pa.uint8(), data.size, [None, data])
        first = pc.take(data_bytes, starts.filter(filled))
        last = pc.take(data_bytes, pc.subtract(ends.filter(filled), 1))
        if pc.any(pc.or_(pc.less_equal(first, 32), pc.less_equal(last, 32))).as_py():
            return True
    return False


def needs_cleaning(column: pa.ChunkedArray | pa.Array) -> bool:
    """Whether trimming whitespace or turning empty text into NULL would change any
    value: some value is padded (:func:`padded`) or empty."""
    if padded(column):
        return True
    return pc.any(pc.equal(pc.binary_length(column), 0)).as_py() is True
