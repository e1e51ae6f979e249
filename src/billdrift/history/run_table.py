"""A run's observations as one Arrow table: what the store's SQL lifecycle reads.

Why a table: recording classifies every finding of a run against the store (new,
ongoing, reopened, suppressed; which timeline spans continue) and that is a join,
done in the store's SQL over the whole run at once (see
:mod:`billdrift.history._sql_record`), not a Python loop over findings. This module
is the boundary where the report's findings become that table: one row per
observation, in the order the lifecycle reads them (the report's findings, then
its suppressed ones), with each finding's fingerprint and content digest, the
only two values the store cannot compute itself. A report whose findings are
already columnar can build the same columns without :class:`Finding` objects.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa

from billdrift.core.found import columns_of
from billdrift.core.model import Finding, Severity
from billdrift.core.report import Report
from billdrift.core.views import Chained
from billdrift.history import _spans
from billdrift.history.fingerprint import fingerprints_of

#: The table's columns, in order (``ord``: the observation's position in the run).
SCHEMA: Final = pa.schema(
    [
        ("ord", pa.int64()),
        ("fingerprint", pa.string()),
        ("kind", pa.string()),
        ("account_id", pa.string()),
        ("customer_id", pa.string()),
        ("subscription_id", pa.string()),
        ("severity", pa.string()),
        ("confidence", pa.float64()),
        ("exposure_amount", pa.string()),
        ("exposure_currency", pa.string()),
        ("suppressed_by", pa.string()),
        ("digest", pa.string()),
        #: 1 for the first observation of its fingerprint in the run (the one that
        #: decides its state), 0 for a repeat.
        ("is_first", pa.int8()),
        #: The customer's e-mail address as the queue searches it (:func:`email_of`).
        ("email", pa.string()),
    ]
)


@dataclass(frozen=True)
class RunObservations:
    """One run's observations: the table's columns, and what only Python holds for
    each row (the finding itself, for the evidence of the spans a run starts).

    The columns are kept as the Python values they were computed as: a nightly run's
    observations are mostly quiet (:mod:`billdrift.history._sql_quiet`, which compares
    them as Python values), so only the rows the SQL lifecycle classifies become an
    Arrow table (:meth:`subset`); converting all of them there and back cost more
    than the comparison."""

    #: ``SCHEMA``'s columns from ``fingerprint`` on (``ord`` is the row's position).
    columns: Mapping[str, Sequence[Any]]
    findings: Sequence[Finding]
    #: Each row's fingerprint and content digest (the columns of those names).
    fingerprints: Sequence[str]
    digests: Sequence[str]
    #: The config exception's reason for each row (None for the report's findings).
    excuses: Sequence[str | None]
    #: Each row's span content (:data:`billdrift.history._spans.CONTENT` order).
    contents: Sequence[tuple[Any, ...]]

    @property
    def num_rows(self) -> int:
        return len(self.fingerprints)

    @functools.cached_property
    def table(self) -> pa.Table:
        """Every row as an Arrow table (``SCHEMA``)."""
        return self.subset(range(self.num_rows))

    def subset(self, ords: Sequence[int]) -> pa.Table:
        """Rows `ords` (ascending) as an Arrow table (``SCHEMA``)."""
        whole = len(ords) == self.num_rows
        arrays = [pa.array(ords, pa.int64())]
        for name, kind in zip(SCHEMA.names[1:], SCHEMA.types[1:], strict=True):
            values = self.columns[name]
            arrays.append(pa.array(values if whole else [values[i] for i in ords], kind))
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def content(self, ord_: int) -> tuple[Any, ...]:
        """Row `ord_`'s span content (:data:`billdrift.history._spans.CONTENT` order,
        evidence as an object)."""
        return self.contents[ord_]


def email_of(evidence: Mapping[str, Any]) -> str | None:
    """The customer's e-mail address in a finding's evidence, as the review queue's
    search matches it (lower case, no surrounding spaces): the billing side's when it
    names one, else the app's; None when neither does.

    Why a column: finding a finding by e-mail was a substring scan of every open
    finding's evidence text; stored once per finding (written on recording, filled by
    migration 6 for older stores) it is an indexed lookup."""
    for side in ("billing", "app"):
        part = evidence.get(side)
        # dict first: an ABC isinstance per finding was a tenth of recording's CPU.
        value = part.get("email") if isinstance(part, dict | Mapping) else None
        if type(value) is str and value.strip():
            return value.strip().lower()
    return None


#: The finding columns an observation is made of (see :func:`observations`).
_READ = (
    "kind",
    "account_id",
    "customer_id",
    "subscription_id",
    "severity",
    "confidence",
    "monthly_amount",
    "currency",
    "message",
    "fix",
    "evidence",
)

_LABELS = {int(severity): severity.label for severity in Severity}


def _contents(read: list[list[Any]], excuses: Sequence[str | None]) -> list[tuple[Any, ...]]:
    """Each row's span content (:data:`billdrift.history._spans.CONTENT` order) from the
    :data:`_READ` columns."""
    subscriptions, severities = read[3], read[4]
    (confidences, amounts, currencies, messages, fixes, evidence) = read[5:]
    labels = [_LABELS[severity] for severity in severities]
    return list(
        zip(
            subscriptions,
            labels,
            confidences,
            amounts,
            currencies,
            messages,
            fixes,
            evidence,
            excuses,
            strict=True,
        )
    )


def content(finding: Finding, suppressed_by: str | None) -> tuple[Any, ...]:
    """One finding's span content, as :func:`observations` gives each row's."""
    return _contents(columns_of((finding,), *_READ), (suppressed_by,))[0]


def observations(report: Report) -> RunObservations:
    """The report's findings, then its suppressed findings, as one table. Read from the
    report's columns when the engine gave them (no finding object is made)."""
    excused = [s.finding for s in report.suppressed]
    excuses: list[str | None] = [None] * len(report.findings)
    excuses += [s.reason for s in report.suppressed]
    read = [
        found + suppressed
        for found, suppressed in zip(
            columns_of(report.findings, *_READ), columns_of(excused, *_READ), strict=True
        )
    ]
    (kinds, accounts, customers, subscriptions) = read[:4]
    fps = fingerprints_of(kinds, accounts, customers, subscriptions)
    seen: set[str] = set()
    firsts: list[int] = []
    for fp in fps:
        firsts.append(0 if fp in seen else 1)
        seen.add(fp)
    contents = _contents(read, excuses)
    labels = [item[1] for item in contents]
    (confidences, amounts, currencies, _, _, evidence) = read[5:]
    columns = {
        "fingerprint": fps,
        "kind": kinds,
        "account_id": accounts,
        "customer_id": customers,
        "subscription_id": subscriptions,
        "severity": labels,
        "confidence": confidences,
        "exposure_amount": amounts,
        "exposure_currency": currencies,
        "suppressed_by": excuses,
        "digest": [_spans.digest(item) for item in contents],
        "is_first": firsts,
        "email": [email_of(item) for item in evidence],
    }
    findings = Chained(report.findings, excused)
    return RunObservations(columns, findings, fps, columns["digest"], excuses, contents)
