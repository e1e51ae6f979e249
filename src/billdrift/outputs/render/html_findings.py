"""One finding as a row of the HTML report's findings table, evidence included.

A page may hold thousands of these rows, so each is one string with as few
elements as will do: the evidence is indented plain text inside a closed
``<details>``, not nested lists.
"""

from __future__ import annotations

import json
from typing import Any

from billdrift.core.model import Finding
from billdrift.outputs.render.common import minute
from billdrift.outputs.render.html_escape import escape as _e


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flat(value: object) -> bool:
    """A record of scalars (a dict with no dict or list inside)."""
    return isinstance(value, dict) and not any(
        isinstance(v, dict | list | tuple) for v in value.values()
    )


def _evidence_lines(value: dict[Any, Any], indent: str, depth: int) -> list[str]:
    lines = []
    for key, item in value.items():
        if isinstance(item, dict) and item and depth < 4:
            lines.append(f"{indent}{key}")
            lines += _evidence_lines(item, indent + "  ", depth + 1)
        elif isinstance(item, list | tuple) and all(
            not isinstance(v, dict | list | tuple) for v in item
        ):
            lines.append(f"{indent}{key}: {', '.join(_scalar(v) for v in item)}")
        elif isinstance(item, list | tuple) and all(_flat(v) for v in item):
            # a list of small records (a customer's subscriptions): "sub_1:active, ..."
            shown = (":".join(_scalar(v) for v in record.values()) for record in item)
            lines.append(f"{indent}{key}: {', '.join(shown)}")
        elif isinstance(item, dict | list | tuple):
            lines.append(f"{indent}{key}: {json.dumps(item, ensure_ascii=False, default=str)}")
        else:
            lines.append(f"{indent}{key}: {_scalar(item)}")
    return lines


def _evidence(evidence: dict[str, Any]) -> str:
    """Evidence as indented ``key: value`` lines, with each top-level group (billing,
    app, match) in bold.

    Plain text rather than nested lists on purpose: a list costs dozens of DOM nodes
    per finding, and with thousands of rows that alone added seconds to opening the
    page in a browser.
    """
    blocks = []
    for key, item in evidence.items():
        if isinstance(item, dict) and item:
            body = "\n".join(_evidence_lines(item, "  ", 1))
            blocks.append(f"<b>{_e(key)}</b>\n{_e(body)}")
        else:
            blocks.append(_e("\n".join(_evidence_lines({key: item}, "", 0))))
    return f"<div class=ev>{chr(10).join(blocks)}</div>"


def _exposure_cell(finding: Finding) -> str:
    if finding.exposure is None:
        return ""
    return f"{_e(finding.exposure.currency)}&nbsp;{_e(finding.exposure.monthly_amount)}"


def finding_row(finding: Finding) -> str:
    confidence = (
        f"<br><small class=muted>confidence {finding.confidence:.2f}</small>"
        if finding.confidence < 1
        else ""
    )
    evidence = (
        f"<details><summary>evidence</summary>{_evidence(finding.evidence)}</details>"
        if finding.evidence
        else ""
    )
    label = finding.severity.label
    tracking = finding.tracking
    status = (
        ""
        if tracking is None
        else f"<br><span class='st st-{_e(tracking.status)}'>{_e(tracking.status)}</span>"
        f"<br><small class=muted title='{_e(tracking.fingerprint)}'>{_e(tracking.short)}"
        f"<br>since {_e(minute(tracking.first_seen))}"
        + (f"<br>{_e(tracking.review)}" if tracking.review else "")
        + "</small>"
    )
    # The row title names the account (or customer) so a hover anywhere in a wide,
    # scrolled table still says whose row it is.
    who = finding.account_id or finding.customer_id or finding.subscription_id or ""
    return (
        f'<tr title="{_e(finding.kind.value)} {_e(who)}">'
        f"<td><span class='sev sev-{label}'>{label}</span>{confidence}{status}</td>"
        f"<td class=id>{_e(finding.account_id)}</td>"
        f"<td class=id>{_e(finding.customer_id)}</td>"
        f"<td class=id>{_e(finding.subscription_id)}</td>"
        f"<td class=num>{_exposure_cell(finding)}</td>"
        f"<td>{_e(finding.message)}</td><td>{_e(finding.fix)}</td><td>{evidence}</td></tr>"
    )
