"""A run's reported findings as columns, made into objects only when asked (issue 17).

A million-account run reports tens of thousands of findings. Building a
:class:`~billdrift.core.model.Finding` for each, wording it in Python and then turning
every object back into a dict for the JSON report was most of what a large check
spent after its SQL. So the engine hands the report a :class:`Found`: the rules'
reported rows as Arrow columns, each with its message, fix and evidence already
worded in SQL (:mod:`billdrift.core.rules.wording`, :mod:`billdrift.core.rules.shape`),
ordered as the report lists them. The JSON document and the report's totals read the
columns (:meth:`Found.column`, :meth:`Found.evidence`); anything that wants finding
objects (the text and HTML renderers, masking, alerts, the history store) iterates
the sequence, and the objects are built then, once, from the same rows and the same
declarations (:meth:`billdrift.core.rules.base.Rule.build`).

A row whose words SQL could not give exactly (see :mod:`~billdrift.core.rules.wording`)
is worded in Python here, from the same template, so the columns are always complete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.model import (
    SEVERITY_LABELS,
    Exposure,
    Finding,
    Kind,
    Severity,
    Tracking,
    built_finding,
    filled,
)
from billdrift.core.rules.base import Rule, exposure_of
from billdrift.core.rules.shape import EVIDENCE_COLUMN
from billdrift.core.rules.wording import Template, to_text

#: The columns the engine adds to each reported row: its words, worded in SQL.
MESSAGE_COLUMN = "_message"
FIX_COLUMN = "_fix"

#: The report's columns, in the order a finding lists its fields.
SCHEMA = pa.schema(
    [
        ("kind", pa.string()),
        ("severity", pa.int8()),  # Severity's value: 3 high, 2 medium, 1 low
        ("confidence", pa.float64()),
        ("account_id", pa.string()),
        ("customer_id", pa.string()),
        ("subscription_id", pa.string()),
        ("monthly_amount", pa.string()),  # the exposure, a decimal string; null: none
        ("currency", pa.string()),
        ("message", pa.string()),
        ("fix", pa.string()),
        ("evidence", pa.string()),  # JSON text
        # where each row came from, for the objects: the rule's index, the row's
        ("_part", pa.int32()),
        ("_row", pa.int32()),
    ]
)

#: The columns that are a finding's fields, in order (the evidence and where each row
#: came from follow).
_FIELDS = tuple(SCHEMA.names[: SCHEMA.get_field_index("evidence")])

#: Severity labels by value, to turn the rules' labels into values in bulk.
_LABELS = pa.array(SEVERITY_LABELS)


class Found(Sequence[Finding]):
    """The reported findings of one run, in report order (most severe first, rules in
    kind order, each rule's rows as it ordered them): columns, and objects on demand."""

    def __init__(
        self,
        table: pa.Table,
        parts: Sequence[tuple[Rule, pa.Table]],
        tracking: Tracked | None = None,
    ) -> None:
        """`table` in :data:`SCHEMA`, its rows from `parts` (each rule's reported rows, by
        the ``_part`` and ``_row`` columns). Without parts, the findings are the table's
        columns alone and their objects are made from them, with no words (a masked
        report's: :mod:`billdrift.outputs.mask_found`)."""
        self.table = table
        self._parts = tuple(parts)
        #: Each finding's history, once the run is recorded (None before, or without a
        #: history store).
        self.tracking = tracking
        self._objects: tuple[Finding, ...] | None = None
        #: The findings :meth:`pick` built, by position (before or instead of all of them).
        self._picked: dict[int, Finding] = {}
        self._evidence: list[dict[str, Any]] | None = None
        self._columns: dict[str, list[Any]] = {}

    def tracked(self, tracking: Tracked) -> Found:
        """The same findings with their history (:class:`Tracked`, in report order)."""
        if len(tracking.status) != len(self):
            raise ValueError(f"{len(tracking.status)} histories for {len(self)} findings")
        found = Found(self.table, self._parts, tracking)
        # read once: recording reads the columns and the evidence, then the JSON document
        found._evidence, found._columns = self._evidence, self._columns
        return found

    @classmethod
    def of_rules(cls, parts: Sequence[tuple[Rule, pa.Table]]) -> Found:
        """The findings of each rule's reported rows (fetched with their words and
        evidence columns, suppressed rows already left out), ordered for the report."""
        tables = [_columns(index, rule, rows) for index, (rule, rows) in enumerate(parts)]
        table = pa.concat_tables(tables) if tables else SCHEMA.empty_table()
        # stable: rules keep their kind order and each rule its rows' order
        order = pc.sort_indices(table, [("severity", "descending")])
        return cls(table.take(order), parts)

    @property
    def parts(self) -> tuple[tuple[Rule, pa.Table], ...]:
        """Each rule's reported rows the findings came from (see :meth:`of_rules`)."""
        return self._parts

    def __len__(self) -> int:
        rows: int = self.table.num_rows
        return rows

    @overload
    def __getitem__(self, index: int) -> Finding: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Finding]: ...
    def __getitem__(self, index: int | slice) -> Finding | Sequence[Finding]:
        if isinstance(index, slice):
            return tuple(self.pick(range(len(self))[index]))
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self.pick([index % len(self)])[0]

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.objects())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Found):
            return self is other or self.objects() == other.objects()
        if isinstance(other, Sequence) and not isinstance(other, str):
            return self.objects() == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Found({len(self)} findings)"

    def column(self, name: str) -> list[Any]:
        """One of :data:`SCHEMA`'s columns as Python values, in report order: converted
        once (recording and the JSON document read the same ones), and nobody's to change."""
        if name not in self._columns:
            self._columns[name] = self.table.column(name).to_pylist()
        return self._columns[name]

    def evidence(self) -> list[dict[str, Any]]:
        """Every finding's evidence as an object (with the review notes of its history,
        once recorded: see :class:`Tracked`), parsed in one call, once: recording and
        the finding objects read the same ones, which nobody may change. The JSON
        document takes the text instead (:meth:`evidence_texts`)."""
        if self._evidence is None:
            self._evidence = parse_json_texts(self.table.column("evidence"))
        notes = {} if self.tracking is None else self.tracking.notes
        if not notes:
            return self._evidence
        evidence = list(self._evidence)
        for position, reviews in notes.items():
            evidence[position] = {**evidence[position], "reviews": reviews}
        return evidence

    def evidence_texts(self) -> list[str]:
        """Every finding's evidence as compact JSON text, exactly as ``orjson.dumps`` writes
        :meth:`evidence` (the engine writes it that way: tests/core/test_columnar_evidence.py).
        The text the database wrote is used as it is, not parsed and written again: only
        the findings whose history adds review notes are rebuilt."""
        texts: list[str] = self.column("evidence")
        notes = {} if self.tracking is None else self.tracking.notes
        if not notes:
            return texts
        texts = list(texts)
        evidence = self.evidence()
        for position in notes:
            texts[position] = orjson.dumps(evidence[position]).decode()
        return texts

    def pick(self, positions: Sequence[int]) -> list[Finding]:
        """The findings at `positions` (in report order, each in range), built alone when
        the others have not been: a text report shows 25 findings of each kind of a
        35,000-finding run, and building all of them cost 0.4 s at 1M (issue 17)."""
        if self._objects is not None:
            return [self._objects[position] for position in positions]
        known = self._picked
        missing = sorted({position for position in positions if position not in known})
        if missing and not self._parts:
            built = self._from_columns(missing)
            if self.tracking is not None:
                built = self.tracking.given(built, missing)
            known.update(zip(missing, built, strict=True))
        elif missing:
            parts, rows = self.column("_part"), self.column("_row")
            wanted: dict[int, list[int]] = {}
            for position in missing:
                wanted.setdefault(parts[position], []).append(position)
            for part, places in wanted.items():
                rule, table = self._parts[part]
                built = _build(rule, table.take([rows[place] for place in places]))
                if self.tracking is not None:
                    built = self.tracking.given(built, places)
                known.update(zip(places, built, strict=True))
        return [known[position] for position in positions]

    def objects(self) -> tuple[Finding, ...]:
        """The findings as objects, built on first use from the rows they came from."""
        if self._objects is None:
            if self._parts or not len(self):
                built = [_build(rule, rows) for rule, rows in self._parts]
                parts, rows = self.column("_part"), self.column("_row")
                objects = [built[p][r] for p, r in zip(parts, rows, strict=True)]
            else:
                objects = self._from_columns(range(len(self)))
            if self.tracking is not None:
                objects = self.tracking.given(objects)
            self._objects = tuple(objects)
        return self._objects

    def _from_columns(self, positions: Sequence[int]) -> list[Finding]:
        """The findings at `positions` made from the table's columns alone: no words,
        the evidence as its text says (without the review notes, which the tracking
        adds)."""
        picked = self.table.take(pa.array(positions, pa.int64()))
        values = [picked.column(name).to_pylist() for name in _FIELDS]
        evidence = parse_json_texts(picked.column("evidence"))
        return [
            built_finding(
                Kind(kind),
                Severity(severity),
                confidence,
                account_id,
                customer_id,
                subscription_id,
                None if amount is None else Exposure(amount, currency),
                message,
                fix,
                shown,
                (),
                (),
            )
            for (
                kind,
                severity,
                confidence,
                account_id,
                customer_id,
                subscription_id,
                amount,
                currency,
                message,
                fix,
            ), shown in zip(zip(*values, strict=True), evidence, strict=True)
        ]


@dataclass(frozen=True)
class Tracked:
    """Each finding's history in the run history, in report order: what
    :class:`~billdrift.core.model.Tracking` holds for one finding, as columns (set by
    the use case that records runs)."""

    status: Sequence[str]
    fingerprint: Sequence[str]
    first_seen: Sequence[datetime]
    review: Sequence[str | None]
    review_until: Sequence[datetime | None]
    #: position -> every review note so far, for the findings that have some: shown in
    #: their evidence (decisions are never lost and show in later reports).
    notes: Mapping[int, list[dict[str, Any]]]

    def given(
        self, findings: Sequence[Finding], positions: Sequence[int] | None = None
    ) -> list[Finding]:
        """`findings` each with its tracking and review notes: the findings at
        `positions` in report order, or all of them in report order."""
        out = []
        places = range(len(findings)) if positions is None else positions
        for position, finding in zip(places, findings, strict=True):
            tracking = filled(
                Tracking,
                status=self.status[position],
                fingerprint=self.fingerprint[position],
                first_seen=self.first_seen[position],
                review=self.review[position],
                review_until=self.review_until[position],
            )
            evidence = finding.evidence
            if position in self.notes:
                evidence = {**evidence, "reviews": self.notes[position]}
            out.append(
                filled(Finding, **{**finding.__dict__, "evidence": evidence, "tracking": tracking})
            )
        return out


#: The history's columns :func:`columns_of` reads (None for a finding without one).
HISTORY = ("status", "fingerprint", "first_seen", "review", "review_until")


def columns_of(findings: Sequence[Finding], *names: str) -> list[list[Any]]:
    """The findings' values of :data:`SCHEMA`'s columns or :data:`HISTORY`'s `names`, one
    list per name: read from the columns when the engine gave them, else from the
    objects (a masked report, a pushed-down run's). ``severity`` is its value, ``kind``
    its text, ``evidence`` an object."""
    if isinstance(findings, Found):
        return [_column(findings, name) for name in names]
    return [[_value(finding, name) for finding in findings] for name in names]


def _column(found: Found, name: str) -> list[Any]:
    if name == "evidence":
        return found.evidence()
    if name in HISTORY:
        tracked = found.tracking
        return [None] * len(found) if tracked is None else list(getattr(tracked, name))
    return found.column(name)


def _value(finding: Finding, name: str) -> Any:
    if name == "kind":
        return finding.kind.value
    if name == "severity":
        return int(finding.severity)
    if name in ("currency", "monthly_amount"):
        return None if finding.exposure is None else getattr(finding.exposure, name)
    if name in HISTORY:
        return None if finding.tracking is None else getattr(finding.tracking, name)
    return getattr(finding, name)


def parse_json_texts(texts: pa.ChunkedArray | pa.Array) -> list[Any]:
    """JSON texts (none null) parsed in one call: joined by Arrow, no Python string each."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not len(texts):
        return []
    joined = pc.binary_join(pa.ListArray.from_arrays([0, len(texts)], texts), ",")
    parsed: list[Any] = orjson.loads("[" + (joined[0].as_py() or "") + "]")
    return parsed


def rows_of(table: pa.Table) -> list[dict[str, Any]]:
    """A table's rows as dicts, converted column by column (a third cheaper than row by
    row), the evidence JSON parsed."""
    columns = table.to_pydict()
    if EVIDENCE_COLUMN in columns:
        columns[EVIDENCE_COLUMN] = parse_json_texts(table.column(EVIDENCE_COLUMN))
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _build(rule: Rule, rows: pa.Table) -> list[Finding]:
    return [rule.build(row) for row in rows_of(rows)]


def _columns(index: int, rule: Rule, rows: pa.Table) -> pa.Table:
    """One rule's reported rows as :data:`SCHEMA`'s columns."""
    n = rows.num_rows
    amounts, currencies = _exposures(rows, rule.exposure)
    return pa.table(
        [
            pa.repeat(pa.scalar(rule.kind.value), n),
            pc.cast(pc.index_in(rows.column("severity"), value_set=_LABELS), pa.int8()),
            _per_distinct(rows.column("confidence"), _confidence, pa.float64()),
            *(_text(rows, name) for name in ("account_id", "customer_id", "subscription_id")),
            amounts,
            currencies,
            _worded(rows, MESSAGE_COLUMN, rule.message),
            _worded(rows, FIX_COLUMN, rule.fix),
            rows.column(EVIDENCE_COLUMN),
            pa.repeat(pa.scalar(index, pa.int32()), n),
            pa.array(range(n), pa.int32()),
        ],
        schema=SCHEMA,
    )


def _text(rows: pa.Table, name: str) -> pa.ChunkedArray:
    return pc.cast(rows.column(name), pa.string())


def _worded(rows: pa.Table, name: str, template: Template) -> pa.ChunkedArray | pa.Array:
    """The words SQL gave, and for a row it left NULL, the same template's in Python."""
    column = rows.column(name)
    if not column.null_count:
        return column
    missing = pc.is_null(column)
    texts = [to_text(template, row) for row in rows_of(rows.filter(missing))]
    return pc.replace_with_mask(column.combine_chunks(), missing.combine_chunks(), pa.array(texts))


def _confidence(value: object) -> float:
    return round(float(value or 0.0), 2)  # type: ignore[arg-type]


def _per_distinct(
    column: pa.ChunkedArray, function: Callable[[Any], Any], kind: pa.DataType
) -> pa.Array:
    """`function` of each value, called once per distinct value (a book has few)."""
    distinct = pc.unique(column)
    values = pa.array([function(value) for value in distinct.to_pylist()], kind)
    return pc.take(values, pc.index_in(column, value_set=distinct))


def _exposures(rows: pa.Table, exposure: bool) -> tuple[pa.Array, pa.Array]:
    """Each row's monthly money at stake (amount text, currency), or nulls."""
    n = rows.num_rows
    if not exposure or "monthly_minor" not in rows.column_names:
        return pa.nulls(n, pa.string()), pa.nulls(n, pa.string())
    pairs = zip(
        rows.column("monthly_minor").to_pylist(), rows.column("currency").to_pylist(), strict=True
    )
    shown = [exposure_of(amount, currency) for amount, currency in pairs]
    return (
        pa.array([None if e is None else e.monthly_amount for e in shown], pa.string()),
        pa.array([None if e is None else e.currency for e in shown], pa.string()),
    )
