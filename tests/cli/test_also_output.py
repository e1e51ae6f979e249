"""`check --also-output FORMAT=FILE`: one run writes the report in several formats
(the GitHub Action keeps JSON, markdown and HTML) and records one history run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.history import open_store
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    demo = demo_paths().directory
    shutil.copy(demo / "stripe_subscriptions.json", tmp_path / "subs.json")
    shutil.copy(demo / "app.sqlite", tmp_path / "app.sqlite")
    text = (demo / "billdrift.toml").read_text("utf-8")
    text = text.replace("[app]\n", '[app]\nsource = "app.sqlite"\n')
    (tmp_path / "billdrift.toml").write_text(f'[billing]\nsources = ["subs.json"]\n\n{text}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    return tmp_path


def test_one_run_writes_every_format_and_records_once(project: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "check",
            "--as-of",
            DEMO_AS_OF.isoformat(),
            "--history",
            "h.sqlite",
            "--format",
            "json",
            "--output",
            "r.json",
            "--also-output",
            "markdown=r.md",
            "--also-output",
            "html=r.html",
        ],
    )
    assert result.exit_code == 1, result.output  # drift in the demo data
    report = json.loads((project / "r.json").read_text("utf-8"))
    assert report["verdict"] == "FAIL"
    markdown = (project / "r.md").read_text("utf-8")
    assert markdown.startswith("#") and "paid_but_blocked" in markdown
    assert (project / "r.html").read_text("utf-8").lstrip().lower().startswith("<!doctype html")
    with open_store(project / "h.sqlite", create=False) as store:
        assert len(store.recent_runs(10)) == 1


@pytest.mark.parametrize("bad", ["pdf=r.pdf", "markdown", "markdown="])
def test_a_bad_pair_is_refused(project: Path, bad: str) -> None:
    result = CliRunner().invoke(main, ["check", "--also-output", bad])
    assert result.exit_code == 2
    assert "--also-output: expected FORMAT=FILE" in result.stderr


def test_a_failed_run_leaves_an_error_document_in_every_file(project: Path) -> None:
    (project / "subs.json").unlink()
    (project / "r.md").write_text("an old report that must not stay", "utf-8")
    result = CliRunner().invoke(
        main, ["check", "--format", "json", "--output", "r.json", "--also-output", "markdown=r.md"]
    )
    assert result.exit_code == 2
    assert json.loads((project / "r.json").read_text("utf-8"))["verdict"] == "ERROR"
    markdown = (project / "r.md").read_text("utf-8")
    assert "ERROR" in markdown and "old report" not in markdown
