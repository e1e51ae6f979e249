"""From a finished run to the alerts worth sending: which findings, which tier, masked.

Two tiers, because they need different reactions:

* **urgent**: new or reopened ``paid_but_blocked`` findings. Paying customers are
  locked out right now; one alert, sent at once.
* **review**: a digest of every other new or reopened finding, read when someone
  has time.

Only findings that are new or reopened since the last run alert, so a nightly job
does not repeat yesterday's news (``alert_on = "all"`` is for setups without a
history store: every current finding alerts). Masking happens here, once, with
the masker ``--mask`` uses, in the mode ``alerts.mask`` chooses (default: emails
masked, ids shown, since on-call must find the account), so no sink can show more.
Each finding carries its fingerprint and a link to the customer in the provider's
dashboard (:mod:`billdrift.outputs.links`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from billdrift.core.found import columns_of
from billdrift.core.model import KIND_ORDER, Finding, Kind
from billdrift.core.report import Report
from billdrift.history.fingerprint import fingerprint
from billdrift.outputs.alerts.interface import STATUSES, Alert, AlertFinding, FindingStatus
from billdrift.outputs.alerts.settings import AlertOn, MaskMode, Tier
from billdrift.outputs.links import dashboard_url, mode_of
from billdrift.outputs.mask import Masker, evidence_emails, finding_ids

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
    mask: MaskMode = "emails",
    status_of: Mapping[str, str] | None = None,
) -> list[Alert]:
    """The alerts to send for one run, urgent first; empty when nothing should alert.

    `new` and `reopened` are the findings of `report` a history store saw appear
    (or come back) in this run; any that `report.findings` does not hold (suppressed
    by an exception, say) are ignored. Findings that are neither (ongoing) never
    alert, except with ``alert_on = "all"``; `status_of` (fingerprint -> "ongoing",
    ..., a history store's :attr:`Lifecycle.status_of`) then says which are ongoing.
    """
    if alert_on == "never":
        return []
    candidates = _candidates(report, new, reopened, alert_on, status_of or {})
    if not candidates:
        return []
    masked = _mask(report, candidates, mask)
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
    report: Report,
    new: Sequence[Finding],
    reopened: Sequence[Finding],
    alert_on: AlertOn,
    status_of: Mapping[str, str],
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
    # read from the columns: a nightly run alerts on a few of tens of thousands
    current = set(
        zip(
            *columns_of(report.findings, "kind", "account_id", "customer_id", "subscription_id"),
            strict=True,
        )
    )
    seen: set[_FindingKey] = set()
    result: list[tuple[Finding, FindingStatus]] = []
    for finding in pool:
        key = finding_key(finding)
        if key in current and key not in seen:
            seen.add(key)
            known: FindingStatus = (
                "ongoing" if status_of.get(fingerprint(finding)) == "ongoing" else "current"
            )
            result.append((finding, status.get(key, known)))
    return result


def _urgency(finding: Finding) -> tuple[int, int]:
    """Sort key: the renderers' kind order (urgent kinds first), then severity."""
    return (KIND_ORDER.index(finding.kind), -int(finding.severity))


def _counts(items: Iterable[tuple[Finding, FindingStatus]]) -> dict[str, dict[str, int]]:
    counted = Counter((finding.kind, status) for finding, status in items)
    result: dict[str, dict[str, int]] = {}
    for kind in KIND_ORDER:
        by_status: dict[str, int] = {
            status: counted[(kind, status)] for status in STATUSES if counted[(kind, status)]
        }
        if by_status:
            result[kind.value] = by_status
    return result


def _mask(
    report: Report, items: list[tuple[Finding, FindingStatus]], mode: MaskMode
) -> list[AlertFinding]:
    """Each finding as sinks show it: masked from its parts (never by searching text)."""
    masker = Masker(mode)
    masker.register(finding_ids([finding for finding, _ in items]))
    test_or_live = mode_of(report.sources)
    result = []
    for raw, status in items:
        safe = masker.finding(raw)
        billing = raw.evidence.get("billing")
        provider = billing.get("provider") if isinstance(billing, dict) else None
        link = dashboard_url(
            raw.customer_id, provider if isinstance(provider, str) else None, test_or_live
        )
        result.append(
            AlertFinding(
                kind=raw.kind,
                severity=raw.severity,
                status=status,
                account_id=safe.account_id,
                customer_id=safe.customer_id,
                subscription_id=safe.subscription_id,
                emails=tuple(dict.fromkeys(masker.email(e) for e in evidence_emails(raw.evidence))),
                message=safe.message,
                fix=safe.fix,
                exposure=raw.exposure,
                fingerprint=fingerprint(raw),
                dashboard_url=None if mode == "all" else link,
            )
        )
    return result
