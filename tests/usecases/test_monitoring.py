"""`check` as a recurring job: history recorded, report written, then alerts for what is new."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli import app as cli
from billdrift.usecases.demo import demo_paths
from tests.outputs.alerts.receivers import HttpReceiver, Reply

DEMO = demo_paths().directory
SECRET = "whsec_monitoring_test_secret"


def _setup(tmp_path: Path, hook: str) -> Path:
    shutil.copy(DEMO / "stripe_subscriptions.json", tmp_path / "subs.json")
    shutil.copy(DEMO / "app.sqlite", tmp_path / "app.sqlite")
    text = (DEMO / "billdrift.toml").read_text("utf-8")
    text += (
        f'\n[alerts]\nalert_on = "new"\nretries = 1\nbackoff_seconds = 0\n'
        f'[alerts.webhook]\nurl = "{hook}"\nsecret_env = "HOOK_SECRET"\n'
    )
    config = tmp_path / "billdrift.toml"
    config.write_text(text, "utf-8")
    return config


def _check(tmp_path: Path, config: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(tmp_path / "subs.json"),
            "--app",
            str(tmp_path / "app.sqlite"),
            "--config",
            str(config),
            "--as-of",
            "2026-11-22",
            "--history",
            str(tmp_path / "history.sqlite"),
            "--format",
            "json",
            "--output",
            str(tmp_path / "report.json"),
            *extra,
        ],
        env={"HOOK_SECRET": SECRET, "CI": "true"},
    )


def test_alerts_go_out_for_new_findings_only_and_history_tells_them_apart(
    tmp_path: Path,
) -> None:
    with HttpReceiver(secret=SECRET) as hook:
        config = _setup(tmp_path, hook.url())
        first = _check(tmp_path, config)
        assert first.exit_code == 1, first.stderr
        tiers = sorted(received.json()["tier"] for received in hook.accepted)
        assert tiers == ["review", "urgent"]  # 4 paid_but_blocked + the rest, all new
        urgent = next(r.json() for r in hook.accepted if r.json()["tier"] == "urgent")
        assert urgent["report_link"] == str(tmp_path / "report.json")
        assert "alert via webhook: sent" in first.stderr
        changes = json.loads((tmp_path / "report.json").read_text("utf-8"))["changes"]
        assert (changes["new"], changes["previous_run_at"]) == (15, None)

        second = _check(tmp_path, config)
        assert second.exit_code == 1
        assert len(hook.accepted) == 2  # nothing new: the nightly run stays quiet
        changes = json.loads((tmp_path / "report.json").read_text("utf-8"))["changes"]
        assert (changes["new"], changes["reopened"], changes["ongoing"]) == (0, 0, 15)
        assert changes["resolved"] == [] and changes["previous_run_at"] is not None
        assert hook.rejected == []  # every delivery verified as a receiver would


def test_a_failed_delivery_is_reported_and_loses_nothing(tmp_path: Path) -> None:
    with HttpReceiver(secret=SECRET) as hook:
        hook.script = [Reply(500, b"down")] * 10
        config = _setup(tmp_path, hook.url())
        result = _check(tmp_path, config)
    assert result.exit_code == 1  # the drift decides the code, not the delivery
    assert "alert via webhook: FAILED" in result.stderr
    assert SECRET not in result.stderr + result.stdout
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["verdict"] == "FAIL" and report["findings"]


def test_alert_on_urgent_sends_only_the_urgent_tier(tmp_path: Path) -> None:
    with HttpReceiver(secret=SECRET) as hook:
        config = _setup(tmp_path, hook.url())
        result = _check(tmp_path, config, "--alert-on", "urgent")
        assert result.exit_code == 1
        assert [received.json()["tier"] for received in hook.accepted] == ["urgent"]


def test_a_missing_alert_secret_fails_before_any_work(tmp_path: Path) -> None:
    config = _setup(tmp_path, "http://127.0.0.1:9/hook")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(tmp_path / "subs.json"),
            "--app",
            str(tmp_path / "app.sqlite"),
            "--config",
            str(config),
            "--history",
            str(tmp_path / "history.sqlite"),
        ],
        env={"CI": "true"},
    )
    assert result.exit_code == 2
    assert "HOOK_SECRET" in result.stderr
    assert not (tmp_path / "history.sqlite").exists()


def test_an_unwritable_history_store_still_writes_the_report_then_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billdrift.history import store as store_module

    def refuse(*args: object, **kwargs: object) -> None:
        raise store_module.HistoryError("disk full (simulated)")

    monkeypatch.setattr("billdrift.usecases.recording.record_run", refuse)
    with HttpReceiver(secret=SECRET) as hook:
        config = _setup(tmp_path, hook.url())
        result = _check(tmp_path, config)
    assert result.exit_code == 2
    assert "could not record the run: disk full" in result.stderr
    assert json.loads((tmp_path / "report.json").read_text("utf-8"))["verdict"] == "FAIL"


def test_html_report_charts_the_recorded_runs(tmp_path: Path) -> None:
    with HttpReceiver(secret=SECRET) as hook:
        config = _setup(tmp_path, hook.url())
        for _ in range(3):
            _check(tmp_path, config, "--alert-on", "never")
        result = _check(
            tmp_path, config, "--format", "html", "--output", str(tmp_path / "report.html")
        )
    assert result.exit_code == 1, result.stderr
    html = (tmp_path / "report.html").read_text("utf-8")
    assert "No history recorded" not in html
    assert "<svg" in html


def test_review_notes_and_status_show_in_later_reports(tmp_path: Path) -> None:
    with HttpReceiver(secret=SECRET) as hook:
        config = _setup(tmp_path, hook.url())
        assert _check(tmp_path, config, "--alert-on", "never").exit_code == 1
        first = json.loads((tmp_path / "report.json").read_text("utf-8"))
        blocked = next(f for f in first["findings"] if f["kind"] == "paid_but_blocked")
        assert blocked["lifecycle"]["status"] == "new"
        key = blocked["lifecycle"]["fingerprint"]

        acked = CliRunner().invoke(
            cli.main,
            [
                "review",
                "ack",
                key,
                "--note",
                "restored by support, ticket 4411",
                "--history",
                str(tmp_path / "history.sqlite"),
                "--by",
                "sam",
            ],
        )
        assert acked.exit_code == 0, acked.output

        assert _check(tmp_path, config, "--alert-on", "never").exit_code == 1
    later = json.loads((tmp_path / "report.json").read_text("utf-8"))
    same = next(f for f in later["findings"] if f["lifecycle"]["fingerprint"] == key)
    lifecycle = same["lifecycle"]
    assert lifecycle["status"] == "ongoing"
    assert lifecycle["first_seen"] == blocked["lifecycle"]["first_seen"]
    assert lifecycle["review"] == {"decision": "acknowledged", "until": None}
    (review,) = same["evidence"]["reviews"]
    assert review["note"] == "restored by support, ticket 4411" and review["by"] == "sam"


def test_the_fast_tracking_is_the_dataclass_field_for_field() -> None:
    """recording builds each finding's Tracking without the frozen dataclass's
    __init__ (a cost per finding): it must be equal to, and read like, the real one."""
    from datetime import UTC, datetime

    from billdrift.core.found import Tracked
    from billdrift.core.model import Finding, Kind, Severity, Tracking

    when = datetime(2026, 1, 2, tzinfo=UTC)
    finding = Finding(Kind.PLAN_DRIFT, Severity.MEDIUM, 1.0, "a1", "c1", "s1", None, "m", "f")
    history = Tracked(["ongoing"], ["ab" * 32], [when], ["snoozed"], [when], notes={})
    fast = history.given([finding])[0].tracking
    assert fast is not None
    real = Tracking(
        status="ongoing",
        fingerprint="ab" * 32,
        first_seen=when,
        review="snoozed",
        review_until=when,
    )
    assert fast == real and hash(fast) == hash(real) and repr(fast) == repr(real)
    assert (fast.short, fast.changed) == (real.short, real.changed)
