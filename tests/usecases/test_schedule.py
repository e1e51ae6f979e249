"""Schedules: the GitHub workflow (parsed, and its command run), the crontab line, and
`billdrift watch` (interval, no overlap, clean stop on SIGTERM)."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from billdrift._version import __version__
from billdrift.cli import app as cli
from billdrift.errors import ConfigError
from billdrift.history import open_store
from billdrift.usecases.demo import demo_paths
from billdrift.usecases.schedule.every import parse_every
from billdrift.usecases.schedule.github import DEFAULT_ACTION_REF

DEMO = demo_paths().directory
BILLDRIFT = Path(sys.executable).parent / "billdrift"


def _config(tmp_path: Path, billing: str = '["subs.json"]') -> Path:
    """A directory like a user's repository: the demo data and a config naming it."""
    shutil.copy(DEMO / "stripe_subscriptions.json", tmp_path / "subs.json")
    shutil.copy(DEMO / "app.sqlite", tmp_path / "app.sqlite")
    text = (DEMO / "billdrift.toml").read_text("utf-8")
    text = text.replace("[app]\n", '[app]\nsource = "app.sqlite"\n')
    path = tmp_path / "billdrift.toml"
    path.write_text(f"[billing]\nsources = {billing}\n\n{text}", "utf-8")
    return path


def test_github_workflow_uses_the_action_and_lists_secrets_and_local_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 14: the workflow installed billdrift from a package-index name nobody owns,
    said "Secrets it reads: none" for a config of local files, and kept only markdown."""
    _config(tmp_path, billing='["subs.json", "stripe"]')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli.main, ["schedule", "github", "--cron", "15 5 * * 1-5"])
    assert result.exit_code == 0, result.output

    text = (tmp_path / ".github/workflows/billdrift.yml").read_text("utf-8")
    assert "pip install" not in text
    workflow = yaml.safe_load(text)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads `on` as True
    assert triggers["schedule"] == [{"cron": "15 5 * * 1-5"}]
    assert workflow["permissions"] == {"contents": "read", "actions": "read"}
    steps = workflow["jobs"]["reconcile"]["steps"]
    check = next(step for step in steps if step.get("id") == "check")
    assert check["uses"] == DEFAULT_ACTION_REF == f"billdrift/billdrift@v{__version__}"
    assert check["env"] == {"STRIPE_API_KEY": "${{ secrets.STRIPE_API_KEY }}"}
    assert check["with"]["config"] == "billdrift.toml"
    assert check["with"]["history"].startswith(check["with"]["state-dir"] + "/")
    assert "Secrets it reads (Settings > Secrets and variables > Actions): STRIPE_API_KEY." in text
    warning = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    assert "committed: app.sqlite, subs.json." in warning and "secrets.*" in warning
    assert "committed: app.sqlite, subs.json." in " ".join(result.stderr.split())
    # Every input the workflow passes is one the action declares.
    action = yaml.safe_load((Path(__file__).parents[2] / "action.yml").read_text("utf-8"))
    assert set(check["with"]) <= set(action["inputs"])


def test_github_workflow_action_ref_and_no_warning_without_local_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "billdrift.toml").write_text(
        '[app]\nsource = "env:APP_DATABASE_URL"\n[billing]\n'
        'sources = ["stripe", "stripe-mirror:postgresql://mirror.internal/stripe"]\n',
        "utf-8",
    )
    result = CliRunner().invoke(
        cli.main, ["schedule", "github", "--action-ref", "acme/billdrift@0123abcd"]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / ".github/workflows/billdrift.yml").read_text("utf-8")
    assert "uses: acme/billdrift@0123abcd" in text
    assert "WARNING" not in text and "warning" not in result.stderr


def test_github_workflow_warns_of_a_password_in_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "billdrift.toml").write_text(
        '[app]\nsource = "postgresql://app:hunter2@db.internal/app"\n', "utf-8"
    )
    result = CliRunner().invoke(cli.main, ["schedule", "github"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / ".github/workflows/billdrift.yml").read_text("utf-8")
    assert "holds a password" in text and "hunter2" not in text + result.output


def test_github_workflow_is_not_overwritten_without_force(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _config(tmp_path)
    assert CliRunner().invoke(cli.main, ["schedule", "github"]).exit_code == 0
    again = CliRunner().invoke(cli.main, ["schedule", "github"])
    assert again.exit_code == 2 and "--force" in again.stderr
    assert CliRunner().invoke(cli.main, ["schedule", "github", "--force"]).exit_code == 0


def test_workflow_names_the_secrets_the_config_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "billdrift.toml").write_text(
        '[app]\nsource = "env:APP_DATABASE_URL"\n[billing]\nsources = ["paddle"]\n'
        '[alerts]\n[alerts.slack]\nwebhook_env = "OPS_SLACK"\n',
        "utf-8",
    )
    result = CliRunner().invoke(cli.main, ["schedule", "github", "--secret", "EXTRA_ONE"])
    assert result.exit_code == 0, result.output
    workflow = yaml.safe_load((tmp_path / ".github/workflows/billdrift.yml").read_text("utf-8"))
    check = next(s for s in workflow["jobs"]["reconcile"]["steps"] if s.get("id") == "check")
    assert sorted(check["env"]) == ["APP_DATABASE_URL", "EXTRA_ONE", "OPS_SLACK", "PADDLE_API_KEY"]


def test_cron_line_uses_flock_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _config(tmp_path)
    result = CliRunner().invoke(cli.main, ["schedule", "cron", "--cron", "*/30 * * * *"])
    assert result.exit_code == 0, result.output
    line = result.stdout.strip()
    assert line.startswith("*/30 * * * * ")
    assert "flock -n" in line and str(tmp_path / ".billdrift" / "history.sqlite") in line
    assert "--history" in line


def test_intervals() -> None:
    assert [parse_every(t) for t in ("30s", "15m", "1h", "2d")] == [30, 900, 3600, 172_800]
    for bad in ("0m", "1 week", "h", ""):
        with pytest.raises(ConfigError):
            parse_every(bad)


def test_watch_runs_on_an_interval_never_overlaps_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = _config(tmp_path)
    history = tmp_path / "history.sqlite"
    process = subprocess.Popen(
        [
            str(BILLDRIFT),
            "watch",
            "--every",
            "1s",
            "--config",
            str(config),
            "--history",
            str(history),
            "--format",
            "json",
            "--output",
            str(tmp_path / "r.json"),
        ],
        cwd=tmp_path,
        env={**os.environ, "CI": "true"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        runs = 0
        while time.monotonic() < deadline and runs < 3:
            time.sleep(0.5)
            if history.exists():
                store = open_store(history, create=False)
                try:
                    runs = len(store.recent_runs(10))
                finally:
                    store.close()
        assert runs >= 3, "watch did not run three times"
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0
    stderr = process.stderr.read() if process.stderr else ""
    assert stderr.count("run finished, exit code 1") >= 3
    store = open_store(history, create=False)
    try:
        recorded = store.recent_runs(20)
    finally:
        store.close()
    for earlier, later in itertools.pairwise(recorded):
        assert earlier.finished_at <= later.started_at  # one run at a time
