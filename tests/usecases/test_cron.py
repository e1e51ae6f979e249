"""Cron expressions (issue 14): what cron and GitHub Actions accept is accepted (names,
ranges, lists, steps, nicknames), what they would refuse is refused with a reason, and
the times are said in the zone each reads them in (local for cron, UTC for GitHub)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.errors import ConfigError
from billdrift.usecases.demo import demo_paths
from billdrift.usecases.schedule.cron import parse_cron

FRIDAY_EVENING = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "next_run"),
    [
        ("0 6 * * MON-FRI", datetime(2026, 12, 7, 6, 0, tzinfo=UTC)),  # names in a range
        ("0 6 * * mon-fri", datetime(2026, 12, 7, 6, 0, tzinfo=UTC)),
        ("0 6 * * 1-5", datetime(2026, 12, 7, 6, 0, tzinfo=UTC)),
        ("0 6 * * 0", datetime(2026, 12, 6, 6, 0, tzinfo=UTC)),
        ("0 6 * * 7", datetime(2026, 12, 6, 6, 0, tzinfo=UTC)),  # 7 is Sunday too
        ("*/15 9-17 * JAN-MAR MON,WED", datetime(2027, 1, 4, 9, 0, tzinfo=UTC)),
        ("30 22 2-31/3 * *", datetime(2026, 12, 5, 22, 30, tzinfo=UTC)),  # days 2, 5, 8...
        ("0 0 29 2 *", datetime(2028, 2, 29, 0, 0, tzinfo=UTC)),  # leap days come
        ("  0   6 * *   *  ", datetime(2026, 12, 5, 6, 0, tzinfo=UTC)),
        ("@hourly", datetime(2026, 12, 4, 23, 0, tzinfo=UTC)),
        ("@daily", datetime(2026, 12, 5, 0, 0, tzinfo=UTC)),
        ("@midnight", datetime(2026, 12, 5, 0, 0, tzinfo=UTC)),
        ("@weekly", datetime(2026, 12, 6, 0, 0, tzinfo=UTC)),
        ("@MONTHLY", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("@yearly", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
        ("@annually", datetime(2027, 1, 1, 0, 0, tzinfo=UTC)),
    ],
)
def test_what_cron_accepts_is_accepted(text: str, next_run: datetime) -> None:
    assert parse_cron(text).next_run(FRIDAY_EVENING) == next_run


def test_the_next_run_is_read_in_the_zone_given() -> None:
    """06:00 means 06:00 where the schedule is read: for cron, the machine's zone."""
    paris = timezone(timedelta(hours=1))
    found = parse_cron("0 6 * * MON-FRI").next_run(FRIDAY_EVENING.astimezone(paris))
    assert found == datetime(2026, 12, 7, 6, 0, tzinfo=paris)
    assert found.astimezone(UTC).hour == 5


@pytest.mark.parametrize(
    ("text", "five"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("0 6 * * MON-FRI", "0 6 * * MON-FRI"),  # five fields are kept as written
    ],
)
def test_nicknames_are_spelled_out_for_github(text: str, five: str) -> None:
    assert parse_cron(text).five_fields == five


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0 6 * *", "4 fields; expected five fields"),
        ("0 6 * * * *", "6 fields"),  # croniter's seconds: not cron
        ("0 0 6 * * * 2027", "7 fields"),
        ("", "0 fields"),
        ("61 * * * *", "the minute field '61' is not valid (it takes 0-59)"),
        ("0 24 * * *", "the hour field '24' is not valid (it takes 0-23)"),
        ("* * 32 * *", "the day-of-month field '32' is not valid (it takes 1-31)"),
        ("0 6 * 13 *", "the month field '13' is not valid (it takes 1-12 or JAN-DEC)"),
        ("0 6 * MON *", "the month field 'MON' is not valid"),
        ("0 6 * * 8", "the day-of-week field '8' is not valid (it takes 0-7 or SUN-SAT"),
        ("0 6 * * FOO", "the day-of-week field 'FOO' is not valid"),
        ("*/0 * * * *", "the minute field '*/0' is not valid"),
        ("5-1 * * * *", "the range 5-1 in the minute field runs backwards"),
        ("0 6 * * mon;rm", "'mon;rm' in the day-of-week field is not cron syntax"),
        ("0 6 L * *", "'L' in the day-of-month field is not cron syntax"),  # croniter only
        ("0 6 * * 5#3", "'5#3' in the day-of-week field is not cron syntax"),
        ("0 6 * * 5L", "'5L' in the day-of-week field is not cron syntax"),
        ("0 6 15W * *", "'15W' in the day-of-month field is not cron syntax"),
        ("0 6 ? * *", "'?' in the day-of-month field is not cron syntax"),
        ("H 6 * * *", "'H' in the minute field is not cron syntax"),
        ("*-5 * * * *", "'*-5' in the minute field is not cron syntax"),
        ("0 0 31 2 *", "Day(s) [31] can never occur in month(s) [2]"),  # never runs
        ("0 0 30 2 *", "Day(s) [30] can never occur"),
        ("@reboot", "runs once at boot, not on a schedule"),
        ("@fortnightly", "1 field; expected five fields"),
    ],
)
def test_what_cron_refuses_is_refused_with_a_reason(text: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_cron(text)
    assert f"cron expression {' '.join(text.split())!r}: {says}" in str(refused.value)


# ------------------------------------------------------------------ the commands


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    demo = demo_paths()
    shutil.copy(demo.config, tmp_path / "billdrift.toml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    yield tmp_path


def test_schedule_cron_takes_names_and_says_local_time(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        result = CliRunner().invoke(cli.main, ["schedule", "cron", "--cron", "0 6 * * MON-FRI"])
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("0 6 * * MON-FRI mkdir -p ")
    assert "in this machine's local time (JST, UTC+0900); next run " in result.stderr
    assert " 06:00 JST" in result.stderr and "UTC " not in result.stderr.split("next run")[1]


def test_schedule_cron_takes_a_nickname_as_cron_does(project: Path) -> None:
    result = CliRunner().invoke(cli.main, ["schedule", "cron", "--cron", "@daily"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("@daily mkdir -p ")
    assert "00:00" in result.stderr


def test_schedule_cron_refuses_with_the_reason(project: Path) -> None:
    result = CliRunner().invoke(cli.main, ["schedule", "cron", "--cron", "0 6 * * 5#3"])
    assert result.exit_code == 2
    assert "'5#3' in the day-of-week field is not cron syntax" in result.stderr
    assert result.stdout == ""


def test_schedule_github_says_utc_and_spells_nicknames_out(project: Path) -> None:
    result = CliRunner().invoke(cli.main, ["schedule", "github", "--cron", "@weekly"])
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((project / ".github/workflows/billdrift.yml").read_text("utf-8"))
    assert workflow.get("on", workflow.get(True))["schedule"] == [{"cron": "0 0 * * 0"}]
    assert "at cron '@weekly', written '0 0 * * 0', which GitHub Actions reads in UTC" in (
        result.stdout
    )
    assert "next run Sun " in result.stdout and " 00:00 UTC" in result.stdout


def test_schedule_github_keeps_names(project: Path) -> None:
    result = CliRunner().invoke(cli.main, ["schedule", "github", "--cron", "30 5 * * MON-FRI"])
    assert result.exit_code == 0, result.output
    text = (project / ".github/workflows/billdrift.yml").read_text("utf-8")
    assert '- cron: "30 5 * * MON-FRI"' in text
    assert "written" not in result.stdout
