"""A run's observations as one Arrow table: what the store's SQL lifecycle reads.

Why a table: recording classifies every finding of a run against the store (new,
ongoing, reopened, suppressed; which timeline spans continue) and that is a join,
done in the store's SQL over the whole run at once (see
:mod:`billdrift.history._sql_record`), not a Python loop over findings. This module
is the boundary where the report's findings become that table: one row per
observation, in the order the lifecycle reads them (the report's findings, then
its suppressed ones), with each finding's fingerprint and digests, the values the
store cannot compute itself. A report whose findings are already columnar builds
the same columns without :class:`Finding` objects.

Two digests per observation (schema version 9). The *content digest*
(:func:`billdrift.history._spans.digest`) is what a span stores: its evidence is
the parsed object with sorted keys, so it is the same whichever store or engine
wrote the evidence. The *text digest* (:func:`text_digests`) covers the same content
as the run's columns hold it, the evidence as the JSON text SQL wrote, unparsed; a
finding's row keeps the text digest of the observation that last wrote it
(``findings.text_digest``). Equal text digests mean equal content, so an observation
whose text digest the store holds needs neither its evidence parsed nor its content
digest nor its e-mail address: a nightly run, where nearly every finding is seen
again unchanged, computes those only for the few that changed (parsing 35,000
evidence texts, their content digests and addresses were 0.2 s of the 0.5 s that
recording cost at 1M x 1M). The converse does not hold (the same content may be
written as another text, e.g. by another engine), and costs only the slower path.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast

import orjson
import pyarrow as pa

from billdrift.core.found import Found, columns_of
from billdrift.core.model import SEVERITY_LABELS, Finding
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
        #: The content digest (null where the store holds the row's text digest: see
        #: :meth:`RunObservations.subset`).
        ("digest", pa.string()),
        #: 1 for the first observation of its fingerprint in the run (the one that
        #: decides its state), 0 for a repeat.
        ("is_first", pa.int8()),
        #: The customer's e-mail address as the queue searches it (:func:`email_of`;
        #: null where the digest is).
        ("email", pa.string()),
        ("text_digest", pa.string()),
    ]
)

#: The columns computed from the parsed evidence, row by row when asked.
_FROM_EVIDENCE: Final = frozenset({"digest", "email"})


class RunObservations:
    """One run's observations: the table's columns, and the evidence of each row,
    parsed only for the rows that need it (:meth:`content`).

    The columns are kept as the Python values they were computed as: a nightly run's
    observations are mostly quiet (:mod:`billdrift.history._sql_quiet`, which compares
    them as Python values), so only the rows the SQL lifecycle classifies become an
    Arrow table (:meth:`subset`); converting all of them there and back cost more
    than the comparison."""

    def __init__(
        self,
        columns: Mapping[str, Sequence[Any]],
        findings: Sequence[Finding],
        evidence: Callable[[Sequence[int]], Sequence[Any]],
    ) -> None:
        #: ``SCHEMA``'s columns from ``fingerprint`` on, but ``digest`` and ``email``;
        #: and each row's ``message`` and ``fix``.
        self.columns = columns
        self.findings = findings
        #: The evidence objects of the rows asked for.
        self._evidence = evidence
        self._contents: dict[int, tuple[Any, ...]] = {}
        self._digests: dict[int, str] = {}

    @property
    def num_rows(self) -> int:
        return len(self.fingerprints)

    @property
    def fingerprints(self) -> Sequence[str]:
        fingerprints: Sequence[str] = self.columns["fingerprint"]
        return fingerprints

    @property
    def text_digests(self) -> Sequence[str]:
        digests: Sequence[str] = self.columns["text_digest"]
        return digests

    @property
    def excuses(self) -> Sequence[str | None]:
        """The config exception's reason for each row (None for the report's findings)."""
        excuses: Sequence[str | None] = self.columns["suppressed_by"]
        return excuses

    @functools.cached_property
    def table(self) -> pa.Table:
        """Every row as an Arrow table (``SCHEMA``), every digest computed."""
        return self.subset(range(self.num_rows))

    def subset(self, ords: Sequence[int], known: frozenset[int] = frozenset()) -> pa.Table:
        """Rows `ords` (ascending) as an Arrow table (``SCHEMA``). The rows in `known`,
        whose text digest the store holds for their finding, get no content digest and
        no e-mail address (null): the store has them (see the module)."""
        whole = len(ords) == self.num_rows
        needed = [i for i in ords if i not in known]
        self.contents(needed)
        digests = {i: self.digest(i) for i in needed}
        emails = {i: email_of(self._contents[i][_EVIDENCE_AT]) for i in needed}
        arrays = [pa.array(ords, pa.int64())]
        for name, kind in zip(SCHEMA.names[1:], SCHEMA.types[1:], strict=True):
            if name in _FROM_EVIDENCE:
                values = digests if name == "digest" else emails
                arrays.append(pa.array([values.get(i) for i in ords], kind))
                continue
            column = self.columns[name]
            arrays.append(pa.array(column if whole else [column[i] for i in ords], kind))
        return pa.Table.from_arrays(arrays, schema=SCHEMA)

    def contents(self, ords: Sequence[int]) -> list[tuple[Any, ...]]:
        """Rows `ords`' span content (:data:`billdrift.history._spans.CONTENT` order,
        evidence as an object), their evidence parsed once."""
        missing = [i for i in ords if i not in self._contents]
        if missing:
            words = [self.columns[name] for name in _CONTENT_COLUMNS]
            for i, evidence in zip(missing, self._evidence(missing), strict=True):
                head = [column[i] for column in words]
                self._contents[i] = (*head[:_EVIDENCE_AT], evidence, *head[_EVIDENCE_AT:])
        return [self._contents[i] for i in ords]

    def content(self, ord_: int) -> tuple[Any, ...]:
        """Row `ord_`'s span content (see :meth:`contents`)."""
        return self.contents([ord_])[0]

    def digest(self, ord_: int) -> str:
        """Row `ord_`'s content digest (:func:`billdrift.history._spans.digest`)."""
        if ord_ not in self._digests:
            self._digests[ord_] = _spans.digest(self.content(ord_))
        return self._digests[ord_]


#: The columns a row's span content is made of, the evidence aside (it goes between
#: ``fix`` and ``suppressed_by``, :data:`billdrift.history._spans.CONTENT` order).
_CONTENT_COLUMNS: Final = tuple(name for name in _spans.CONTENT if name != "evidence")
#: Where the evidence sits in a span's content.
_EVIDENCE_AT: Final = _spans.CONTENT.index("evidence")


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


def text_digests(
    columns: Sequence[Sequence[Any]], evidence_texts: Sequence[str | bytes]
) -> list[str]:
    """Each row's text digest (see the module): `columns` are the
    :data:`_CONTENT_COLUMNS`, `evidence_texts` the evidence as JSON text.

    The columns go first as one JSON array (self-delimiting), then the evidence text
    as it is, so no two different rows hash the same text."""
    dumps, blake2b = orjson.dumps, hashlib.blake2b
    digests = []
    for *head, text in zip(*columns, evidence_texts, strict=True):
        hashed = blake2b(dumps(head), digest_size=16)
        hashed.update(text.encode() if isinstance(text, str) else text)
        digests.append(hashed.hexdigest())
    return digests


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
)

_EVIDENCE_OPTIONS: Final = orjson.OPT_NON_STR_KEYS


def _evidence_texts(findings: Sequence[Finding]) -> tuple[Sequence[str | bytes], bool]:
    """The findings' evidence as JSON text, and whether it is the engine's: as SQL wrote
    it (:meth:`~billdrift.core.found.Found.evidence_texts`, the text the JSON document
    embeds) when the engine gave columns, else the objects' serialization."""
    if isinstance(findings, Found):
        return findings.evidence_texts(), True
    (objects,) = columns_of(findings, "evidence")
    return [orjson.dumps(item, default=str, option=_EVIDENCE_OPTIONS) for item in objects], False


def content(finding: Finding, suppressed_by: str | None) -> tuple[Any, ...]:
    """One finding's span content, as :meth:`RunObservations.content` gives each row's."""
    if suppressed_by is None:
        return observations_of((finding,), (), ()).content(0)
    return observations_of((), (finding,), (suppressed_by,)).content(0)


def observations(report: Report) -> RunObservations:
    """The report's findings, then its suppressed findings, as one table. Read from the
    report's columns when the engine gave them (no finding object is made)."""
    return observations_of(
        report.findings,
        [s.finding for s in report.suppressed],
        [s.reason for s in report.suppressed],
    )


def observations_of(
    findings: Sequence[Finding], excused: Sequence[Finding], reasons: Sequence[str]
) -> RunObservations:
    """`findings`, then `excused` (each excused by its config exception's reason in
    `reasons`), as one run's observations."""
    excuses: list[str | None] = [None] * len(findings)
    excuses += reasons
    read = [
        found + suppressed
        for found, suppressed in zip(
            columns_of(findings, *_READ), columns_of(excused, *_READ), strict=True
        )
    ]
    (kinds, accounts, customers, subscriptions, severities) = read[:5]
    fps = fingerprints_of(kinds, accounts, customers, subscriptions)
    seen: set[str] = set()
    firsts: list[int] = []
    for fp in fps:
        firsts.append(0 if fp in seen else 1)
        seen.add(fp)
    columns = {
        "fingerprint": fps,
        "kind": kinds,
        "account_id": accounts,
        "customer_id": customers,
        "subscription_id": subscriptions,
        "severity": [SEVERITY_LABELS[severity] for severity in severities],
        "confidence": read[5],
        "exposure_amount": read[6],
        "exposure_currency": read[7],
        "message": read[8],
        "fix": read[9],
        "suppressed_by": excuses,
        "is_first": firsts,
    }
    texts, from_sql = _evidence_texts(findings)
    more, _ = _evidence_texts(excused)
    content = [columns[name] for name in _CONTENT_COLUMNS]
    columns["text_digest"] = text_digests(content, [*texts, *more])
    reader = _evidence_reader(findings, excused, cast("list[str]", texts) if from_sql else None)
    return RunObservations(columns, Chained(findings, excused), reader)


def _evidence_reader(
    findings: Sequence[Finding], excused: Sequence[Finding], texts: Sequence[str] | None
) -> Callable[[Sequence[int]], Sequence[Any]]:
    """The evidence objects of rows `ords`. Most of a run's (its first): all parsed at
    once (:func:`columns_of`, once per report, shared with the finding objects). A few
    (a nightly run's changed findings): each parsed from the engine's `texts` when it
    gave them, else each finding's own object."""
    size = len(findings)

    def evidence(ords: Sequence[int]) -> Sequence[Any]:
        if 2 * len(ords) > size:
            (every,) = columns_of(findings, "evidence")
            return [every[i] if i < size else excused[i - size].evidence for i in ords]
        return [
            excused[i - size].evidence
            if i >= size
            else findings[i].evidence
            if texts is None
            else orjson.loads(texts[i])
            for i in ords
        ]

    return evidence
