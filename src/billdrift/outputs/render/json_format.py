"""The versioned JSON document (schema: src/billdrift/schema/report.schema.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from billdrift._version import __version__
from billdrift.core.found import Found
from billdrift.core.instants import utc_text
from billdrift.core.model import SEVERITY_LABELS, STATUS_ORDER, Finding, Tracking
from billdrift.core.report import SCHEMA_VERSION, Report, annualized
from billdrift.outputs.render.interface import Renderer
from billdrift.outputs.render.json_findings import findings_json

#: A finding's keys in the document, in order. Its evidence is one line of compact
#: JSON inside the indented document: the engine writes each finding's evidence as
#: that text, which the document then takes as it is instead of parsing tens of
#: thousands of objects to indent them again (issue 17), and a finding reads in a
#: dozen lines rather than forty.
FINDING_KEYS = (
    "kind",
    "severity",
    "confidence",
    "account_id",
    "customer_id",
    "subscription_id",
    "exposure",
    "message",
    "fix",
    "evidence",
    "lifecycle",
)


def finding_dict(finding: Finding) -> dict[str, Any]:
    """One finding as the document shows it. Enums and the exposure dataclass are left
    to orjson, which writes them natively (an enum as its value, a dataclass as its
    fields in order): the same bytes without a Python call each (issue 17). The
    evidence is written compact, on one line (:data:`FINDING_KEYS`)."""
    values = (
        finding.kind,
        SEVERITY_LABELS[finding.severity],
        finding.confidence,
        finding.account_id,
        finding.customer_id,
        finding.subscription_id,
        finding.exposure,
        finding.message,
        finding.fix,
        orjson.Fragment(orjson.dumps(finding.evidence)),
        None if finding.tracking is None else _lifecycle(finding.tracking),
    )
    return dict(zip(FINDING_KEYS, values, strict=True))


def _lifecycle(tracking: Tracking) -> dict[str, Any]:
    return _history(
        tracking.status,
        tracking.fingerprint,
        tracking.first_seen,
        tracking.review,
        tracking.review_until,
    )


def _history(
    status: str,
    fingerprint: str,
    first_seen: datetime,
    review: str | None,
    review_until: datetime | None,
) -> dict[str, Any]:
    """A finding's lifecycle as the document shows it."""
    return {
        "status": status,
        "fingerprint": fingerprint,
        "first_seen": utc_text(first_seen),
        "review": None if review is None else {"decision": review, "until": utc_text(review_until)},
    }


def _changes(report: Report) -> dict[str, Any] | None:
    changes = report.changes
    if changes is None:
        return None
    return {
        "previous_run_at": utc_text(changes.previous_run_at),
        **{status: report.by_status.get(status, 0) for status in STATUS_ORDER},
        "resolved": [
            {
                "kind": str(gone.kind),
                "account_id": gone.account_id,
                "customer_id": gone.customer_id,
                "subscription_id": gone.subscription_id,
                "fingerprint": gone.fingerprint,
                "severity": gone.severity.label,
                "first_seen": utc_text(gone.first_seen),
            }
            for gone in changes.resolved
        ],
    }


def report_dict(report: Report) -> dict[str, Any]:
    # each total is one pass over the findings: computed once, not once per key using it
    exposure, by_kind = report.exposure_by_currency, report.exposure_by_kind
    skipped_by_side = {"billing": 0, "app": 0}
    for skip in report.skips:
        skipped_by_side[skip.side] = skipped_by_side.get(skip.side, 0) + 1
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "billdrift", "version": __version__},
        "verdict": report.verdict.value,
        "exit_code": report.exit_code,
        "as_of": report.as_of.isoformat().replace("+00:00", "Z"),
        "fail_on": report.fail_on_label,
        "sources": [{"side": s.side, "description": s.description} for s in report.sources],
        "summary": {
            **{
                key: report.counts.get(key, 0) for key in ("accounts", "subscriptions", "customers")
            },
            "findings": len(report.findings),
            "by_kind": report.by_kind,
            "by_severity": report.by_severity,
            "exposure": exposure,
            "exposure_by_kind": by_kind,
            "exposure_annualized": annualized(exposure),
            "exposure_by_kind_annualized": {
                kind: annualized(amounts) for kind, amounts in by_kind.items()
            },
            "classification": report.classification,
            "skipped": skipped_by_side,
            "suppressed": len(report.suppressed),
        },
        "changes": _changes(report),
        "findings": orjson.Fragment(findings_json(report.findings))
        if isinstance(report.findings, Found)
        else [finding_dict(f) for f in report.findings],
        "suppressed": [
            {**finding_dict(s.finding), "suppressed_reason": s.reason} for s in report.suppressed
        ],
        "skipped": [
            {
                "side": s.side,
                "source": s.source,
                "location": s.location,
                "field": s.field,
                "reason": s.reason,
            }
            for s in report.skips
        ],
        "errors": list(report.errors),
        "notes": list(report.notes),
        "rules_not_applied": [{"kind": k, "reason": r} for k, r in report.rules_not_applied],
        "data_quality": data_quality(report),
    }


class JsonRenderer(Renderer):
    name = "json"

    def render(self, report: Report) -> str:
        return self.render_bytes(report).decode("utf-8")

    def render_bytes(self, report: Report) -> bytes:
        # orjson: a million-account run can carry tens of thousands of findings,
        # and the standard library spends seconds indenting them.
        # The final newline from orjson itself: appending it in Python would copy
        # the whole document (40 MB for a million-account run) once more.
        return orjson.dumps(
            report_dict(report),
            option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE,
            default=str,
        )


def data_quality(report: Report) -> dict[str, Any]:
    """How accounts matched, rows skipped per source, columns read (schema 1.1)."""
    skipped: dict[str, int] = {}
    for skip in report.skips:
        skipped[skip.source] = skipped.get(skip.source, 0) + 1
    return {
        "matched_by": report.matched_by,
        "skipped_by_source": dict(sorted(skipped.items())),
        "columns": [{"source": source, "columns": columns} for source, columns in report.columns],
    }
