"""SQLite values as Arrow columns: text for ids and statuses, parsed flags.

SQLite is dynamically typed, so one column may mix integers, reals, text and
bytes. Uniformly typed columns convert in C (Arrow); only mixed or unusual ones
pay for a per-value Python conversion, and flag columns parse each distinct
value once.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.sources.app.booleans import parse_boolean_values
from billdrift.sources.app.text import TextKind, clean_text


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


def role_text(values: Sequence[object], kind: TextKind) -> pa.Array:
    """Text for one role: ids trimmed, statuses trimmed and lower-cased, text as given."""
    return clean_text(_text_array(values), kind)


def flag_column(values: Sequence[object]) -> tuple[pa.Array, pa.Array, list[int]]:
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
