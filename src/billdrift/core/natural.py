"""Ids ordered as a person reads them, in Python (the SQL form is
:func:`billdrift.core.sql.natural_order`).

Reports and queues order in SQL; what is left in Python (the statements of a fix
plan) orders the same way, so "acct_2" comes before "acct_19" everywhere.
"""

from __future__ import annotations

import re
from typing import Final

_DIGITS: Final = re.compile(r"(\d+)")


def natural_key(value: str | None) -> tuple[tuple[int, int, str], ...]:
    """`value` ordered as a person reads it: runs of digits by number ("2" < "19",
    "u2" < "u10"), the rest as text; no id sorts last."""
    if value is None:
        return ((2, 0, ""),)
    return tuple(
        (0, int(part), part) if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(value)
        if part
    )
