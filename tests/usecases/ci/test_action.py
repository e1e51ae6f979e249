"""The GitHub Action (action.yml) run locally, step by step, with a simulated GitHub
environment (see action_runner.py for what is simulated and which `uses:` steps are
skipped and why), against a local fake of GitHub's REST API."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import sys
import time
import zipfile
from pathlib import Path

import pytest

from billdrift.history import open_store
from billdrift.usecases.ci.pr_comment import marker
from billdrift.usecases.demo import demo_paths
from tests.usecases.ci.action_runner import load_action, run_action
from tests.usecases.ci.github_fake import REPO, TOKEN, GitHubState, fake_github

AS_OF = "2026-11-22T00:00:00Z"
#: The steps that run here and how each must end in a run that found drift.
RUN_STEPS = {
    "Install billdrift from this action's checkout": "success",
    "Restore the state (previous run's artifact, when the cache had none)": "success",
    "Reconcile billing with app access": "success",
    "Job summary, outputs and pull-request comment": "success",
    "Exit with billdrift's code (0 pass, 1 drift, 2 error)": "failure",
}


def _workspace(root: Path) -> Path:
    """A checkout like a user's: the demo data and ./billdrift.toml naming it."""
    root.mkdir()
    demo = demo_paths().directory
    shutil.copy(demo / "stripe_subscriptions.json", root / "subs.json")
    shutil.copy(demo / "app.sqlite", root / "app.sqlite")
    text = (demo / "billdrift.toml").read_text("utf-8")
    text = text.replace("[app]\n", '[app]\nsource = "app.sqlite"\n')
    (root / "billdrift.toml").write_text(f'[billing]\nsources = ["subs.json"]\n\n{text}', "utf-8")
    return root


def _env(tmp_path: Path, github: GitHubState, pull_request: int | None = None) -> dict[str, str]:
    """The job's environment: this test's Python (and billdrift) first on PATH."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": pull_request}}), "utf-8")
    return {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        "GITHUB_API_URL": github.api_url,
        "GITHUB_SERVER_URL": "https://github.example",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": "4242",
        "GITHUB_REF_NAME": "main",
        "GITHUB_EVENT_NAME": "pull_request" if pull_request else "schedule",
        "GITHUB_EVENT_PATH": str(event),
        "FAKE_GITHUB_TOKEN": TOKEN,  # what ${{ github.token }} gives
    }


def _temp(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    path.mkdir()
    return path


#: install "false": billdrift is the test environment's (the real install is tested below).
INPUTS = {"install": "false", "as-of": AS_OF}


def _change_the_app_data(workspace: Path) -> None:
    """Victor gets the access he pays for (his findings resolve); Alice, in sync so
    far, loses hers (new findings)."""
    with sqlite3.connect(workspace / "app.sqlite") as db:
        db.execute("UPDATE users SET has_paid_access = 1 WHERE id = 19")
        db.execute("UPDATE users SET has_paid_access = 0 WHERE id = 1")


def _new_in(report_path: str) -> list[str]:
    report = json.loads(Path(report_path).read_text("utf-8"))
    return [
        f["account_id"] for f in report["findings"] if (f["lifecycle"] or {}).get("status") == "new"
    ]


def test_two_runs_with_history_write_summary_outputs_and_one_pr_comment(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "repo")
    with fake_github() as github:
        env = _env(tmp_path, github, pull_request=7)
        inputs = {**INPUTS, "comment-on-pr": "true"}
        first = run_action(workspace, _temp(tmp_path, "t1"), inputs, env)

        assert first.outcomes | RUN_STEPS == first.outcomes, first.logs
        assert first.exit_code == 1  # drift, as billdrift's contract says
        assert first.outputs["verdict"] == "FAIL" and first.outputs["exit-code"] == "1"
        assert first.outputs["findings"] == "15"
        assert first.outputs["new"] == "15"  # a first recorded run: everything is new
        assert first.outputs["reopened"] == "0"
        assert "paid_but_blocked" in first.summary
        assert first.summary == Path(first.outputs["report-markdown"]).read_text("utf-8")
        for kind in ("json", "markdown", "html"):
            assert Path(first.outputs[f"report-{kind}"]).is_file()
        comments = github.comments[7]
        assert len(comments) == 1 and comments[0]["body"].startswith(marker())
        assert "paid_but_blocked" in comments[0]["body"]
        assert "https://github.example/acme/shop/actions/runs/4242" in comments[0]["body"]

        _change_the_app_data(workspace)
        second = run_action(workspace, _temp(tmp_path, "t2"), inputs, env)

        assert second.exit_code == 1 and second.outputs["verdict"] == "FAIL"
        new = _new_in(second.outputs["report-json"])
        assert new and set(new) == {"1"}  # Alice's findings, and only hers
        assert second.outputs["new"] == str(len(new))
        assert len(github.comments[7]) == 1  # edited, not repeated
        posts = [r for r in github.requests if r[0] == "POST"]
        patches = [r for r in github.requests if r[0] == "PATCH"]
        assert len(posts) == 1 and len(patches) == 1
        assert github.comments[7][0]["body"].startswith(marker())
    with open_store(workspace / ".billdrift/history.sqlite", create=False) as store:
        assert len(store.recent_runs(10)) == 2


def _zipped(directory: Path) -> bytes:
    """The directory as upload-artifact stores it: its contents at the archive's root."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(directory.rglob("*")):
            archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def test_a_run_whose_cache_was_evicted_restores_the_previous_runs_artifact(
    tmp_path: Path,
) -> None:
    first_checkout = _workspace(tmp_path / "first")
    with fake_github() as github:
        env = _env(tmp_path, github)
        first = run_action(first_checkout, _temp(tmp_path, "t1"), INPUTS, env)
        assert first.outputs["new"] == "15", first.logs
        assert "no billdrift-state artifact on main" in "".join(first.logs.values())

        state = _zipped(first_checkout / ".billdrift")
        github.add_artifact("billdrift-state", state, "main", "2026-11-15T06:00:00Z")
        # Newer, but of another branch, or expired: never restored.
        github.add_artifact("billdrift-state", b"not a zip", "feature", "2026-11-21T06:00:00Z")
        github.add_artifact("billdrift-state", b"", "main", "2026-11-20T06:00:00Z", expired=True)

        second_checkout = _workspace(tmp_path / "second")  # a fresh runner: no cache
        second = run_action(second_checkout, _temp(tmp_path, "t2"), INPUTS, env)

    assert second.outcomes | RUN_STEPS == second.outcomes, second.logs
    assert second.outputs["new"] == "0" and second.outputs["findings"] == "15"
    assert github.blob_auth == [None]  # the token never went to blob storage
    with open_store(second_checkout / ".billdrift/history.sqlite", create=False) as store:
        assert len(store.recent_runs(10)) == 2
    assert (second_checkout / ".billdrift").stat().st_mode & 0o077 == 0  # PII: owner only


def test_a_state_the_token_may_not_read_is_a_warning_and_a_new_history(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "repo")
    with fake_github() as github:
        env = _env(tmp_path, github)
        run = run_action(workspace, _temp(tmp_path, "t"), {**INPUTS, "github-token": "wrong"}, env)
    log = run.logs["Restore the state (previous run's artifact, when the cache had none)"]
    assert "::warning title=billdrift::could not restore the previous state" in log
    assert "401 Bad credentials" in log and "wrong" not in log
    assert run.exit_code == 1 and run.outputs["new"] == "15"


def test_a_run_that_fails_exits_2_and_still_writes_summary_and_outputs(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "repo")
    (workspace / "subs.json").unlink()
    with fake_github() as github:
        run = run_action(workspace, _temp(tmp_path, "t"), INPUTS, _env(tmp_path, github))
    assert run.exit_code == 2
    assert run.outputs["verdict"] == "ERROR" and run.outputs["exit-code"] == "2"
    assert "ERROR" in run.summary and "subs.json" in run.summary


def test_without_history_there_is_no_new_count(tmp_path: Path) -> None:
    workspace = _workspace(tmp_path / "repo")
    with fake_github() as github:
        inputs = {**INPUTS, "history": "", "persist": "false", "extra-formats": "csv"}
        run = run_action(workspace, _temp(tmp_path, "t"), inputs, _env(tmp_path, github))
    assert run.outputs["new"] == "" and run.outputs["findings"] == "15"
    assert run.outcomes["Restore the state (previous run's artifact, when the cache had none)"] == (
        "skipped"
    )
    assert (Path(run.outputs["report-dir"]) / "billdrift-report.csv").is_file()
    assert not github.requests  # no state to restore, no comment asked for


def test_the_action_pins_what_it_uses_and_keeps_hidden_state_files() -> None:
    steps = load_action()["runs"]["steps"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses == [
        "actions/setup-python@v5",
        "actions/cache/restore@v4",
        "actions/upload-artifact@v4",
        "actions/upload-artifact@v4",
        "actions/cache/save@v4",
    ]
    state = next(s for s in steps if s.get("name", "").startswith("Keep the state (artifact"))
    assert state["with"]["include-hidden-files"] is True  # .billdrift is a hidden directory
    for step in steps:  # inputs reach scripts through env:, never pasted into the script
        assert "${{" not in step.get("run", "")


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_real_install_step_installs_from_the_action_checkout(tmp_path: Path) -> None:
    """The install command as written (a venv, pip install of the action's own files),
    without dependencies to keep it short: the package itself must install and run."""
    workspace = _workspace(tmp_path / "repo")
    with fake_github() as github:
        env = _env(tmp_path, github)
        started = time.monotonic()
        run = run_action(
            workspace,
            _temp(tmp_path, "t"),
            {"install": "true", "pip-args": "--no-deps", "persist": "false", "history": ""},
            env,
        )
    took = time.monotonic() - started
    install = "Install billdrift from this action's checkout"
    assert run.outcomes[install] == "success", run.logs[install]
    billdrift = Path(run.step_outputs[install]["bin"])
    assert billdrift.is_file() and billdrift.is_relative_to(tmp_path)
    assert (billdrift.parent / "python").exists()
    assert took < 300
    # Without its dependencies the installed billdrift cannot start (Python exits 1 on
    # the ImportError): the job must exit 2, an error, not 1, which would read as drift.
    assert run.exit_code == 2 and run.outputs["exit-code"] == "2"
