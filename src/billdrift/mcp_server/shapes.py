"""The JSON each agent tool returns: one pydantic model per tool, versioned.

These models are the contract an agent (or a script driving one) relies on, so
they are declared once here and nowhere else: the MCP SDK publishes each as the
tool's ``outputSchema``, sends it as structured content, and sends the same
document as JSON text for clients that read only text. Every result carries
``schema_version`` (:data:`SCHEMA_VERSION`) and ``tool``; a field is only ever
added within a major version, never renamed or removed (docs/mcp.md lists them).

Times are ISO-8601 UTC strings ending in ``Z``; money is a decimal string in
major units with its currency, never summed across currencies; severities are
``high``, ``medium``, ``low``; kinds are the report's finding kinds.
"""

from __future__ import annotations

from typing import Any, Final, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from billdrift.core.model import Exposure, Kind, Severity

#: Version of every tool's result shape (docs/mcp.md). Major: a field removed or changed.
SCHEMA_VERSION: Final = "1.0"

SeverityName = Literal["high", "medium", "low"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Money(_Shape):
    """Monthly money at stake in one currency (major units, as a decimal string)."""

    monthly_amount: str
    currency: str


def money(exposure: Exposure | None) -> Money | None:
    return None if exposure is None else Money.model_validate(exposure, from_attributes=True)


class Described(Protocol):
    """What a report's finding and a history store's finding state both carry."""

    @property
    def kind(self) -> Kind: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def confidence(self) -> float: ...
    @property
    def account_id(self) -> str | None: ...
    @property
    def customer_id(self) -> str | None: ...
    @property
    def subscription_id(self) -> str | None: ...
    @property
    def exposure(self) -> Exposure | None: ...
    @property
    def message(self) -> str: ...
    @property
    def fix(self) -> str: ...


def finding_fields(finding: Described, fingerprint: str) -> dict[str, Any]:
    """The fields every finding shape shares, built in one place so ``check`` and
    ``explain_finding`` say the same thing the same way."""
    return {
        "fingerprint": fingerprint,
        "kind": finding.kind.value,
        "severity": finding.severity.label,
        "confidence": finding.confidence,
        "account_id": finding.account_id,
        "customer_id": finding.customer_id,
        "subscription_id": finding.subscription_id,
        "exposure": money(finding.exposure),
        "message": finding.message,
        "fix": finding.fix,
    }


class Decision(_Shape):
    """One review (a decision or a note), as ``billdrift review`` records it."""

    action: str
    note: str
    until: str | None
    who: str
    at: str | None


class CheckedFinding(_Shape):
    """A finding as the check found it (report order: most urgent first)."""

    fingerprint: str = Field(description="Full fingerprint; a 12-digit prefix is enough")
    kind: str
    severity: SeverityName
    confidence: float
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    exposure: Money | None
    message: str
    fix: str
    lifecycle: str | None = Field(
        description="new, reopened or ongoing when the run was recorded; else null"
    )
    review: str | None = Field(description="The decision in force when recorded, else null")


class Source(_Shape):
    side: str
    description: str


class Counts(_Shape):
    accounts: int
    subscriptions: int
    customers: int
    findings: int
    suppressed: int
    skipped: int


class CheckResult(_Shape):
    """``check``: the verdict of one run over the configured sources."""

    schema_version: str = SCHEMA_VERSION
    tool: Literal["check"] = "check"
    verdict: Literal["PASS", "WARN", "FAIL", "ERROR"]
    exit_code: int = Field(description="What `billdrift check` would exit with: 0, 1 or 2")
    as_of: str
    fail_on: str
    config: str | None = Field(description="The config file used, or null for defaults")
    recorded: bool = Field(description="Whether the run was recorded in the history store")
    sources: list[Source]
    counts: Counts
    by_kind: dict[str, int]
    by_severity: dict[str, int]
    exposure: dict[str, str] = Field(description="Monthly money at stake per currency")
    exposure_annualized: dict[str, str]
    changes: dict[str, int] | None = Field(
        description="new, reopened, ongoing and resolved counts when recorded; else null"
    )
    findings: list[CheckedFinding] = Field(description="The first `limit` findings")
    findings_truncated: bool
    errors: list[str]
    notes: list[str]


class DoctorCheck(_Shape):
    name: str
    status: Literal["ok", "warn", "fail"]
    detail: str
    fix: str | None


class DoctorResult(_Shape):
    """``doctor``: is the set-up ready for a check, and if not, what to do."""

    schema_version: str = SCHEMA_VERSION
    tool: Literal["doctor"] = "doctor"
    status: Literal["ok", "warn", "fail"]
    exit_code: int = Field(description="What `billdrift doctor` would exit with: 0, 1 or 2")
    checks: list[DoctorCheck]


class ListedFinding(_Shape):
    """One finding in the history store (the fields of `billdrift review --format json`,
    plus its state)."""

    fingerprint: str
    short: str
    urgent: bool
    kind: str
    severity: SeverityName
    confidence: float
    exposure: Money | None
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    state: Literal["open", "resolved", "suppressed"]
    status: str = Field(description="The latest change: new, ongoing, reopened, resolved...")
    first_seen_at: str | None
    first_seen_run: int
    last_seen_at: str | None
    last_seen_run: int
    times_reopened: int
    message: str
    fix: str
    decision: Decision | None = Field(description="The review decision in force, if any")
    reviews: list[Decision]


class FindingsList(_Shape):
    """``list_findings``: findings from the history store, most urgent first."""

    schema_version: str = SCHEMA_VERSION
    tool: Literal["list_findings"] = "list_findings"
    history: str = Field(description="The history store, redacted")
    filters: dict[str, Any]
    total: int = Field(description="Findings matching the filters")
    returned: int
    truncated: bool
    last_run: dict[str, Any] | None
    findings: list[ListedFinding]


class TimelineEntry(_Shape):
    """Consecutive runs that saw the finding the same way, as one entry."""

    first_run: int
    last_run: int
    runs: int
    first_seen_at: str | None
    last_seen_at: str | None
    severity: SeverityName
    exposure: Money | None
    message: str
    suppressed_by: str | None


class ExplainedFinding(_Shape):
    """``explain_finding``: one finding, its evidence from both sides and its history."""

    schema_version: str = SCHEMA_VERSION
    tool: Literal["explain_finding"] = "explain_finding"
    fingerprint: str
    kind: str
    severity: SeverityName
    confidence: float
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    exposure: Money | None
    state: Literal["open", "resolved", "suppressed"]
    status: str
    first_seen_at: str | None
    last_seen_at: str | None
    resolved_at: str | None
    times_reopened: int
    message: str
    fix: str = Field(description="What to do about it")
    billing: dict[str, Any] | None = Field(description="What the billing provider says")
    app: dict[str, Any] | None = Field(description="What the app grants")
    match: dict[str, Any] | None = Field(description="How the account and customer matched")
    evidence: dict[str, Any] = Field(description="The whole evidence of the latest observation")
    dashboard_url: str | None = Field(description="The customer in the provider's dashboard")
    decision: Decision | None
    timeline: list[TimelineEntry]
    reviews: list[Decision]


class FixFinding(_Shape):
    """A finding a statement fixes, or that cannot be fixed in the app."""

    fingerprint: str
    kind: str
    account_id: str | None
    customer_id: str | None
    subscription_id: str | None
    message: str
    review: str | None


class FixChange(_Shape):
    column: str
    before: str | None
    after: str


class FixGuard(_Shape):
    column: str
    observed: str | None
    how: Literal["exact", "folded"]


class FixStatement(_Shape):
    """One guarded UPDATE of one app row: it changes nothing unless every guard holds."""

    account_id: str
    key_column: str
    changes: list[FixChange]
    guards: list[FixGuard]
    findings: list[FixFinding]
    reasons: list[str]


class NotFixableFinding(_Shape):
    finding: FixFinding
    reason: str
    instead: str = Field(description="What to do instead (in the provider, by a person)")


class FixSql(_Shape):
    """``fix_sql``: the SQL ``billdrift fix apply`` would run for the selected findings.
    Shown only: nothing is run, and applying needs a person (``billdrift fix apply``)."""

    schema_version: str = SCHEMA_VERSION
    tool: Literal["fix_sql"] = "fix_sql"
    dialect: Literal["postgresql", "mysql", "sqlite"]
    table: list[str]
    origin: str
    sql: str = Field(description="The reviewable script, one transaction, as `fix plan` writes")
    digest: str = Field(description="sha256 naming the plan")
    statements: list[FixStatement]
    not_fixable: list[NotFixableFinding]
    notes: list[str]
