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
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from billdrift import __version__
from billdrift.core.model import KIND_ORDER, Finding, Verdict
from billdrift.core.report import Report
from billdrift.outputs.render.common import TITLES, grouped, headline
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.interface import Renderer

#: Findings listed per kind; the rest are counted in a note (JSON/CSV have them all).
MAX_PER_KIND = 1000
#: Findings per table chunk (see HtmlRenderer._findings).
CHUNK = 200
#: Skipped rows and suppressed findings listed (the JSON report has all of them).
MAX_ROWS = 1000
#: Runs charted: the most recent ones. Beyond this the bars get too thin to read.
MAX_RUNS = 60

NO_HISTORY = "No history recorded; run with --history to chart trends."

VERDICT_COLOURS = {
    Verdict.PASS.value: "#2e7d32",
    Verdict.WARN.value: "#b26a00",
    Verdict.FAIL.value: "#c62828",
    Verdict.ERROR.value: "#4a148c",
}
VERDICT_MEANING = {
    Verdict.PASS: "no drift found",
    Verdict.WARN: "drift below the fail threshold, or rows that could not be read",
    Verdict.FAIL: "drift at or above the fail threshold",
    Verdict.ERROR: "the check could not run",
}

KIND_COLOURS = {
    "paid_but_blocked": "#c62828",
    "unpaid_but_active": "#ef6c00",
    "plan_drift": "#f9a825",
    "orphaned_subscription": "#6a1b9a",
    "missing_billing_link": "#1565c0",
    "stale_billing_link": "#00838f",
    "duplicate_customer": "#2e7d32",
    "app_fields_disagree": "#6d4c41",
    "ambiguous": "#78909c",
}
#: For kinds a past run recorded that this version no longer knows.
OTHER_COLOURS = ("#ad1457", "#558b2f", "#4527a0", "#37474f")

CSS = """
:root{--fg:#1c1f23;--muted:#5f6b76;--line:#d8dde3;--bg:#fff;--soft:#f5f7f9}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px 48px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:32px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:24px 0 6px}
code,.id{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:var(--muted)}
.verdict{display:flex;align-items:center;gap:16px;padding:14px 18px;border-radius:8px;
color:#fff;margin:12px 0 16px}
.verdict .word{font-size:30px;font-weight:700;letter-spacing:.04em}
.verdict .why{font-size:15px}
.v-PASS{background:#2e7d32}.v-WARN{background:#b26a00}.v-FAIL{background:#c62828}
.v-ERROR{background:#4a148c}
.errors{border-left:4px solid #4a148c;background:#f3e5f5;padding:8px 12px;margin:8px 0}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px;
background:var(--soft)}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;margin:6px 0 10px}
caption{caption-side:top;text-align:left;padding:0 0 4px}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
table.findings{width:100%;table-layout:fixed;margin:0}
.chunk{content-visibility:auto}
.chunk+.chunk tr:first-child td{border-top:0}
table.findings td{overflow-wrap:anywhere}
table.findings col.c-sev{width:7em}table.findings col.c-id{width:8%}
table.findings col.c-amt{width:7em}table.findings col.c-ev{width:28%}
.sev{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600}
.sev-high{background:#ffcdd2;color:#8e0000}.sev-medium{background:#ffe0b2;color:#7a3d00}
.sev-low{background:#e0e0e0;color:#333}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.note{background:#fff8e1;border-left:4px solid #f9a825;padding:6px 10px;margin:6px 0}
details summary{cursor:pointer;color:#1565c0}
div.ev{margin:4px 0 0;white-space:pre-wrap;font-size:12.5px;line-height:1.35}
div.ev b{font-weight:600;color:var(--muted)}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid var(--line);border-radius:6px;padding:8px;background:#fff}
.chart svg{display:block;max-width:100%;height:auto}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;margin:4px 0}
footer{margin-top:40px;font-size:12px;color:var(--muted)}
""".strip()


def _e(value: object) -> str:
    """Escape for element content *and* quoted attributes (quote=True covers both)."""
    return html.escape("" if value is None else str(value), quote=True)


def _utc(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


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


def _finding_row(finding: Finding) -> str:
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
    # The row title names the account (or customer) so a hover anywhere in a wide,
    # scrolled table still says whose row it is.
    who = finding.account_id or finding.customer_id or finding.subscription_id or ""
    return (
        f'<tr title="{_e(finding.kind.value)} {_e(who)}">'
        f"<td><span class='sev sev-{label}'>{label}</span>{confidence}</td>"
        f"<td class=id>{_e(finding.account_id)}</td>"
        f"<td class=id>{_e(finding.customer_id)}</td>"
        f"<td class=id>{_e(finding.subscription_id)}</td>"
        f"<td class=num>{_exposure_cell(finding)}</td>"
        f"<td>{_e(finding.message)}</td><td>{_e(finding.fix)}</td><td>{evidence}</td></tr>"
    )


# --- the trend chart --------------------------------------------------------------


def _nice_step(top: float, ticks: int = 4) -> float:
    """A 1/2/5 x 10^k step so about `ticks` gridlines cover 0..top."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(factor * power)
    return float(10 * power)  # pragma: no cover - the loop always returns


def _tick_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:,.{decimals}f}"


def _amount(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return value if value.is_finite() else None


def _date_labels(
    points: Sequence[RunPoint], x_of: Callable[[int], float], y: float, most: int
) -> str:
    """At most `most` dates under the x axis: first, last and evenly between. The first
    and last are anchored inwards so they never run off the edge of the chart."""
    count = len(points)
    wanted = min(count, most)
    indexes = sorted({round(i * (count - 1) / max(wanted - 1, 1)) for i in range(wanted)})
    parts = []
    for i in indexes:
        anchor = "middle"
        if count > 1 and i == 0:
            anchor = "start"
        elif count > 1 and i == count - 1:
            anchor = "end"
        x = x_of(i) + {"start": -8.0, "end": 8.0, "middle": 0.0}[anchor]
        parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="11" '
            f'fill="#5f6b76">{_e(points[i].when.strftime("%Y-%m-%d"))}</text>'
        )
    return "".join(parts)


def _y_axis(
    top: float, step: float, left: float, right: float, y_of: Callable[[float], float]
) -> str:
    parts = []
    value = 0.0
    while value <= top + step / 1000:
        y = y_of(value)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#e3e7eb"/><text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#5f6b76">{_tick_label(value, step)}</text>'
        )
        value += step
    return "".join(parts)


def _kinds_in(points: Sequence[RunPoint]) -> list[str]:
    known = [k.value for k in KIND_ORDER]
    seen = {kind for p in points for kind, n in p.by_kind.items() if n}
    return [k for k in known if k in seen] + sorted(seen - set(known))


def _kind_colour(kind: str, others: list[str]) -> str:
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    return OTHER_COLOURS[others.index(kind) % len(OTHER_COLOURS)]


def _findings_chart(points: Sequence[RunPoint]) -> str:
    """Stacked bars: findings per kind per run, a verdict-coloured tick under each bar."""
    width, height = 900.0, 260.0
    left, right, top_pad, bottom = 48.0, 12.0, 12.0, 44.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    kinds = _kinds_in(points)
    others = [k for k in kinds if k not in KIND_COLOURS]
    most = max((p.findings for p in points), default=0)
    step = _nice_step(float(max(most, 1)))
    top = step * math.ceil(max(most, 1) / step)
    slot = plot_w / len(points)
    bar = max(min(slot * 0.7, 40.0), 1.0)

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = [_y_axis(top, step, left, width - right, y_of)]
    for i, point in enumerate(points):
        when = _e(point.when.strftime("%Y-%m-%d %H:%MZ"))
        base = 0
        for kind in kinds:
            n = point.by_kind.get(kind, 0)
            if n <= 0:
                continue
            y1, y0 = y_of(base + n), y_of(base)
            parts.append(
                f'<rect x="{x_of(i) - bar / 2:.1f}" y="{y1:.1f}" width="{bar:.1f}" '
                f'height="{max(y0 - y1, 0.5):.1f}" fill="{_kind_colour(kind, others)}">'
                f"<title>{when}: {n} {_e(kind)}</title></rect>"
            )
            base += n
        colour = VERDICT_COLOURS.get(point.verdict, "#9e9e9e")
        parts.append(
            f'<rect x="{x_of(i) - bar / 2:.1f}" y="{top_pad + plot_h + 3:.1f}" '
            f'width="{bar:.1f}" height="5" fill="{colour}"><title>{when}: '
            f"{_e(point.verdict)}, {point.findings} findings</title></rect>"
        )
    parts.append(_date_labels(points, x_of, height - 14, 7))
    svg = (
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="Findings per run by kind, {len(points)} runs">{"".join(parts)}</svg>'
    )
    legend = "".join(
        f'<span><span class=swatch style="background:{_kind_colour(k, others)}"></span>'
        f"{_e(k)}</span>"
        for k in kinds
    )
    verdicts = "".join(
        f'<span><span class=swatch style="background:{c}"></span>{v}</span>'
        for v, c in VERDICT_COLOURS.items()
    )
    return (
        f"<div class=chart><strong>Findings per run</strong>{svg}"
        f"<div class=legend>{legend or '<span class=muted>no findings in these runs</span>'}"
        f"</div><div class=legend><span class=muted>verdict (strip under each bar):</span>"
        f"{verdicts}</div></div>"
    )


def _exposure_chart(currency: str, points: Sequence[RunPoint]) -> str:
    """One small line chart per currency: amounts in different currencies never share
    an axis, so nobody reads JPY 5000 as more than USD 116."""
    width, height = 440.0, 180.0
    left, right, top_pad, bottom = 64.0, 12.0, 12.0, 40.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [_amount(p.exposure.get(currency, "0")) for p in points]
    most = float(max((v for v in values if v is not None), default=Decimal(0)))
    step = _nice_step(most if most > 0 else 1.0)
    top = step * math.ceil((most if most > 0 else 1.0) / step)
    slot = plot_w / len(points)

    def x_of(i: int) -> float:
        return left + slot * (i + 0.5)

    def y_of(v: float) -> float:
        return top_pad + plot_h - plot_h * v / top

    parts = [_y_axis(top, step, left, width - right, y_of)]
    line = [f"{x_of(i):.1f},{y_of(float(v)):.1f}" for i, v in enumerate(values) if v is not None]
    if len(line) > 1:
        parts.append(
            f'<polyline points="{" ".join(line)}" fill="none" stroke="#1565c0" stroke-width="2"/>'
        )
    for i, (point, value) in enumerate(zip(points, values, strict=True)):
        if value is None:
            continue
        shown = point.exposure.get(currency, "0")
        parts.append(
            f'<circle cx="{x_of(i):.1f}" cy="{y_of(float(value)):.1f}" r="3.5" '
            f'fill="#1565c0"><title>{_e(point.when.strftime("%Y-%m-%d %H:%MZ"))}: '
            f"{_e(currency)} {_e(shown)}/month</title></circle>"
        )
    parts.append(_date_labels(points, x_of, height - 12, 3))
    return (
        f"<div class=chart><strong>Monthly amount at stake, {_e(currency)}</strong>"
        f'<svg viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" '
        f'aria-label="Monthly amount at stake in {_e(currency)} per run">'
        f"{''.join(parts)}</svg></div>"
    )


def _history_section(history: Sequence[RunPoint] | None) -> list[str]:
    out = ["<section id=trend><h2>Trend over past runs</h2>"]
    if not history:
        out.append(f"<p class=muted>{_e(NO_HISTORY)}</p></section>")
        return out
    ordered = sorted(history, key=lambda p: p.when)
    points = ordered[-MAX_RUNS:]
    if len(ordered) > len(points):
        out.append(
            f"<p class=muted>Showing the latest {len(points)} of {len(ordered)} recorded runs.</p>"
        )
    currencies = sorted({c for p in points for c in p.exposure})
    out.append("<div class=charts>")
    out.append(_findings_chart(points))
    out += [_exposure_chart(c, points) for c in currencies]
    out.append("</div>")
    # The same numbers as a table: readable without the SVG, and copyable.
    out.append(
        f"<details><summary>Chart data ({len(points)} runs)</summary><table><thead><tr>"
        "<th>finished</th><th>verdict</th><th class=num>findings</th>"
        + "".join(f"<th class=num>{_e(c)}/month</th>" for c in currencies)
        + "</tr></thead><tbody>"
    )
    for p in reversed(points):
        out.append(
            f"<tr><td>{_e(p.when.strftime('%Y-%m-%d %H:%MZ'))}</td><td>{_e(p.verdict)}</td>"
            f"<td class=num>{p.findings}</td>"
            + "".join(f"<td class=num>{_e(p.exposure.get(c, '0'))}</td>" for c in currencies)
            + "</tr>"
        )
    out.append("</tbody></table></details></section>")
    return out


# --- the page ---------------------------------------------------------------------


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
            else f"; fails on <b>{_e(report.fail_on.label)}</b> and above"
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
        out += _history_section(self.history)
        if not report.errors:
            out += self._findings(report)
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
        out = ["<section id=summary><h2>Summary</h2>", f"<p>Compared {_e(headline(report))}.</p>"]
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
                out += [_finding_row(f) for f in rows]
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
        if report.rules_not_applied or report.notes:
            out.append("<section id=notes><h2>Notes</h2><ul>")
            out += [
                f"<li><code>{_e(kind)}</code> not checked: {_e(why)}</li>"
                for kind, why in report.rules_not_applied
            ]
            out += [f"<li>{_e(note)}</li>" for note in report.notes]
            out.append("</ul></section>")
        return out
