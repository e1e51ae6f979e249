"""One self-contained HTML page: verdict, summary, trend chart and findings with evidence.

The page is meant to be mailed, attached to a ticket or opened from CI artifacts,
often offline, so it references nothing outside itself: inline CSS, the chart is
an inline SVG computed here, and there is no script at all. A Content-Security-
Policy meta tag forbids scripts and remote loads as a second line of defence;
the first is that every value that comes from data (ids, emails, messages,
evidence, source descriptions, history) goes through ``html.escape``.

Large reports: the page lists at most ``MAX_PER_KIND`` findings of each kind (the
JSON and CSV outputs list all of them) so a 35,000-finding run still opens in a
browser in a moment instead of building a page of hundreds of megabytes.

This module lays out the page; its parts live beside it: the stylesheet and
colours (:mod:`.html_style`), escaping (:mod:`.html_escape`), one finding's row
(:mod:`.html_findings`) and the trend section (:mod:`.html_trend`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from billdrift._version import __version__
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.outputs.render.common import (
    TITLES,
    changes_line,
    gone_ids,
    grouped,
    headline,
    minute,
)
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.html_escape import escape as _e
from billdrift.outputs.render.html_findings import finding_row
from billdrift.outputs.render.html_style import CSS, KIND_COLOURS
from billdrift.outputs.render.html_trend import history_section
from billdrift.outputs.render.interface import Renderer
from billdrift.outputs.render.quality import sections

#: Findings listed per kind; the rest are counted in a note (JSON/CSV have them all).
MAX_PER_KIND = 1000
#: Findings per table chunk (see HtmlRenderer._findings).
CHUNK = 200
#: Skipped rows and suppressed findings listed (the JSON report has all of them).
MAX_ROWS = 1000

VERDICT_MEANING = {
    Verdict.PASS: "no drift found",
    Verdict.WARN: "drift below the fail threshold, or rows that could not be read",
    Verdict.FAIL: "drift at or above the fail threshold",
    Verdict.ERROR: "the check could not run",
}


def _utc(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


class HtmlRenderer(Renderer):
    """The HTML report. ``history`` (oldest or newest first, any order) feeds the trend
    chart; without it the chart section says how to start recording one."""

    name = "html"

    def __init__(self, history: Sequence[RunPoint] | None = None) -> None:
        self.history = history

    def render(self, report: Report) -> str:
        verdict = report.verdict.value
        threshold = (
            ""
            if report.verdict is Verdict.ERROR
            else f"; fails on <b>{_e(report.fail_on_label)}</b> and above"
        )
        out = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            # No script, no remote anything: even a missed escape could not run code.
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
            "style-src 'unsafe-inline'; img-src data:\">",
            f"<title>billdrift: {_e(verdict)} ({_e(_utc(report.as_of))})</title>",
            f"<style>{CSS}</style></head><body>",
            "<h1>billdrift report</h1>",
            f'<div class="verdict v-{_e(verdict)}"><span class=word>{_e(verdict)}</span>'
            f"<span class=why>{_e(VERDICT_MEANING[report.verdict])}{threshold}</span></div>",
            f"<p>As of <b>{_e(_utc(report.as_of))}</b>.</p>",
        ]
        if report.sources:
            out.append("<ul class=sources>")
            out += [f"<li><b>{_e(s.side)}</b>: {_e(s.description)}</li>" for s in report.sources]
            out.append("</ul>")
        if report.errors:
            out += [f"<div class=errors><b>Error:</b> {_e(e)}</div>" for e in report.errors]
            out.append("<p>No findings were produced: fix the error above and run again.</p>")
        else:
            out += self._summary(report)
        out += history_section(self.history, report.as_of)
        if not report.errors:
            out += self._findings(report)
            out += _resolved(report)
        out += self._tail(report)
        out.append(
            f"<footer>billdrift {_e(__version__)} · a self-contained page: no scripts, "
            "nothing loaded from the network. Every finding is in the JSON "
            "(--format json) and CSV (--format csv) reports.</footer></body></html>"
        )
        return "\n".join(out) + "\n"

    @staticmethod
    def _summary(report: Report) -> list[str]:
        counts = report.counts
        skipped = len(report.skips)
        cards = [
            ("findings", len(report.findings)),
            ("accounts", counts.get("accounts", 0)),
            ("subscriptions", counts.get("subscriptions", 0)),
            ("customers", counts.get("customers", 0)),
            ("suppressed", len(report.suppressed)),
            ("skipped rows", skipped),
        ]
        out = ["<section id=summary><h2>Summary</h2>"]
        if (changed := changes_line(report)) is not None:
            out.append(f"<p class=changes><b>{_e(changed)}</b></p>")
        out.append(f"<p>Compared {_e(headline(report))}.</p>")
        out.append(
            "<div class=cards>"
            + "".join(f"<div class=card><b>{n:,}</b>{_e(label)}</div>" for label, n in cards)
            + "</div>"
        )
        if not report.findings:
            out.append("<p><b>No drift found.</b></p>")
        else:
            severities = ", ".join(
                f"<span class='sev sev-{_e(s)}'>{n:,} {_e(s)}</span>"
                for s, n in report.by_severity.items()
            )
            out.append(f"<p>By severity: {severities}</p>")
            out += HtmlRenderer._exposure_table(report)
        if report.classification:
            out.append(
                "<details><summary>Accounts by state</summary><table><thead><tr><th>state</th>"
                "<th class=num>accounts</th></tr></thead><tbody>"
                + "".join(
                    f"<tr><td>{_e(state)}</td><td class=num>{n:,}</td></tr>"
                    for state, n in report.classification.items()
                )
                + "</tbody></table></details>"
            )
        out.append("</section>")
        return out

    @staticmethod
    def _exposure_table(report: Report) -> list[str]:
        """Counts and monthly amount at stake per kind, one column per currency."""
        by_kind = report.by_kind
        exposure = report.exposure_by_kind
        totals = report.exposure_by_currency
        currencies = sorted({c for amounts in exposure.values() for c in amounts} | set(totals))
        head = "".join(f"<th class=num>{_e(c)}/month</th>" for c in currencies)
        out = [
            "<table class=exposure><caption class=muted>Monthly amount at stake, per "
            "currency (currencies are never added together)</caption><thead><tr>"
            f"<th>kind</th><th class=num>findings</th>{head}</tr></thead><tbody>"
        ]
        for kind, count in by_kind.items():
            amounts = exposure.get(kind, {})
            colour = KIND_COLOURS.get(kind, "#9e9e9e")
            out.append(
                f'<tr><td><span class=swatch style="background:{colour}"></span>'
                f'<a href="#kind-{_e(kind)}">{_e(kind)}</a></td><td class=num>{count:,}</td>'
                + "".join(f"<td class=num>{_e(amounts.get(c, '-'))}</td>" for c in currencies)
                + "</tr>"
            )
        out.append(
            f"<tr><th>all findings</th><th class=num>{len(report.findings):,}</th>"
            + "".join(f"<th class=num>{_e(totals.get(c, '-'))}</th>" for c in currencies)
            + "</tr></tbody></table>"
        )
        out.append(
            "<p class=muted>The last row counts each subscription once, so it can be less "
            "than the sum of the kinds above.</p>"
        )
        return out

    @staticmethod
    def _findings(report: Report) -> list[str]:
        groups = grouped(report)
        if not groups:
            return []
        out = ["<section id=findings><h2>Findings (urgent first)</h2>"]
        hidden = sum(max(len(findings) - MAX_PER_KIND, 0) for _, findings in groups)
        if hidden:
            out.append(
                f"<p class=note>This page lists at most {MAX_PER_KIND:,} findings of each "
                f"kind: {hidden:,} of {len(report.findings):,} are not shown. The JSON "
                "(--format json) and CSV (--format csv) reports list all of them.</p>"
            )
        for kind, findings in groups:
            out.append(
                f'<h3 id="kind-{_e(kind.value)}">{_e(TITLES[kind])} ({len(findings):,}) '
                f"<code class=muted>{_e(kind.value)}</code></h3>"
            )
            shown = findings[:MAX_PER_KIND]
            # Chunks of CHUNK rows, each its own fixed-layout table (same column widths,
            # so they line up) in a content-visibility:auto box: the browser lays out
            # only the chunks on screen, which keeps a page of thousands of rows quick
            # to open and to scroll.
            for start in range(0, len(shown), CHUNK):
                rows = shown[start : start + CHUNK]
                out.append(
                    f'<div class=chunk style="contain-intrinsic-size:auto {len(rows) * 120}px">'
                    "<table class=findings><colgroup><col class=c-sev><col class=c-id>"
                    "<col class=c-id><col class=c-id><col class=c-amt><col><col>"
                    "<col class=c-ev></colgroup>"
                )
                if start == 0:
                    out.append(
                        "<thead><tr><th>severity</th><th>account</th><th>customer</th>"
                        "<th>subscription</th><th class=num>monthly</th><th>what</th>"
                        "<th>fix</th><th>evidence</th></tr></thead>"
                    )
                out.append("<tbody>")
                out += [finding_row(f) for f in rows]
                out.append("</tbody></table></div>")
            if len(findings) > MAX_PER_KIND:
                out.append(
                    f"<p class=note>{len(findings) - MAX_PER_KIND:,} more {_e(kind.value)} "
                    f"findings are not listed here (the first {MAX_PER_KIND:,} of "
                    f"{len(findings):,} are shown). The JSON (--format json) and CSV "
                    "(--format csv) reports list all of them.</p>"
                )
        out.append("</section>")
        return out

    @staticmethod
    def _tail(report: Report) -> list[str]:
        out: list[str] = []
        if report.skips:
            out.append(
                f"<section id=skipped><h2>Skipped rows ({len(report.skips):,})</h2>"
                "<p>These rows could not be read and were not compared.</p><table><thead><tr>"
                "<th>side</th><th>source</th><th>location</th><th>field</th><th>reason</th>"
                "</tr></thead><tbody>"
            )
            out += [
                f"<tr><td>{_e(s.side)}</td><td>{_e(s.source)}</td><td>{_e(s.location)}</td>"
                f"<td>{_e(s.field)}</td><td>{_e(s.reason)}</td></tr>"
                for s in report.skips[:MAX_ROWS]
            ]
            out.append("</tbody></table>")
            if len(report.skips) > MAX_ROWS:
                out.append(
                    f"<p class=note>{len(report.skips) - MAX_ROWS:,} more skipped rows are "
                    "listed in the JSON report (--format json).</p>"
                )
            out.append("</section>")
        if report.suppressed:
            out.append(
                f"<section id=suppressed><h2>Suppressed by exceptions ({len(report.suppressed):,})"
                "</h2><details><summary>show</summary><table><thead><tr><th>kind</th>"
                "<th>account</th><th>customer</th><th>subscription</th><th>reason</th></tr>"
                "</thead><tbody>"
            )
            out += [
                f"<tr><td>{_e(s.finding.kind.value)}</td><td class=id>{_e(s.finding.account_id)}"
                f"</td><td class=id>{_e(s.finding.customer_id)}</td><td class=id>"
                f"{_e(s.finding.subscription_id)}</td><td>{_e(s.reason)}</td></tr>"
                for s in report.suppressed[:MAX_ROWS]
            ]
            out.append("</tbody></table></details>")
            if len(report.suppressed) > MAX_ROWS:
                out.append(
                    f"<p class=note>{len(report.suppressed) - MAX_ROWS:,} more suppressed "
                    "findings are listed in the JSON report (--format json).</p>"
                )
            out.append("</section>")
        out += _quality(report)
        if report.rules_not_applied or report.notes:
            out.append("<section id=notes><h2>Notes</h2><ul>")
            out += [
                f"<li><code>{_e(kind)}</code> not checked: {_e(why)}</li>"
                for kind, why in report.rules_not_applied
            ]
            out += [f"<li>{_e(note)}</li>" for note in report.notes]
            out.append("</ul></section>")
        return out


def _resolved(report: Report) -> list[str]:
    """The findings resolved since the previous run, by name (history only)."""
    changes = report.changes
    if changes is None or not changes.resolved:
        return []
    since = minute(changes.previous_run_at) if changes.previous_run_at else "the last run"
    items = "".join(
        f"<li><code>{_e(g.kind.value)}</code> {_e(gone_ids(g))} "
        f"<code title='{_e(g.fingerprint)}'>{_e(g.fingerprint[:12])}</code></li>"
        for g in changes.resolved[:MAX_ROWS]
    )
    more = len(changes.resolved) - MAX_ROWS
    tail = f"<p class=muted>... and {more:,} more (JSON report)</p>" if more > 0 else ""
    return [
        f"<section id=resolved><h2>Resolved since {_e(since)} ({len(changes.resolved):,})</h2>"
        f"<ul>{items}</ul>{tail}</section>"
    ]


def _quality(report: Report) -> list[str]:
    """The money and data-quality sections (see :mod:`.quality`)."""
    out: list[str] = []
    for section in sections(report):
        out.append(f"<section id={section.anchor}><h2>{_e(section.title)}</h2><ul>")
        out += [f"<li>{_e(line)}</li>" for line in section.lines]
        out.append("</ul></section>")
    return out
