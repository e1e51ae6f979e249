"""How the HTML report looks: its inline stylesheet and the colours of verdicts and kinds.

Inline because the page references nothing outside itself. In the findings table,
free text (message, fix, evidence) may break anywhere so a long token cannot widen
the fixed-layout table; an id never breaks (a wrapped id reads as two ids and
cannot be copied): it stays on one line, in a column 20 characters wide (a Stripe
customer id fits) or wider on a wide screen; a longer one ends in an ellipsis and
shows whole under the pointer (double-click selects all of it). The colours are
shared by the summary table and the trend chart, so a kind has one colour
everywhere on the page.
"""

from __future__ import annotations

from billdrift.core.model import Verdict

VERDICT_COLOURS = {
    Verdict.PASS.value: "#2e7d32",
    Verdict.WARN.value: "#b26a00",
    Verdict.FAIL.value: "#c62828",
    Verdict.ERROR.value: "#4a148c",
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
table.findings td.id{overflow-wrap:normal;word-break:keep-all;white-space:nowrap;
overflow:hidden;text-overflow:ellipsis}
table.findings td.id:hover{white-space:normal;overflow-wrap:anywhere}
table.findings col.c-sev{width:7em}
table.findings col.c-id{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
width:max(calc(20ch + 17px),11%)}
table.findings col.c-amt{width:7em}table.findings col.c-ev{width:14%}
.sev{display:inline-block;padding:0 6px;border-radius:4px;font-size:12px;font-weight:600}
.sev-high{background:#ffcdd2;color:#8e0000}.sev-medium{background:#ffe0b2;color:#7a3d00}
.sev-low{background:#e0e0e0;color:#333}
.st{font-size:12px;font-weight:600}.st-new,.st-reopened{color:#8e0000}.st-ongoing{color:var(--muted)}
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


def kind_colour(kind: str, others: list[str]) -> str:
    if kind in KIND_COLOURS:
        return KIND_COLOURS[kind]
    return OTHER_COLOURS[others.index(kind) % len(OTHER_COLOURS)]
