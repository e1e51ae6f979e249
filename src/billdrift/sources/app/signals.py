"""The canonical access-signal relation, built the same way by every app source."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from billdrift.core.model import APP_ACCESS_SIGNALS
from billdrift.sources.app.columns import ColumnMapping

Column = Any  # pa.Array | pa.ChunkedArray (pyarrow ships no type hints)


def access_signals(
    account_ids: Column,
    mapping: ColumnMapping,
    raw: Callable[[int], Column],
    flag: Callable[[int], Column],
) -> pa.Table:
    """One block per mapped access field, each in account order (columns are reused,
    not copied): `raw(i)` and `flag(i)` give field i's text and parsed flag."""
    count = len(account_ids)
    blocks = []
    for index, (name, kind) in enumerate(mapping.fields()):
        blocks.append(
            pa.table(
                {
                    "account_id": account_ids,
                    "field": pa.repeat(name, count),
                    "kind": pa.repeat(kind, count),
                    "raw": raw(index),
                    "flag": flag(index) if kind == "flag" else pa.nulls(count, pa.bool_()),
                    "is_primary": pa.repeat(name == mapping.primary_access_field, count),
                }
            )
        )
    return pa.concat_tables(blocks).cast(APP_ACCESS_SIGNALS)
