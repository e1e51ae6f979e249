"""Record ordinals as an Arrow column.

Line numbers and "first input, first row wins" both hang on a record's position
in its source, taken once from a result whose order is known and carried as data
from then on, because DuckDB does not promise to keep row order through a query.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def ordinals(count: int) -> pa.Array:
    """0, 1, ..., count - 1 as int64, built without a Python loop."""
    ones = pa.repeat(pa.scalar(1, pa.int64()), count)
    return pc.subtract(pc.cumulative_sum(ones), 1)
