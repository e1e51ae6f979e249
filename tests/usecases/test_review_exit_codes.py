"""Review-aware exit codes (issue 14): a reviewed finding no longer keeps the job
red, and ``--fail-on new`` fails only on what is new or back."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from billdrift.cli import app as cli
from billdrift.usecases.demo import demo_paths
from billdrift.usecases.review import decide

DEMO = demo_paths().directory


def _setup(tmp_path: Path) -> None:
    shutil.copy(DEMO / "stripe_subscriptions.json", tmp_path / "subs.json")
    shutil.copy(DEMO / "app.sqlite", tmp_path / "app.sqlite")
    shutil.copy(DEMO / "billdrift.toml", tmp_path / "billdrift.toml")


def _check(tmp_path: Path, *extra: str, history: bool = True) -> Result:
    stored = ["--history", str(tmp_path / "history.sqlite")] if history else []
    return CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(tmp_path / "subs.json"),
            "--app",
            str(tmp_path / "app.sqlite"),
            "--config",
            str(tmp_path / "billdrift.toml"),
            "--as-of",
            "2026-11-22",
            *stored,
            "--format",
            "json",
            "--output",
            str(tmp_path / "report.json"),
            *extra,
        ],
        env={"CI": "true"},
    )


def _report(tmp_path: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text("utf-8"))
    return report


def _high(report: dict[str, Any]) -> list[str]:
    return [f["lifecycle"]["fingerprint"] for f in report["findings"] if f["severity"] == "high"]


def test_acknowledging_every_high_finding_turns_the_next_run_green(tmp_path: Path) -> None:
    _setup(tmp_path)
    assert _check(tmp_path).exit_code == 1
    high = _high(_report(tmp_path))
    for key in high[:-1]:
        assert (
            CliRunner()
            .invoke(
                cli.main,
                [
                    "review",
                    "ack",
                    key,
                    "--note",
                    "on it",
                    "--history",
                    str(tmp_path / "history.sqlite"),
                ],
            )
            .exit_code
            == 0
        )
    # one high finding left unreviewed: still red
    assert _check(tmp_path).exit_code == 1
    decide(str(tmp_path / "history.sqlite"), high[-1], "acknowledged", "on it too")
    result = _check(tmp_path)
    assert result.exit_code == 0, result.stderr
    report = _report(tmp_path)
    assert report["verdict"] == "WARN"
    reviewed = [f for f in report["findings"] if f["lifecycle"]["fingerprint"] in high]
    assert len(reviewed) == len(high)  # still listed...
    assert {f["lifecycle"]["review"]["decision"] for f in reviewed} == {"acknowledged"}


def test_a_snooze_holds_until_it_expires(tmp_path: Path) -> None:
    _setup(tmp_path)
    assert _check(tmp_path).exit_code == 1
    high = _high(_report(tmp_path))
    store = str(tmp_path / "history.sqlite")
    later = datetime.now(UTC) + timedelta(days=30)
    for key in high:
        decide(store, key, "snoozed", "migration", until=later)
    assert _check(tmp_path).exit_code == 0
    snoozed = _report(tmp_path)["findings"][0]["lifecycle"]["review"]
    assert snoozed["decision"] == "snoozed" and snoozed["until"].startswith(
        later.date().isoformat()
    )
    # the last snooze of one finding has ended (a snooze recorded with a past end
    # date is the same as one whose date has come): it fails the run again
    decide(store, high[0], "snoozed", "ended", until=datetime.now(UTC) - timedelta(seconds=1))
    assert _check(tmp_path).exit_code == 1


def test_fail_on_new_ignores_ongoing_findings_and_fails_on_a_new_one(tmp_path: Path) -> None:
    _setup(tmp_path)
    first = _check(tmp_path, "--fail-on", "new")
    assert first.exit_code == 1, first.stderr  # the first run: everything is new
    assert _report(tmp_path)["fail_on"] == "new:high"
    second = _check(tmp_path, "--fail-on", "new")
    assert second.exit_code == 0, second.stderr  # the same high findings, now ongoing
    assert _report(tmp_path)["changes"]["ongoing"] == 15
    assert _check(tmp_path).exit_code == 1  # without `new`, ongoing highs still fail
    with sqlite3.connect(tmp_path / "app.sqlite") as con:  # alice loses access: new, high
        con.execute("UPDATE users SET has_paid_access = 0 WHERE id = '1'")
    assert _check(tmp_path, "--fail-on", "new").exit_code == 1
    report = _report(tmp_path)
    new = {
        (f["kind"], f["account_id"], f["severity"])
        for f in report["findings"]
        if f["lifecycle"]["status"] == "new"
    }
    assert ("paid_but_blocked", "1", "high") in new


@pytest.mark.parametrize(("fail_on", "code"), [("new:high", 0), ("new:medium", 1)])
def test_fail_on_new_keeps_the_severity_threshold(tmp_path: Path, fail_on: str, code: int) -> None:
    """A new medium finding fails new:medium, not new:high."""
    _setup(tmp_path)
    assert _check(tmp_path, "--fail-on", fail_on).exit_code == 1  # all new
    with sqlite3.connect(tmp_path / "app.sqlite") as con:  # alice unlinked: new, medium
        con.execute(
            "UPDATE users SET stripe_customer_id = NULL, email = 'x@nowhere' WHERE id = '1'"
        )
    result = _check(tmp_path, "--fail-on", fail_on)
    assert result.exit_code == code, result.stderr
    new = [f for f in _report(tmp_path)["findings"] if f["lifecycle"]["status"] == "new"]
    assert new and {f["severity"] for f in new} == {"medium"}


def test_fail_on_new_without_history_is_a_usage_error(tmp_path: Path) -> None:
    _setup(tmp_path)
    result = _check(tmp_path, "--fail-on", "new", history=False)
    assert result.exit_code == 2
    assert "--history" in result.stderr and "[history] location" in result.stderr


def test_without_history_every_finding_counts_as_before(tmp_path: Path) -> None:
    _setup(tmp_path)
    assert _check(tmp_path, history=False).exit_code == 1
    report = _report(tmp_path)
    assert report["changes"] is None
    assert {f["lifecycle"] is None for f in report["findings"]} == {True}
