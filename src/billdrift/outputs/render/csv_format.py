"""Findings as CSV, one row per finding, for spreadsheets and ad-hoc scripts.

RFC 4180 (CRLF line ends, fields quoted only when needed) via the csv module, UTF-8
without a byte-order mark, header row first, findings in the text report's order
(urgent kinds first). Only reported findings are listed: suppressed findings, skipped
rows and notes are in the JSON report, which stays the complete record. A run whose
verdict is ERROR lists no findings and one row per error instead, with kind ``error``
and the reason as its message: a header alone would read like a run without drift.

Formula injection: finding text carries values from the billing provider and the
app (emails, plan names, ids) that an outsider may control. A spreadsheet would
run a cell starting with ``=``, ``+``, ``-`` or ``@`` (and a leading tab or CR can
smuggle one past a trim), so, following OWASP's CSV-injection guidance, every
*text* cell starting with one of those characters (or their full-width forms,
which some spreadsheet locales also accept) is prefixed with a single quote. A
script reading the file sees that quote: strip a leading ``'`` only when the next
character is one of FORMULA_TRIGGERS. The two numeric columns (confidence,
monthly_amount) are produced by billdrift, never copied from input; they are
written as is only while they are a plain number (so a ``-5.00`` would stay a
number a spreadsheet can add up), and anything else in them is treated as text.
Amounts are never negative today.

With a history store, four columns follow (``status``, ``first_seen``,
``fingerprint``, ``review``) and each finding resolved since the previous run is one
more row with status ``resolved`` (its kind, ids, severity and fingerprint; no
message). Without one the columns are as they always were: no status is guessed.

The engine's findings are written from its columns (:func:`column_rows`): a
million-account report builds no finding object for its CSV either.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

import orjson

from billdrift.core.found import Found, columns_of
from billdrift.core.instants import utc_text
from billdrift.core.model import SEVERITY_LABELS, Finding, Verdict
from billdrift.core.report import Gone, Report
from billdrift.outputs.render.common import grouped, kind_positions
from billdrift.outputs.render.interface import Renderer

COLUMNS = (
    "kind",
    "severity",
    "confidence",
    "account_id",
    "customer_id",
    "subscription_id",
    "monthly_amount",
    "currency",
    "message",
    "fix",
    "evidence",
)

#: First characters that make a spreadsheet treat a cell as a formula (OWASP), plus
#: the full-width = + - @ some locales convert to their ASCII forms.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def safe_text(value: str) -> str:
    """A text cell a spreadsheet will show, never evaluate."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def safe_number(value: str) -> str:
    """A numeric cell stays a number; anything that is not a plain number is text."""
    return value if _PLAIN_NUMBER.fullmatch(value) else safe_text(value)


def finding_row(finding: Finding) -> list[str]:
    exposure = finding.exposure
    # Compact, key order kept: the evidence reads the same as in the JSON report.
    # orjson: json.dumps is most of the time spent on a 35,000-finding report.
    evidence = orjson.dumps(finding.evidence, option=orjson.OPT_NON_STR_KEYS, default=str).decode(
        "utf-8"
    )
    return [
        safe_text(finding.kind.value),
        safe_text(finding.severity.label),
        safe_number(repr(float(finding.confidence))),
        safe_text(finding.account_id or ""),
        safe_text(finding.customer_id or ""),
        safe_text(finding.subscription_id or ""),
        "" if exposure is None else safe_number(exposure.monthly_amount),
        "" if exposure is None else safe_text(exposure.currency),
        safe_text(finding.message),
        safe_text(finding.fix),
        safe_text(evidence),
    ]


#: The columns a report with a history store adds.
HISTORY_COLUMNS = ("status", "first_seen", "fingerprint", "review")


def _utc(moment: datetime | None) -> str:
    return utc_text(moment) or ""


def history_cells(finding: Finding) -> list[str]:
    tracking = finding.tracking
    if tracking is None:
        return ["", "", "", ""]
    return [tracking.status, _utc(tracking.first_seen), tracking.fingerprint, tracking.review or ""]


def resolved_row(gone: Gone) -> list[str]:
    cells = dict.fromkeys((*COLUMNS, *HISTORY_COLUMNS), "") | {
        "kind": gone.kind.value,
        "severity": gone.severity.label,
        "account_id": safe_text(gone.account_id or ""),
        "customer_id": safe_text(gone.customer_id or ""),
        "subscription_id": safe_text(gone.subscription_id or ""),
        "status": "resolved",
        "first_seen": _utc(gone.first_seen),
        "fingerprint": gone.fingerprint,
    }
    return [cells[column] for column in (*COLUMNS, *HISTORY_COLUMNS)]


def error_row(error: str) -> list[str]:
    cells = dict.fromkeys(COLUMNS, "") | {"kind": "error", "message": safe_text(error)}
    return [cells[column] for column in COLUMNS]


def column_rows(found: Found, history: bool) -> list[list[str]]:
    """:func:`finding_row` (and :func:`history_cells` once recorded) of every finding the
    engine gave as columns, in the grouped order: read from the columns, one list
    comprehension a column, and each evidence as the text the engine wrote (the same
    compact JSON ``orjson`` writes of it), so no finding object is built (issue 17).
    With `history`, each row ends with its history cells."""
    evidence = COLUMNS.index("evidence")  # the last: the engine's text, below
    kind, severity, confidence, *ids, amount, currency, message, fix = columns_of(
        found, *COLUMNS[:evidence]
    )
    cells: list[Iterable[str]] = [
        [safe_text(value) for value in kind],
        [safe_text(SEVERITY_LABELS[value]) for value in severity],
        [safe_number(repr(float(value))) for value in confidence],
        *([safe_text(value or "") for value in column] for column in ids),
        ["" if money is None else safe_number(money) for money in amount],
        [
            "" if money is None else safe_text(code)
            for money, code in zip(amount, currency, strict=True)
        ],
        map(safe_text, message),
        map(safe_text, fix),
        map(safe_text, found.evidence_texts()),
    ]
    tracked = found.tracking
    if history and tracked is None:  # recorded, yet these findings have no history
        cells += [[""] * len(found)] * len(HISTORY_COLUMNS)
    elif history and tracked is not None:
        cells += [
            tracked.status,
            map(_utc, tracked.first_seen),
            tracked.fingerprint,
            (review or "" for review in tracked.review),
        ]
    rows = [list(row) for row in zip(*cells, strict=True)]
    return [rows[place] for _, places in kind_positions(found) for place in places]


def _rows(report: Report) -> Sequence[list[str]]:
    """Every finding's row (with its history cells when the run was recorded), in the
    text report's order."""
    if isinstance(report.findings, Found):
        return column_rows(report.findings, history=report.changes is not None)
    ordered = (f for _, findings in grouped(report) for f in findings)
    if report.changes is None:
        return [finding_row(f) for f in ordered]
    return [[*finding_row(f), *history_cells(f)] for f in ordered]


class CsvRenderer(Renderer):
    name = "csv"

    def render(self, report: Report) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        # Same order as the text and HTML reports: urgent kinds first.
        if report.changes is None:
            writer.writerow(COLUMNS)
            writer.writerows(_rows(report))
        else:
            writer.writerow((*COLUMNS, *HISTORY_COLUMNS))
            writer.writerows(_rows(report))
            writer.writerows(resolved_row(gone) for gone in report.changes.resolved)
        if report.verdict is Verdict.ERROR:
            extra = [""] * (0 if report.changes is None else len(HISTORY_COLUMNS))
            writer.writerows([*error_row(error), *extra] for error in report.errors)
        return buffer.getvalue()
