"""What the pages show of the store's records: masked as the session asks, formatted
for people (amounts with their currency, instants in UTC).

Masking is applied to values, never by searching rendered HTML (see
:mod:`billdrift.outputs.mask`): ids through the session's :class:`Masker` (one key
per session, so a masked id reads the same on every page), emails in free text and
evidence by key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import orjson

from billdrift.core.model import Exposure
from billdrift.history.fingerprint import short
from billdrift.history.store import FindingState, Observation, Review
from billdrift.outputs.links import dashboard_url
from billdrift.outputs.mask import Masker
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.html_trend import history_section
from billdrift.web.security import Session

#: The trend renderer's legend swatches use a style attribute, which the CSP forbids;
#: the web app draws each as a tiny SVG square filled with the same colour instead.
_SWATCH: Final = re.compile(r'<span class=swatch style="background:(#[0-9a-fA-F]{3,8})"></span>')
_SVG_SWATCH: Final = (
    r'<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true">'
    r'<rect width="10" height="10" fill="\1"/></svg>'
)


def masker(session: Session) -> Masker:
    return Masker(session.mask, key=session.mask_key)


def money(exposure: Exposure | None) -> str:
    if exposure is None:
        return ""
    return f"{exposure.currency} {exposure.monthly_amount}"


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


@dataclass(frozen=True)
class FindingView:
    """A finding as a page shows it (masked)."""

    fingerprint: str
    short: str
    kind: str
    severity: str
    status: str
    last_change: str
    account: str
    customer: str
    subscription: str
    money: str
    message: str
    fix: str
    first_seen: Any
    last_seen: Any
    dashboard: str | None


def finding_view(state: FindingState, mask: Masker) -> FindingView:
    link = None if mask.mode == "all" else dashboard_url(state.customer_id)
    return FindingView(
        fingerprint=state.fingerprint,
        short=short(state.fingerprint),
        kind=state.kind.value,
        severity=state.severity.label,
        status=state.status,
        last_change=state.last_change,
        account=mask.field(state.account_id) or "",
        customer=mask.field(state.customer_id) or "",
        subscription=mask.field(state.subscription_id) or "",
        money=money(state.exposure),
        message=mask.words((), state.message),
        fix=mask.words((), state.fix),
        first_seen=state.first_seen_at,
        last_seen=state.last_seen_at,
        dashboard=link,
    )


@dataclass(frozen=True)
class ObservationView:
    run_id: int
    observed_at: Any
    severity: str
    money: str
    message: str
    suppressed_by: str | None
    sides: tuple[tuple[str, str], ...]  # (side, evidence as indented JSON)


def observation_view(observation: Observation, mask: Masker) -> ObservationView:
    finding = mask.finding(observation.finding)
    evidence = finding.evidence if isinstance(finding.evidence, dict) else {}
    sides = tuple(
        (str(side), orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8"))
        for side, value in evidence.items()
    )
    return ObservationView(
        run_id=observation.run_id,
        observed_at=observation.observed_at,
        severity=finding.severity.label,
        money=money(finding.exposure),
        message=finding.message,
        suppressed_by=observation.suppressed_by,
        sides=sides,
    )


def review_view(review: Review, mask: Masker) -> dict[str, Any]:
    return {
        "action": review.action,
        "note": mask.text(review.note),
        "who": review.who,
        "at": review.at,
        "until": review.until,
    }


def trend_html(points: tuple[RunPoint, ...]) -> str:
    """The HTML report's trend section (its SVG charts and data table), CSP-safe."""
    return _SWATCH.sub(_SVG_SWATCH, "".join(history_section(points)))
