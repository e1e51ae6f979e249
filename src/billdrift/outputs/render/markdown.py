"""Markdown for a GitHub step summary or a PR comment (kept well under 1 MB)."""

from __future__ import annotations

from billdrift.core.report import Report
from billdrift.outputs.render.common import MAX_PER_KIND, TITLES, grouped, headline, money
from billdrift.outputs.render.interface import Renderer


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


class MarkdownRenderer(Renderer):
    name = "markdown"

    def render(self, report: Report) -> str:
        as_of = report.as_of.isoformat().replace("+00:00", "Z")
        out = [f"## billdrift: {report.verdict.value}", ""]
        out.append(f"As of {as_of}; fails on **{report.fail_on.label}** and above.")
        out.append("")
        for source in report.sources:
            out.append(f"- {source.side}: {_cell(source.description)}")
        out.append("")
        if report.errors:
            out += [f"> **Error:** {_cell(error)}" for error in report.errors]
            out += ["", "No findings were produced: fix the error above and run again."]
        else:
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
            for kind, findings in grouped(report):
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
        if report.rules_not_applied or report.notes:
            out += ["", "### Notes", ""]
            out += [
                f"- `{kind}` not checked: {_cell(why)}" for kind, why in report.rules_not_applied
            ]
            out += [f"- {_cell(note)}" for note in report.notes]
        return "\n".join(out) + "\n"
