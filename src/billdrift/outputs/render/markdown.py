"""Markdown for a GitHub step summary or a PR comment (kept well under 1 MB)."""

from __future__ import annotations

from billdrift.core.model import Finding
from billdrift.core.report import Report
from billdrift.outputs.render.common import (
    MAX_PER_KIND,
    TITLES,
    change_first,
    changes_line,
    gone_ids,
    grouped,
    headline,
    minute,
    money,
)
from billdrift.outputs.render.interface import Renderer
from billdrift.outputs.render.quality import sections

#: With history: rows shown open at the top; the rest are folded into <details>.
SHOWN_OPEN = 10
#: Rows listed in all (a PR comment holds 65,536 characters); JSON has every finding.
LISTED = 100


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class MarkdownRenderer(Renderer):
    name = "markdown"

    def render(self, report: Report) -> str:
        as_of = report.as_of.isoformat().replace("+00:00", "Z")
        out = [f"## billdrift: {report.verdict.value}", ""]
        out.append(f"As of {as_of}; fails on **{report.fail_on_label}** and above.")
        out.append("")
        for source in report.sources:
            out.append(f"- {source.side}: {_cell(source.description)}")
        out.append("")
        if report.errors:
            out += [f"> **Error:** {_cell(error)}" for error in report.errors]
            out += ["", "No findings were produced: fix the error above and run again."]
        else:
            if (changed := changes_line(report)) is not None:
                out += [f"**{changed}**", ""]
            out.append(f"Compared {headline(report)}.")
            out.append("")
            if not report.findings:
                out.append("No drift found.")
            else:
                out.append(
                    f"**{len(report.findings)} findings**, monthly amount at stake: "
                    f"{money(report.exposure_by_currency)}"
                )
                out += ["", "| kind | count | monthly at stake |", "|---|---:|---|"]
                exposure = report.exposure_by_kind
                for kind, count in report.by_kind.items():
                    out.append(f"| `{kind}` | {count} | {money(exposure.get(kind, {}))} |")
            # with history, one table with what changed first; without, one per kind
            by_kind = grouped(report) if report.changes is None else []
            if report.changes is not None:
                out += _change_first(report)
            for kind, findings in by_kind:
                out += ["", f"### {TITLES[kind]} ({len(findings)})", ""]
                out.append(
                    "| severity | account | customer | subscription | monthly | what | fix |"
                )
                out.append("|---|---|---|---|---|---|---|")
                for f in findings[:MAX_PER_KIND]:
                    amount = (
                        f"{f.exposure.currency} {f.exposure.monthly_amount}" if f.exposure else ""
                    )
                    out.append(
                        f"| {f.severity.label} | {_cell(f.account_id)} | {_cell(f.customer_id)} "
                        f"| {_cell(f.subscription_id)} | {amount} | {_cell(f.message)} "
                        f"| {_cell(f.fix)} |"
                    )
                if len(findings) > MAX_PER_KIND:
                    out += ["", f"... and {len(findings) - MAX_PER_KIND} more in the JSON report."]
        if report.skips:
            out += ["", f"### Skipped rows ({len(report.skips)})", ""]
            out += [
                f"- {_cell(s.side)} `{_cell(s.source)}` {_cell(s.location)}"
                f"{' [' + _cell(s.field) + ']' if s.field else ''}: {_cell(s.reason)}"
                for s in report.skips[:MAX_PER_KIND]
            ]
        if report.suppressed:
            out += [
                "",
                f"<details><summary>Suppressed by exceptions ({len(report.suppressed)})</summary>",
                "",
            ]
            out += [
                f"- `{s.finding.kind.value}` {_cell(s.finding.account_id or s.finding.customer_id)}"
                f": {_cell(s.reason)}"
                for s in report.suppressed[:MAX_PER_KIND]
            ]
            out += ["", "</details>"]
        out += _quality(report)
        if report.rules_not_applied or report.notes:
            out += ["", "### Notes", ""]
            out += [
                f"- `{kind}` not checked: {_cell(why)}" for kind, why in report.rules_not_applied
            ]
            out += [f"- {_cell(note)}" for note in report.notes]
        return "\n".join(out) + "\n"


_HEADER = [
    "| status | severity | kind | account | customer | monthly | what | fix | fingerprint |",
    "|---|---|---|---|---|---|---|---|---|",
]


def _row(f: Finding) -> str:
    tracking = f.tracking
    status = "" if tracking is None else tracking.status
    if tracking is not None and tracking.status != "ongoing":
        status = f"**{status}**"
    if tracking is not None and tracking.review is not None:
        until = f" until {minute(tracking.review_until)}" if tracking.review_until else ""
        status += f" ({tracking.review}{until})"
    amount = f"{f.exposure.currency} {f.exposure.monthly_amount}" if f.exposure else ""
    fp = f"`{tracking.short}`" if tracking is not None else ""
    return (
        f"| {status} | {f.severity.label} | `{f.kind.value}` | {_cell(f.account_id)} "
        f"| {_cell(f.customer_id)} | {amount} | {_cell(f.message)} | {_cell(f.fix)} | {fp} |"
    )


def _change_first(report: Report) -> list[str]:
    """With history: one table, new and reopened first, then by severity and money;
    the first rows open, the rest folded, resolved findings named after it."""
    out: list[str] = []
    ordered = change_first(report.findings)
    if ordered:
        out += ["", "### Findings, what changed first", "", *_HEADER]
        out += [_row(f) for f in ordered[:SHOWN_OPEN]]
        folded = ordered[SHOWN_OPEN:LISTED]
        if folded:
            out += ["", f"<details><summary>{len(ordered) - SHOWN_OPEN} more</summary>", ""]
            out += [*_HEADER, *(_row(f) for f in folded), "", "</details>"]
        if len(ordered) > LISTED:
            out += ["", f"... and {len(ordered) - LISTED} more in the JSON report."]
    changes = report.changes
    if changes is not None and changes.resolved:
        since = minute(changes.previous_run_at) if changes.previous_run_at else "the last run"
        lines = [
            f"- `{g.kind.value}` {_cell(gone_ids(g))} `{g.fingerprint[:12]}`"
            for g in changes.resolved[:LISTED]
        ]
        if len(changes.resolved) > LISTED:
            lines.append(f"- ... and {len(changes.resolved) - LISTED} more")
        title = f"Resolved since {since} ({len(changes.resolved)})"
        if len(changes.resolved) > SHOWN_OPEN:
            out += ["", f"<details><summary>{title}</summary>", "", *lines, "", "</details>"]
        else:
            out += ["", f"### {title}", "", *lines]
    return out


def _quality(report: Report) -> list[str]:
    """The money and data-quality sections (see :mod:`.quality`)."""
    out: list[str] = []
    for section in sections(report):
        out += ["", f"### {section.title}", ""]
        out += [f"- {_cell(line)}" for line in section.lines]
    return out
