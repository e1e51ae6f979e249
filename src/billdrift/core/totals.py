"""A report's totals (findings per kind and severity, money at stake) as column work.

A million-account run reports tens of thousands of findings, and every report
renders its totals. Counted in Python, one finding at a time, they were a tenth of
a second of the 1M JSON check's end, on one core (issue 17: no per-finding Python
on the hot path). Here they are Arrow counts over the findings' columns: the
engine's :class:`~billdrift.core.found.Found` table as it is, or a small table made
from finding objects (a masked report, a pushed-down run's), so both take one path.
Only the few distinct (currency, amount) pairs reach Python, where they are summed
exactly as decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal, localcontext
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.found import SCHEMA, Found, columns_of
from billdrift.core.model import KIND_ORDER, Finding, Severity
from billdrift.infra.ordinals import ordinals

#: The columns the totals read.
_COLUMNS = ("kind", "severity", "subscription_id", "currency", "monthly_amount")

#: The decimal precision of money sums: exact for any book (no "1.0E+30").
PRECISION = 400


def columns(findings: Sequence[Finding]) -> pa.Table:
    """The findings' :data:`_COLUMNS`, typed as :data:`~billdrift.core.found.SCHEMA`, in
    report order."""
    if isinstance(findings, Found):
        return findings.table.select(list(_COLUMNS))
    values = columns_of(findings, *_COLUMNS)
    return pa.table(
        {
            name: pa.array(column, SCHEMA.field(name).type)
            for name, column in zip(_COLUMNS, values, strict=True)
        }
    )


def by_kind(table: pa.Table) -> dict[str, int]:
    """Findings per kind, in :data:`~billdrift.core.model.KIND_ORDER`."""
    counted = _counts(table, "kind")
    return {kind.value: counted[kind.value] for kind in KIND_ORDER if kind.value in counted}


def by_severity(table: pa.Table) -> dict[str, int]:
    """Findings per severity label, most severe first."""
    counted = _counts(table, "severity")
    return {
        severity.label: counted[int(severity)]
        for severity in sorted(Severity, reverse=True)
        if int(severity) in counted
    }


def exposure_by_currency(table: pa.Table) -> dict[str, str]:
    """Monthly amount at stake per currency. Never summed across currencies, and a
    subscription named by several findings counts once: as its first finding in report
    order has it (with no money if that one has none)."""
    subscription = table.column("subscription_id")
    if subscription.null_count < len(subscription):
        # index_in gives the position of a value's first occurrence: a row is kept when
        # that is its own position, or when it names no subscription
        first = pc.equal(
            pc.index_in(subscription, value_set=subscription), ordinals(table.num_rows)
        )
        table = table.filter(pc.or_kleene(pc.is_null(subscription), first))
    return _sums(_money(table, ()))


def exposure_by_kind(table: pa.Table) -> dict[str, dict[str, str]]:
    """Monthly amount at stake per kind (in kind order), then per currency; each
    finding's money counts (a subscription two kinds name counts in both)."""
    totals: dict[str, list[tuple[str, str, int]]] = {}
    for kind, currency, amount, times in _money(table, ("kind",)):
        totals.setdefault(kind, []).append((currency, amount, times))
    return {kind.value: _sums(totals[kind.value]) for kind in KIND_ORDER if kind.value in totals}


def _counts(table: pa.Table, name: str) -> dict[Any, int]:
    counted = pc.value_counts(table.column(name))
    return dict(
        zip(
            counted.field("values").to_pylist(),
            counted.field("counts").to_pylist(),
            strict=True,
        )
    )


def _money(table: pa.Table, keys: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """(*keys, currency, amount, how many findings) for each distinct money of the
    findings that have some (a null currency: no money)."""
    return _distinct(
        table.filter(pc.is_valid(table.column("currency"))), (*keys, "currency", "monthly_amount")
    )


def _distinct(table: pa.Table, names: Sequence[str]) -> list[tuple[Any, ...]]:
    """(*values, how many rows) for each distinct combination of columns `names`.

    Each row gets one code for its combination: the columns' dictionary indexes,
    combined one column at a time and renumbered after each (so a code stays below
    the row count, whatever the columns), then counted. A combination's values are
    read from the first row that has it. No Table.group_by: it loads Arrow's query
    engine, 20 ms of imports for a few thousand rows.
    """
    if table.num_rows == 0:
        return []
    code: pa.Array | None = None
    for name in names:
        encoded = pc.dictionary_encode(table.column(name).combine_chunks(), null_encoding="encode")
        index = encoded.indices.cast(pa.int64())
        if code is not None:
            index = pc.add(pc.multiply(code, len(encoded.dictionary)), index)
        code = pc.dictionary_encode(index).indices.cast(pa.int64())
    counted = pc.value_counts(code)
    rows = table.take(pc.index_in(counted.field("values"), value_set=code))
    values = [rows.column(name).to_pylist() for name in names]
    return list(zip(*values, counted.field("counts").to_pylist(), strict=True))


def _sums(money: Iterable[tuple[str, str, int]]) -> dict[str, str]:
    """Exact decimal sums per currency of (currency, amount, times) triples: each
    distinct amount is parsed and multiplied once (a book has few prices)."""
    sums: dict[str, Decimal] = {}
    with localcontext() as context:
        context.prec = PRECISION
        for currency, amount, times in money:
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(amount) * times
    return {currency: str(sums[currency]) for currency in sorted(sums)}
