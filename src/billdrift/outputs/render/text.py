"""Plain text for a terminal: summary first, urgent findings first, 80 columns."""

from __future__ import annotations

import textwrap

from billdrift.core.report import Report
from billdrift.outputs.render.common import (
    MAX_PER_KIND,
    TITLES,
    changes_line,
    finding_ids,
    gone_ids,
    grouped,
    headline,
    mark,
    minute,
    money,
)
from billdrift.outputs.render.interface import Renderer
from billdrift.outputs.render.quality import sections

WIDTH = 80


def _wrap(text: str, indent: str, then: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent if then is None else then,
        break_on_hyphens=False,
    )


class TextRenderer(Renderer):
    name = "text"

    def render(self, report: Report) -> str:
        out: list[str] = []
        as_of = report.as_of.isoformat().replace("+00:00", "Z")
        out.append(
            f"billdrift: {report.verdict.value} (as of {as_of}, fail on {report.fail_on_label})"
        )
        out.append("")
        for source in report.sources:
            out += _wrap(f"{source.side}: {source.description}", "  ")
        for error in report.errors:
            out += _wrap(f"ERROR: {error}", "")
        if report.errors:
            out.append("")
            out.append("No findings were produced: fix the error above and run again.")
        else:
            out.append(f"  compared: {headline(report)}")
            out.append("")
            out += self._summary(report)
            for kind, findings in grouped(report):
                out.append("")
                out.append(f"{TITLES[kind]} ({len(findings)})")
                for finding in findings[:MAX_PER_KIND]:
                    exposure = (
                        f" · {finding.exposure.currency} {finding.exposure.monthly_amount}/mo"
                        if finding.exposure
                        else ""
                    )
                    out += _wrap(
                        f"[{finding.severity.label}] {finding_ids(finding)}{exposure}", "  "
                    )
                    if (marked := mark(finding)) is not None:
                        out += _wrap(marked, "      ")
                    out += _wrap(finding.message, "      ")
                    out += _wrap(f"fix: {finding.fix}", "      ")
                if len(findings) > MAX_PER_KIND:
                    out.append(
                        f"  ... and {len(findings) - MAX_PER_KIND} more (use --format json for all)"
                    )
            out += self._resolved(report)
        out += self._tail(report)
        return "\n".join(out) + "\n"

    @staticmethod
    def _resolved(report: Report) -> list[str]:
        """The findings resolved since the previous run, by name (history only)."""
        changes = report.changes
        if changes is None or not changes.resolved:
            return []
        since = minute(changes.previous_run_at) if changes.previous_run_at else "the last run"
        out = ["", f"Resolved since {since} ({len(changes.resolved)})"]
        for gone in changes.resolved[:MAX_PER_KIND]:
            out += _wrap(f"{gone.kind.value} {gone_ids(gone)} · fp {gone.fingerprint[:12]}", "  ")
        if len(changes.resolved) > MAX_PER_KIND:
            out.append(f"  ... and {len(changes.resolved) - MAX_PER_KIND} more")
        return out

    @staticmethod
    def _summary(report: Report) -> list[str]:
        changed = changes_line(report)
        lead = _wrap(changed, "") if changed is not None else []
        if not report.findings:
            return [*lead, "No drift found."]
        severities = ", ".join(f"{n} {s}" for s, n in report.by_severity.items())
        lines = [*lead, f"{len(report.findings)} findings ({severities})"]
        lines.append(f"monthly amount at stake: {money(report.exposure_by_currency)}")
        lines.append("")
        lines.append(f"  {'kind':<24}{'count':>7}  monthly at stake")
        exposure = report.exposure_by_kind
        for kind, count in report.by_kind.items():
            lines.append(f"  {kind:<24}{count:>7}  {money(exposure.get(kind, {}))}")
        return lines

    @staticmethod
    def _tail(report: Report) -> list[str]:
        out: list[str] = []
        if report.suppressed:
            out += ["", f"Suppressed by exceptions ({len(report.suppressed)})"]
            for item in report.suppressed[:MAX_PER_KIND]:
                out += _wrap(
                    f"{item.finding.kind.value} {finding_ids(item.finding)}: {item.reason}", "  "
                )
        if report.skips:
            out += ["", f"Skipped rows ({len(report.skips)}): not compared, see why"]
            for skip in report.skips[:MAX_PER_KIND]:
                where = f"{skip.source} {skip.location}"
                field = f" [{skip.field}]" if skip.field else ""
                out += _wrap(f"{skip.side} {where}{field}: {skip.reason}", "  ", "    ")
            if len(report.skips) > MAX_PER_KIND:
                out.append(f"  ... and {len(report.skips) - MAX_PER_KIND} more")
        if report.rules_not_applied:
            out += ["", "Rules not applied"]
            for kind, why in report.rules_not_applied:
                out += _wrap(f"{kind}: {why}", "  ")
        out += _quality(report)
        if report.notes:
            out += ["", "Notes"]
            for note in report.notes:
                out += _wrap(note, "  - ", "    ")
        return out


def _quality(report: Report) -> list[str]:
    """The money and data-quality sections (see :mod:`.quality`)."""
    out: list[str] = []
    for section in sections(report):
        out += ["", section.title]
        for line in section.lines:
            out += _wrap(line, "  ", "    ")
    return out
