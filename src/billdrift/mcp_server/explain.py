"""``explain_finding``: one finding from the history store, told whole.

What an agent editing a webhook handler needs to understand one case of drift:
what the billing provider said and what the app granted (the latest
observation's evidence, both sides), how the two were matched, what to do
(the fix), when it started and how it changed (the timeline, consecutive runs
that saw the same thing folded into one entry, as ``billdrift review show``
does), what people decided, and the customer's page in the provider's dashboard.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from billdrift.core.report import SourceInfo
from billdrift.history.review import decision_in_force
from billdrift.history.store import Observation, Review
from billdrift.mcp_server.shapes import (
    Decision,
    ExplainedFinding,
    TimelineEntry,
    finding_fields,
    money,
)
from billdrift.outputs.links import dashboard_url, mode_of
from billdrift.outputs.review import collapse, iso, review_json
from billdrift.usecases.review import open_history, timeline


def _decision(review: Review) -> Decision:
    return Decision.model_validate(review_json(review))


def _entries(observations: Sequence[Observation]) -> list[TimelineEntry]:
    entries = []
    for group in collapse(observations):
        first, last = group[0], group[-1]
        finding = first.finding
        entries.append(
            TimelineEntry(
                first_run=first.run_id,
                last_run=last.run_id,
                runs=len(group),
                first_seen_at=iso(first.observed_at),
                last_seen_at=iso(last.observed_at),
                severity=finding.severity.label,  # type: ignore[arg-type]  # high|medium|low
                exposure=money(finding.exposure),
                message=finding.message,
                suppressed_by=first.suppressed_by,
            )
        )
    return entries


def _section(evidence: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = evidence.get(name)
    return value if isinstance(value, dict) else None


def explained(location: str, prefix: str) -> ExplainedFinding:
    """The finding `prefix` (a fingerprint or a unique prefix of one) names."""
    found = timeline(location, prefix)
    with open_history(location) as store:
        last_run = store.last_run()
    state = found.state
    evidence = found.observations[-1].finding.evidence if found.observations else {}
    billing = _section(evidence, "billing")
    provider = billing.get("provider") if billing else None
    sources = [] if last_run is None else last_run.sources
    mode = mode_of(SourceInfo(s.get("side", ""), s.get("description", "")) for s in sources)
    decision = decision_in_force(state, found.reviews, datetime.now(UTC))
    return ExplainedFinding(
        **finding_fields(state, state.fingerprint),
        state=state.status,
        status=state.last_change,
        first_seen_at=iso(state.first_seen_at),
        last_seen_at=iso(state.last_seen_at),
        resolved_at=iso(state.resolved_at),
        times_reopened=state.times_reopened,
        billing=billing,
        app=_section(evidence, "app"),
        match=_section(evidence, "match"),
        evidence=evidence,
        dashboard_url=dashboard_url(
            state.customer_id, provider if isinstance(provider, str) else None, mode
        ),
        decision=None if decision is None else _decision(decision),
        timeline=_entries(found.observations),
        reviews=[_decision(review) for review in found.reviews],
    )
