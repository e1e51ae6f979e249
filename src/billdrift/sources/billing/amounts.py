"""Unit amounts of a subscriptions export: major ("79.00") or minor ("7900") units.

A file never mixes units, so one reading is chosen for the whole file, from the
configuration or, in auto mode, from the amounts themselves, with a note saying why.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.config import BillingConfig
from billdrift.core.bounds import MAX_MINOR

_OVERRIDE = 'set billing.amount_units = "{other}" in the config file if that is wrong'


def unit_amounts(
    table: pa.Table, label: str | None, options: BillingConfig, name: str
) -> tuple[pa.Array | pa.ChunkedArray, pa.Array | pa.ChunkedArray, str | None]:
    """Unit amounts in minor units, rows whose amount does not fit the units, and the note.

    The SQL parsed every amount as a number; here one reading is chosen for the
    whole file (a file never mixes units) and, in auto mode, the note says why.
    `label` is the amount column's header (None: the file has none).
    """
    if label is None:
        missing = (
            f"{name}: no Amount column, so subscription prices (and money at stake) are unknown"
        )
        nothing = pa.nulls(table.num_rows, pa.int64())
        return nothing, pa.repeat(pa.scalar(False), table.num_rows), missing
    value, scale = table.column("_amount"), table.column("_scale")
    # Rows whose amount is out of bounds are skipped already (the SQL checks them): they
    # must not sway the units chosen for the file, nor overflow the detection.
    usable = pc.and_(pc.is_finite(value), pc.less_equal(pc.abs(value), float(MAX_MINOR)))
    value = pc.if_else(usable, value, None)
    units: str = options.amount_units
    note: str | None = None
    if units == "auto":
        units, why = _detect_units(table, value, scale)
        other = "minor" if units == "major" else "major"
        note = f"{name}: {label!r} read as {units} units ({why}); " + _OVERRIDE.format(other=other)
    minor = pc.multiply(value, scale) if units == "major" else value
    rounded = pc.round(minor)
    fits = pc.and_(
        pc.less_equal(pc.abs(pc.subtract(minor, rounded)), 1e-4),
        pc.less_equal(pc.abs(rounded), float(MAX_MINOR)),
    )
    amounts = pc.cast(pc.if_else(fits, rounded, None), pa.int64())
    return amounts, pc.invert(pc.fill_null(fits, True)), note


def _detect_units(
    table: pa.Table, value: pa.ChunkedArray, scale: pa.ChunkedArray
) -> tuple[str, str]:
    """Decimals anywhere -> major; whole numbers -> minor unless some are too small to be cents."""
    dotted = pc.sum(pc.cast(table.column("_amount_dot"), pa.int64())).as_py() or 0
    if dotted:
        given = pc.count(value).as_py()
        return "major", f"{dotted} of {given} amounts are written with a decimal point"
    judged = pc.and_(pc.equal(scale, 100.0), pc.not_equal(value, 0.0))
    values = pc.abs(value.filter(pc.fill_null(judged, False)))
    if len(values) == 0:
        return "minor", "no decimal amounts and no non-zero amount in a two-decimal currency"
    smallest = int(pc.min(values).as_py())
    if smallest >= 100:
        return (
            "minor",
            "every amount is a whole number and every non-zero amount in a two-decimal "
            f"currency is at least 100 (smallest {smallest}), as with cents",
        )
    return (
        "major",
        f"amounts are whole numbers but {smallest} in a two-decimal currency is too small "
        "to be a price in cents",
    )
