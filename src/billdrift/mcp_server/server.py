"""The MCP server: the tools registered with the official SDK, served over stdio.

Each tool here only declares its arguments (their JSON schema and descriptions
are what an agent reads) and hands over to :mod:`.tools` through the guard
(:func:`.guard.guarded`: scrubbed results, scrubbed tool errors). The SDK turns
each result model into structured content with an ``outputSchema``, plus the
same JSON as text.

Tools that only read are annotated read-only; ``check`` is not when it records.
None writes to the app or billing side, and none sends alerts: ``fix_sql`` shows
the SQL a fix would run; running it is ``billdrift fix apply``, a person's act.
"""

from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import ToolAnnotations
from pydantic import Field

from billdrift._version import __version__
from billdrift.core.model import Kind
from billdrift.mcp_server import tools
from billdrift.mcp_server.findings import Lifecycle, ReviewState
from billdrift.mcp_server.guard import guarded
from billdrift.mcp_server.shapes import (
    CheckResult,
    DoctorResult,
    ExplainedFinding,
    FindingsList,
    FixSql,
)

INSTRUCTIONS = """\
billdrift compares what the billing provider says (Stripe, Paddle) with the access the \
app grants, and reports drift: paying customers locked out, access kept after a \
cancellation, wrong plans, broken billing links. Start with `doctor` if a check fails to \
run; `check` runs a reconciliation over the configured sources; `list_findings` and \
`explain_finding` read the run history (fingerprints come from either). Every result \
is JSON with a schema_version. Secrets stay in the server's environment and are never \
shown."""

SeverityName = Literal["high", "medium", "low"]
FixReview = Literal["unreviewed", "acknowledged", "snoozed", "expected", "any"]
FailOn = Literal["high", "medium", "low", "new", "new:high", "new:medium", "new:low"]
Limit = Annotated[int, Field(ge=1, le=tools.MAX_LIMIT, description="Most findings returned")]
_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, open_world_hint=True)


def build_server(settings: tools.Settings) -> MCPServer:
    """The server with every billdrift tool registered."""
    server = MCPServer(
        "billdrift", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool(annotations=ToolAnnotations(destructive_hint=False, open_world_hint=True))
    def check(
        as_of: Annotated[
            str | None,
            Field(description="Evaluate at this ISO-8601 date or instant (default: now)"),
        ] = None,
        fail_on: Annotated[
            FailOn | None,
            Field(description="Lowest severity that fails the run (default: the config's)"),
        ] = None,
        record: Annotated[
            bool,
            Field(description="Record the run in the history store (no alerts are sent)"),
        ] = False,
        limit: Limit = 20,
    ) -> CheckResult:
        """Run a check over the configured billing and app sources: the verdict, counts,
        money at stake and the most urgent findings with their fingerprints."""
        return guarded(
            lambda: tools.check(settings, as_of, fail_on, record, limit), settings.config
        )

    @server.tool(annotations=_READ_ONLY)
    def doctor() -> DoctorResult:
        """Check the set-up (config, environment, both sources, columns, rules): each
        problem with a fix."""
        return guarded(lambda: tools.doctor(settings), settings.config)

    @server.tool(annotations=_READ_ONLY)
    def list_findings(
        kind: Annotated[Kind | None, Field(description="Only this kind")] = None,
        min_severity: Annotated[
            SeverityName | None, Field(description="Only this severity or higher")
        ] = None,
        lifecycle: Annotated[
            Lifecycle,
            Field(
                description="open (default), or only new, reopened or ongoing open findings, "
                "or resolved ones, or all"
            ),
        ] = "open",
        review: Annotated[
            ReviewState,
            Field(
                description="any (default), needs_review (no decision in force), decided, "
                "or one decision: acknowledged, snoozed, expected"
            ),
        ] = "any",
        limit: Limit = 50,
    ) -> FindingsList:
        """Findings from the run history, most urgent first (paid_but_blocked, then
        severity and money at stake)."""
        return guarded(
            lambda: tools.list_findings(settings, kind, min_severity, lifecycle, review, limit),
            settings.config,
        )

    @server.tool(annotations=_READ_ONLY)
    def explain_finding(
        fingerprint: Annotated[
            str, Field(description="A finding's fingerprint or a unique prefix (4+ hex digits)")
        ],
    ) -> ExplainedFinding:
        """One finding: what the billing provider says and what the app grants, how they
        matched, the fix, its timeline across runs, reviews and the dashboard link."""
        return guarded(lambda: tools.explain_finding(settings, fingerprint), settings.config)

    @server.tool(annotations=_READ_ONLY)
    def fix_sql(
        fingerprints: Annotated[
            tuple[str, ...],
            Field(description="Findings to fix, by fingerprint or unique prefix (default: all)"),
        ] = (),
        kinds: Annotated[tuple[Kind, ...], Field(description="Only findings of these kinds")] = (),
        review: Annotated[
            tuple[FixReview, ...],
            Field(
                description="Review states to include (default: unreviewed, or any when "
                "fingerprints are given)"
            ),
        ] = (),
    ) -> FixSql:
        """The SQL `billdrift fix apply` would run on the app database for open findings
        in the history: one guarded UPDATE per account (a row changed since the check is
        left alone), in one transaction, in the app's dialect; and the findings that
        cannot be fixed in the app, with what to do instead. Nothing is run."""
        return guarded(
            lambda: tools.fix_sql(settings, fingerprints, kinds, review), settings.config
        )

    return server


def serve(settings: tools.Settings) -> None:
    """Serve the tools over stdio until the client closes the connection. Log records
    (the SDK's too) are scrubbed of secrets."""
    from billdrift.infra.failures import scrub_log_records

    scrub_log_records()
    build_server(settings).run("stdio")
