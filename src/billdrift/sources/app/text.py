"""How every row-reading app source cleans text values (SQLite, live databases).

Ids are trimmed, statuses trimmed and lower-cased (they are compared with policy
lists), free text kept as given; blank means NULL everywhere. One definition, so
the same database column reads the same whichever source reads it.
"""

from __future__ import annotations

from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.sources.app.booleans import WHITESPACE
from billdrift.sources.csv.padding import needs_cleaning

TextKind = Literal["id", "status", "text"]


def blank_to_null(values: pa.Array, test: pa.Array | None = None) -> pa.Array:
    """NULL where `test` (default: `values`) is the empty string."""
    empty = pc.equal(values if test is None else test, "")
    return pc.if_else(empty, pa.scalar(None, pa.string()), values)


def clean_text(text: pa.Array, kind: TextKind) -> pa.Array:
    if kind != "status" and not needs_cleaning(text):
        return text  # the common case: nothing to trim, nothing blank
    trimmed = pc.utf8_trim(text, WHITESPACE)
    if kind == "id":
        return blank_to_null(trimmed)
    if kind == "status":
        return blank_to_null(pc.utf8_lower(trimmed))
    return blank_to_null(text, trimmed)
