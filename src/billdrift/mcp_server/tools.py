"""What each agent tool does, as plain functions from arguments to a result shape.

No MCP here: :mod:`.server` registers these and wraps each in the guard. Every
tool calls the same library functions the command line does
(:mod:`billdrift.usecases`, ``doctor`` from :mod:`billdrift.onboarding`), with the
config file found the way every command finds it (``--config`` given to
``billdrift mcp``, else ``$BILLDRIFT_CONFIG``, else ``./billdrift.toml``, read
again at each call so an edited file counts), and the history store that config
names (else ``$BILLDRIFT_HISTORY``, else ``.billdrift/history.sqlite``).

``check`` never sends alerts: an agent trying things must not page anyone. It
records the run only when asked (``record``), so a run an agent starts does not
move the team's history unless it means to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billdrift.config import Config, load_config
from billdrift.core.model import Kind, Severity
from billdrift.core.report import Report, annualized
from billdrift.errors import ConfigError
from billdrift.history import default_location, fingerprint
from billdrift.infra.config_file import find_config
from billdrift.mcp_server.explain import explained
from billdrift.mcp_server.findings import FindingFilter, Lifecycle, ReviewState, select_findings
from billdrift.mcp_server.shapes import (
    CheckedFinding,
    CheckResult,
    Counts,
    DoctorCheck,
    DoctorResult,
    ExplainedFinding,
    FindingsList,
    FixSql,
    ListedFinding,
    Source,
    finding_fields,
)
from billdrift.outputs.review import iso, item_json
from billdrift.usecases.check import as_of_instant, run_check
from billdrift.usecases.overrides import with_overrides
from billdrift.usecases.review import open_history

#: Most findings one call returns (a run can have tens of thousands).
MAX_LIMIT = 1000


@dataclass(frozen=True)
class Settings:
    """How ``billdrift mcp`` was started: the config file named, if any."""

    config_path: str | None = None

    def config_file(self) -> Path | None:
        return find_config(self.config_path)[0]

    def config(self) -> Config:
        return load_config(self.config_file())

    def history(self, config: Config) -> str:
        return config.history.location or default_location()


def _limit(value: int) -> int:
    if not 1 <= value <= MAX_LIMIT:
        raise ConfigError(f"limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


def check(
    settings: Settings, as_of: str | None, fail_on: str | None, record: bool, limit: int
) -> CheckResult:
    """Run a check over the configured sources (and record it when asked)."""
    limit = _limit(limit)
    config = settings.config()
    if fail_on is not None:
        config = with_overrides(config, fail_on=fail_on)
    if config.output.fail_on.startswith("new") and not record:
        raise ConfigError(
            f"fail_on {config.output.fail_on!r} tells new findings from ongoing ones by the "
            "run history: call check with record=true (and a history store configured)"
        )
    when = as_of_instant(as_of)
    started = datetime.now(UTC)
    report = run_check(config, when)
    if record:
        from billdrift.usecases.recording import record as record_run

        if not config.history.location:
            config = with_overrides(config, history=default_location())
        report = record_run(config, report, started, datetime.now(UTC)).report
    file = settings.config_file()
    return _check_result(report, record, None if file is None else str(file), limit)


def _check_result(report: Report, recorded: bool, config: str | None, limit: int) -> CheckResult:
    findings = [
        CheckedFinding(
            **finding_fields(finding, fingerprint(finding)),
            lifecycle=None if finding.tracking is None else finding.tracking.status,
            review=None if finding.tracking is None else finding.tracking.review,
        )
        for finding in report.findings[:limit]
    ]
    changes = None
    if report.changes is not None:
        by_status = report.by_status
        changes = {
            "new": by_status.get("new", 0),
            "reopened": by_status.get("reopened", 0),
            "ongoing": by_status.get("ongoing", 0),
            "resolved": len(report.changes.resolved),
        }
    return CheckResult(
        verdict=report.verdict.value,
        exit_code=report.exit_code,
        as_of=iso(report.as_of) or "",
        fail_on=report.fail_on_label,
        config=config,
        recorded=recorded,
        sources=[Source(side=s.side, description=s.description) for s in report.sources],
        counts=Counts(
            accounts=report.counts.get("accounts", 0),
            subscriptions=report.counts.get("subscriptions", 0),
            customers=report.counts.get("customers", 0),
            findings=len(report.findings),
            suppressed=len(report.suppressed),
            skipped=len(report.skips),
        ),
        by_kind=report.by_kind,
        by_severity=report.by_severity,
        exposure=report.exposure_by_currency,
        exposure_annualized=annualized(report.exposure_by_currency),
        changes=changes,
        findings=findings,
        findings_truncated=len(report.findings) > limit,
        errors=list(report.errors),
        notes=list(report.notes),
    )


def doctor(settings: Settings) -> DoctorResult:
    """Every ``billdrift doctor`` check on the configured set-up."""
    from billdrift.onboarding.doctor import run_doctor

    report = run_doctor(settings.config_path)
    return DoctorResult(
        status=report.status,
        exit_code=report.exit_code,
        checks=[
            DoctorCheck(name=c.name, status=c.status, detail=c.detail, fix=c.fix)
            for c in report.checks
        ],
    )


def list_findings(
    settings: Settings,
    kind: str | None,
    min_severity: str | None,
    lifecycle: Lifecycle,
    review: ReviewState,
    limit: int,
) -> FindingsList:
    """Findings from the history store, filtered, most urgent first."""
    try:
        wanted = FindingFilter(
            kind=None if kind is None else Kind(kind),
            min_severity=None if min_severity is None else Severity.parse(min_severity),
            lifecycle=lifecycle,
            review=review,
            limit=_limit(limit),
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    now = datetime.now(UTC)
    with open_history(settings.history(settings.config())) as store:
        selection = select_findings(store, wanted, now)
        last = store.last_run()
        shown = store.shown
    items = [_listed(item_json(item), item.state.status) for item in selection.items]
    return FindingsList(
        history=shown,
        filters={
            "kind": kind,
            "min_severity": min_severity,
            "lifecycle": lifecycle,
            "review": review,
            "limit": limit,
        },
        total=selection.total,
        returned=len(items),
        truncated=selection.total > len(items),
        last_run=None
        if last is None
        else {
            "run_id": last.run_id,
            "finished_at": iso(last.finished_at),
            "verdict": last.verdict.value,
        },
        findings=items,
    )


def _listed(fields: dict[str, Any], state: str) -> ListedFinding:
    """The review queue's JSON of a finding as the contract's shape (fields the queue
    may add later are left out, not refused)."""
    known = {name: fields[name] for name in ListedFinding.model_fields if name in fields}
    return ListedFinding.model_validate({**known, "state": state})


def explain_finding(settings: Settings, fingerprint_prefix: str) -> ExplainedFinding:
    """One finding by fingerprint or unique prefix: evidence, fix, timeline, link."""
    return explained(settings.history(settings.config()), fingerprint_prefix)


def fix_sql(
    settings: Settings,
    fingerprints: Sequence[str],
    kinds: Sequence[str],
    review: Sequence[str],
) -> FixSql:
    """The guarded SQL a fix of the selected history findings would run (not run)."""
    from billdrift.usecases import fix

    try:
        selection = fix.Selection(
            fingerprints=tuple(fingerprints),
            kinds=tuple(Kind(kind) for kind in kinds),
            review=tuple(review),
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None
    config = settings.config()
    plan = fix.plan(config, selection, history=settings.history(config))
    data = {**plan.as_dict(), "sql": fix.render_sql(plan), "digest": plan.digest}
    return FixSql.model_validate({name: data[name] for name in FixSql.model_fields if name in data})
