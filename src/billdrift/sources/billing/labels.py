"""Labels of a subscriptions export (status, currency, interval, plan, product), made canonical.

Labels have few distinct values in a file of millions of rows, so each distinct
value is normalised once, in Python, and the column rebuilt through Arrow.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.currency import minor_exponent

#: Interval spellings -> (canonical interval, multiplier). Commonest first: the SQL
#: CASE stops at the first match, and this runs once per row.
INTERVALS = {
    "month": ("month", 1),
    "year": ("year", 1),
    "week": ("week", 1),
    "day": ("day", 1),
    "monthly": ("month", 1),
    "yearly": ("year", 1),
    "annual": ("year", 1),
    "annually": ("year", 1),
    "weekly": ("week", 1),
    "daily": ("day", 1),
    "quarter": ("month", 3),
    "quarterly": ("month", 3),
}
#: Low-cardinality text columns normalised per distinct value (see canonical_labels).
LABELS = ("status", "currency", "interval", "plan", "product")


@dataclass(frozen=True)
class _Distinct:
    """A text column seen as its distinct values: work once per value, not per row.

    Most exports already write labels canonically ("active", "usd", "month"), so
    a mapping that leaves every value as it is returns the column itself, and one
    that gives every row the same value returns a constant column. Only a real
    change per value pays for dictionary-encoding the column and a take (a third
    of a second over five label columns of a million rows).
    """

    column: pa.ChunkedArray
    values: list[str | None]

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> _Distinct:
        return cls(column, pc.unique(column).to_pylist())

    def map(
        self, function: Callable[[str], object], kind: pa.DataType
    ) -> pa.Array | pa.ChunkedArray:
        """`function` of every row's value (None stays None), computed per distinct value."""
        mapped = [None if value is None else function(value) for value in self.values]
        if mapped == self.values and kind == self.column.type:
            return self.column
        count = len(self.column)
        if len(set(mapped)) == 1:
            return pa.repeat(pa.scalar(mapped[0], kind), count)
        encoded = self.column.combine_chunks().dictionary_encode()
        lookup = dict(zip(self.values, mapped, strict=True))
        ordered = [lookup[value] for value in encoded.dictionary.to_pylist()]
        return pc.take(pa.array(ordered, kind), encoded.indices)


def _clean(value: str) -> str | None:
    return value.strip() or None


def _lowered(value: str) -> str | None:
    return value.strip().lower() or None


def _interval(value: str) -> str | None:
    return INTERVALS.get(value.strip().lower(), (None, 1))[0]


def _interval_factor(value: str) -> int:
    return INTERVALS.get(value.strip().lower(), (None, 1))[1]


def _unknown_interval(value: str) -> bool:
    return bool(value.strip()) and value.strip().lower() not in INTERVALS


def canonical_labels(
    table: pa.Table, roles: Collection[str], plan_ids: bool, product_ids: bool
) -> pa.Table:
    """Canonical status, currency, interval and price/plan/product columns, plus helpers.

    Adds ``_scale`` (minor units per major unit, from currency.minor_exponent)
    and ``_bad_interval`` (an interval billdrift does not know: the row is skipped).
    `roles` are the roles the file has; `plan_ids` and `product_ids` say that the
    header names the column as ids (``Plan ID``), so every value is one.
    """
    count = table.num_rows
    default_scale = float(10 ** minor_exponent(None))
    columns = {"status": _Distinct.of(table.column("_status")).map(_lowered, pa.string())}
    columns["_scale"] = pa.repeat(pa.scalar(default_scale), count)
    if "currency" in roles:
        currency = _Distinct.of(table.column("_currency"))
        columns["currency"] = currency.map(_lowered, pa.string())
        scale = currency.map(lambda code: float(10 ** minor_exponent(code)), pa.float64())
        columns["_scale"] = pc.fill_null(scale, default_scale)
    columns["_bad_interval"] = pa.repeat(pa.scalar(False), count)
    if "interval" in roles:
        interval = _Distinct.of(table.column("_interval"))
        columns["interval"] = interval.map(_interval, pa.string())
        if any(_interval_factor(value) != 1 for value in interval.values if value is not None):
            factor = pc.fill_null(interval.map(_interval_factor, pa.int64()), 1)
            columns["interval_count"] = pc.multiply(table.column("interval_count"), factor)
        columns["_bad_interval"] = pc.fill_null(interval.map(_unknown_interval, pa.bool_()), False)
    if "plan" in roles:
        plan = _Distinct.of(table.column("_plan"))
        columns["price_id"], columns["plan_name"] = _ids_and_names(
            plan, ("price_", "plan_"), plan_ids
        )
    if "product" in roles:
        product = _Distinct.of(table.column("_product"))
        columns["product_id"] = _ids_and_names(product, ("prod_", "pro_"), product_ids)[0]
    for name, column in columns.items():
        if name in table.column_names:
            table = table.set_column(table.column_names.index(name), name, column)
        else:
            table = table.append_column(name, column)
    return table


def _ids_and_names(
    distinct: _Distinct, prefixes: tuple[str, ...], always: bool
) -> tuple[pa.Array, pa.Array]:
    """Split a Plan-like column: provider ids (by prefix, or by header) and nicknames."""

    def is_id(text: str) -> bool:
        return always or text.strip().startswith(prefixes)

    ids = distinct.map(lambda text: _clean(text) if is_id(text) else None, pa.string())
    names = distinct.map(lambda text: None if is_id(text) else _clean(text), pa.string())
    return ids, names
