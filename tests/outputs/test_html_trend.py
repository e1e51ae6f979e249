"""The HTML trend (issue 14): hourly runs are told apart on the axis, each run is
charted at the instant it evaluated (its as-of), the trend ends at the report's
as-of, and ids in the findings table never break mid-id."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.outputs.render import render
from billdrift.outputs.render.history_points import RunPoint, run_point
from billdrift.outputs.render.html_style import CSS
from billdrift.outputs.render.html_trend import NO_HISTORY, NONE_BEFORE, label_format
from billdrift.usecases.demo import demo_paths
from tests.outputs.test_render import sample_report

AS_OF = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
AXIS = re.compile(r'<text [^>]*fill="#5f6b76">(\d{4}-\d\d-\d\d(?: \d\d:\d\dZ)?)</text>')


def _axis(document: str) -> list[str]:
    """The x-axis labels of the findings chart (the first SVG)."""
    findings_chart = document.split("<svg", 2)[1]
    return AXIS.findall(findings_chart)


def _hourly(count: int, last: datetime = AS_OF) -> list[RunPoint]:
    return [
        RunPoint(last - timedelta(hours=h), "FAIL", {"plan_drift": h + 1}, {"USD": "9.00"})
        for h in reversed(range(count))
    ]


def test_hourly_runs_on_one_date_show_their_times() -> None:
    labels = _axis(render("html", sample_report(), history=_hourly(3)))
    assert labels == ["2026-11-22 10:00Z", "2026-11-22 11:00Z", "2026-11-22 12:00Z"]


def test_runs_on_distinct_dates_show_dates_alone() -> None:
    daily = [replace(p, finished_at=AS_OF - timedelta(days=i)) for i, p in enumerate(_hourly(3))]
    labels = _axis(render("html", sample_report(), history=daily))
    assert labels == ["2026-11-20", "2026-11-21", "2026-11-22"]


def test_two_runs_sharing_one_date_among_many_show_times_everywhere() -> None:
    points = [
        RunPoint(AS_OF - timedelta(days=2), "PASS"),
        RunPoint(AS_OF - timedelta(hours=1), "PASS"),
        RunPoint(AS_OF, "PASS"),
    ]
    assert label_format(points) == "%Y-%m-%d %H:%MZ"
    assert label_format(points[:2]) == "%Y-%m-%d"


def test_time_labels_are_fewer_so_they_do_not_overlap() -> None:
    labels = _axis(render("html", sample_report(), history=_hourly(24)))
    assert len(labels) == 4 and labels[0] == "2026-11-21 13:00Z" and labels[-1].endswith("12:00Z")


def test_a_run_is_charted_at_its_as_of_not_when_it_finished() -> None:
    """A run made --as-of a past instant belongs there on the axis."""
    report = replace(sample_report(), as_of=datetime(2026, 3, 1, 6, 0, tzinfo=UTC))
    ran_today = datetime(2026, 12, 4, 22, 49, tzinfo=UTC)
    point = run_point(report, ran_today)
    assert point.when == datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    document = render("html", report, history=[point])
    assert _axis(document) == ["2026-03-01"]
    assert "2026-12-04" not in document.split("id=trend")[1]


def test_the_trend_ends_at_the_reports_as_of() -> None:
    """Runs that evaluated later than this report's instant are not its past."""
    points = _hourly(5, last=AS_OF + timedelta(hours=2))  # 10:00 .. 14:00
    document = render("html", sample_report(), history=points)
    assert _axis(document)[-1] == "2026-11-22 12:00Z"
    assert "2026-11-22 13:00Z" not in document and "2026-11-22 14:00Z" not in document
    assert "Chart data (3 runs)" in document


def test_a_history_entirely_after_the_as_of_says_so() -> None:
    document = render("html", sample_report(), history=_hourly(2, last=AS_OF + timedelta(days=1)))
    assert NONE_BEFORE in document and NO_HISTORY not in document and "<svg" not in document


def test_ids_never_break_in_the_findings_table() -> None:
    rules = {
        selector.strip(): body
        for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS.replace("\n", ""))
    }
    ids = rules["table.findings td.id"]
    assert "overflow-wrap:normal" in ids and "white-space:nowrap" in ids
    assert "word-break:keep-all" in ids and "text-overflow:ellipsis" in ids
    assert rules["table.findings td"] == "overflow-wrap:anywhere"  # free text still may
    assert "white-space:normal" in rules["table.findings td.id:hover"]  # whole when pointed at
    assert "width:max(calc(20ch + 17px),11%)" in rules["table.findings col.c-id"]
    cells = re.findall(r"<td class=id>([^<]*)</td>", render("html", sample_report()))
    assert "cus_1" in cells  # the ids are in the cells the rule applies to


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    demo = demo_paths()
    for source in (demo.config, demo.billing, demo.app):
        shutil.copy(source, tmp_path / source.name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    return tmp_path


def test_hourly_checks_with_as_of_chart_at_those_instants(project: Path) -> None:
    """End to end through the store: three hourly runs --as-of, the HTML of the last."""
    paths = demo_paths()
    for hour in ("04", "05", "06"):
        result = CliRunner().invoke(
            main,
            [
                "check",
                "--billing",
                paths.billing.name,
                "--app",
                paths.app.name,
                "--history",
                "history.sqlite",
                "--as-of",
                f"2026-11-22T{hour}:00:00Z",
                "--output",
                f"report-{hour}.html",
            ],
        )
        assert result.exit_code == 1, result.output
    last = (project / "report-06.html").read_text(encoding="utf-8")
    assert _axis(last) == ["2026-11-22 04:00Z", "2026-11-22 05:00Z", "2026-11-22 06:00Z"]
    middle = (project / "report-05.html").read_text(encoding="utf-8")
    assert _axis(middle)[-1] == "2026-11-22 05:00Z"
    assert "2026-11-22 06:00Z" not in middle  # the later run is not its past
