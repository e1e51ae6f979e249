"""From a finished run to the alerts worth sending: which findings, which tier, masked.

Two tiers, because they need different reactions:

* **urgent**: new or reopened ``paid_but_blocked`` findings. Paying customers are
  locked out right now; one alert, sent at once.
* **review**: a digest of every other new or reopened finding, read when someone
  has time.

Only findings that are new or reopened since the last run alert, so a nightly job
does not repeat yesterday's news (``alert_on = "all"`` is for setups without a
history store: every current finding alerts). Masking happens here, once, with
the same masker ``--mask`` uses, so no sink can leak an email or a full id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from billdrift.core.model import KIND_ORDER, Finding, Kind
from billdrift.core.report import Report
from billdrift.outputs.alerts.interface import Alert, AlertFinding, FindingStatus
from billdrift.outputs.alerts.settings import AlertOn, Tier
from billdrift.outputs.mask import mask_email, mask_report

#: Findings listed in one alert; the rest are counted and left to the full report.
MAX_FINDINGS = 10

_FindingKey = tuple[str, str | None, str | None, str | None]


def finding_key(finding: Finding) -> _FindingKey:
    """What makes two findings the same problem across runs (message wording may change)."""
    return (finding.kind.value, finding.account_id, finding.customer_id, finding.subscription_id)


def compose_alerts(
    report: Report,
    new: Sequence[Finding],
    reopened: Sequence[Finding],
    alert_on: AlertOn = "new",
    report_link: str | None = None,
    *,
    max_findings: int = MAX_FINDINGS,
) -> list[Alert]:
    """The alerts to send for one run, urgent first; empty when nothing should alert.

    `new` and `reopened` are the findings of `report` a history store saw appear
    (or come back) in this run; any that `report.findings` does not hold (suppressed
    by an exception, say) are ignored. Findings that are neither (ongoing) never
    alert, except with ``alert_on = "all"``.
    """
    if alert_on == "never":
        return []
    candidates = _candidates(report, new, reopened, alert_on)
    if not candidates:
        return []
    masked = _mask(report, candidates)
    urgent = [i for i, (f, _) in enumerate(candidates) if f.kind is Kind.PAID_BUT_BLOCKED]
    review = [i for i, (f, _) in enumerate(candidates) if f.kind is not Kind.PAID_BUT_BLOCKED]
    tiers: list[tuple[Tier, list[int]]] = [("urgent", urgent)]
    if alert_on != "urgent":
        tiers.append(("review", review))
    alerts = []
    for tier, indexes in tiers:
        if not indexes:
            continue
        ordered = sorted(indexes, key=lambda i: _urgency(candidates[i][0]))
        alerts.append(
            Alert(
                tier=tier,
                verdict=report.verdict,
                as_of=report.as_of,
                counts=_counts(candidates[i] for i in ordered),
                exposure=replace(
                    report, findings=tuple(candidates[i][0] for i in ordered)
                ).exposure_by_currency,
                findings=tuple(masked[i] for i in ordered[:max_findings]),
                total=len(ordered),
                report_link=report_link,
            )
        )
    return alerts


def _candidates(
    report: Report, new: Sequence[Finding], reopened: Sequence[Finding], alert_on: AlertOn
) -> list[tuple[Finding, FindingStatus]]:
    """Each alerted finding once, with how it came to alert."""
    status: dict[_FindingKey, FindingStatus] = {}
    for finding in reopened:
        status.setdefault(finding_key(finding), "reopened")
    for finding in new:
        status[finding_key(finding)] = "new"
    pool: list[Finding] = list(new) + list(reopened)
    if alert_on == "all":
        pool = list(report.findings) + pool
    # Only what the report still holds: a finding an exception suppressed (or one a
    # stale history passed in) never alerts, whatever the history store says.
    current = {finding_key(f) for f in report.findings}
    seen: set[_FindingKey] = set()
    result: list[tuple[Finding, FindingStatus]] = []
    for finding in pool:
        key = finding_key(finding)
        if key in current and key not in seen:
            seen.add(key)
            result.append((finding, status.get(key, "current")))
    return result


def _urgency(finding: Finding) -> tuple[int, int]:
    """Sort key: the renderers' kind order (urgent kinds first), then severity."""
    return (KIND_ORDER.index(finding.kind), -int(finding.severity))


def _counts(items: Iterable[tuple[Finding, FindingStatus]]) -> dict[str, dict[str, int]]:
    counted = Counter((finding.kind, status) for finding, status in items)
    result: dict[str, dict[str, int]] = {}
    for kind in KIND_ORDER:
        by_status = {
            status: counted[(kind, status)]
            for status in ("new", "reopened", "current")
            if counted[(kind, status)]
        }
        if by_status:
            result[kind.value] = by_status
    return result


def _mask(report: Report, items: list[tuple[Finding, FindingStatus]]) -> list[AlertFinding]:
    """Mask with the whole report as context, so ids a message mentions are masked too."""
    findings = tuple(finding for finding, _ in items)
    masked = mask_report(replace(report, findings=(*findings, *report.findings))).findings
    result = []
    for (raw, status), safe in zip(items, masked[: len(findings)], strict=True):
        emails = _emails(raw.evidence)
        result.append(
            AlertFinding(
                kind=raw.kind,
                severity=raw.severity,
                status=status,
                account_id=safe.account_id,
                customer_id=safe.customer_id,
                subscription_id=safe.subscription_id,
                emails=tuple(dict.fromkeys(mask_email(e) for e in emails)),
                message=_scrub_emails(safe.message, emails),
                fix=_scrub_emails(safe.fix, emails),
                exposure=raw.exposure,
            )
        )
    return result


def _emails(evidence: Any) -> list[str]:
    """Every value stored under an ``email`` key anywhere in the evidence."""
    found: list[str] = []
    if isinstance(evidence, dict):
        for key, value in evidence.items():
            if key in ("email", "customer_email") and isinstance(value, str) and value:
                found.append(value)
            else:
                found += _emails(value)
    elif isinstance(evidence, list | tuple):
        for item in evidence:
            found += _emails(item)
    return found


def _scrub_emails(text: str, emails: list[str]) -> str:
    """Belt and braces: the masker's pattern misses odd addresses (``ops@localhost``)."""
    for email in sorted(set(emails), key=len, reverse=True):
        text = text.replace(email, mask_email(email))
    return text
