"""Every command finds the config as one rule says (issue 14): --config, else
$BILLDRIFT_CONFIG, else ./billdrift.toml; paths inside it mean next to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from billdrift.cli import app as cli
from billdrift.usecases.demo import demo_paths

DEMO = demo_paths().directory
AS_OF = "2026-11-22T00:00:00Z"


def _invoke(*args: str) -> Result:
    return CliRunner().invoke(cli.main, list(args))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user's directory: the demo data and a config naming it by relative paths,
    a history store and a report file included."""
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    monkeypatch.delenv("BILLDRIFT_HISTORY", raising=False)
    directory = tmp_path / "project"
    directory.mkdir()
    shutil.copy(DEMO / "stripe_subscriptions.json", directory / "subs.json")
    shutil.copy(DEMO / "app.sqlite", directory / "app.sqlite")
    text = (DEMO / "billdrift.toml").read_text("utf-8")
    text = text.replace("[app]\n", '[app]\nsource = "app.sqlite"\n')
    (directory / "billdrift.toml").write_text(
        '[billing]\nsources = ["subs.json"]\n\n[history]\nlocation = ".billdrift/h.sqlite"\n\n'
        f'[output]\nformat = "json"\noutput = "report.json"\n\n{text}',
        "utf-8",
    )
    return directory


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    work = tmp_path / "elsewhere"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_paths_in_a_config_resolve_next_to_it_from_another_directory(
    project: Path, elsewhere: Path
) -> None:
    result = _invoke("check", "--config", "../project/billdrift.toml", "--as-of", AS_OF)
    assert result.exit_code == 1, result.stderr
    report = json.loads((project / "report.json").read_text("utf-8"))
    assert report["summary"]["findings"] == 15
    assert (project / ".billdrift" / "h.sqlite").is_file()
    assert list(elsewhere.iterdir()) == []  # nothing read or written where it ran
    assert "billdrift: config" not in result.stderr  # named on the command line: no notice


def test_check_finds_the_config_in_the_working_directory_and_says_so(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    result = _invoke("check", "--as-of", AS_OF)
    assert result.exit_code == 1, result.stderr
    assert "billdrift: config billdrift.toml (found in the working directory)" in result.stderr
    assert (project / "report.json").is_file()


def test_the_environment_variable_names_a_config_for_every_command(
    project: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLDRIFT_CONFIG", str(project / "billdrift.toml"))
    result = _invoke("check", "--as-of", AS_OF, "--output", "here.json")
    assert result.exit_code == 1, result.stderr
    assert "($BILLDRIFT_CONFIG)" in result.stderr
    assert (elsewhere / "here.json").is_file()  # a flag is relative to where it runs
    assert not (project / "report.json").exists()  # and wins over the config's output


def test_an_explicit_config_wins_over_the_one_in_the_working_directory(
    project: Path, elsewhere: Path
) -> None:
    (elsewhere / "billdrift.toml").write_text("this is not TOML")
    result = _invoke("check", "--config", str(project / "billdrift.toml"), "--as-of", AS_OF)
    assert result.exit_code == 1, result.stderr


def test_no_config_and_no_options_is_the_same_clear_error(elsewhere: Path) -> None:
    result = _invoke("check")
    assert result.exit_code == 2
    assert result.stderr == (
        "billdrift: error: no billing input: pass --billing FILE (or set billing.sources)\n"
    )


def test_doctor_names_the_config_it_found(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = _invoke("doctor", "--format", "json")
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["config"]["detail"] == (
        "billdrift.toml (found in the working directory) loads and is valid"
    )
    assert checks["app source"]["status"] == "ok", checks["app source"]
    monkeypatch.chdir(project.parent)
    result = _invoke("doctor", "--format", "json")
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["config"]["detail"].startswith("no config file (no --config, $BILLDRIFT_CONFIG")


def test_watch_finds_the_config_too(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = _invoke("watch", "--every", "1h", "--max-runs", "1")
    assert result.exit_code == 0, result.stderr
    assert "run finished, exit code 1" in result.stderr
    assert (project / "report.json").is_file()


def test_init_writes_paths_the_config_reads_back_from_anywhere(
    project: Path, elsewhere: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`init --output conf/billdrift.toml` writes sources relative to the file."""
    monkeypatch.chdir(project)
    (project / "conf").mkdir()
    result = _invoke(
        "init", "--app", "app.sqlite", "--billing", "subs.json", "--output", "conf/billdrift.toml"
    )
    assert result.exit_code == 0, result.output
    written = (project / "conf" / "billdrift.toml").read_text("utf-8")
    assert 'source = "../app.sqlite"' in written and '"../subs.json"' in written
    for where in (project, project / "conf", elsewhere):
        monkeypatch.chdir(where)
        config = project / "conf" / "billdrift.toml"
        result = _invoke("check", "--config", str(config), "--as-of", AS_OF)
        assert result.exit_code == 1, (where, result.stderr)


def test_schedule_and_review_expect_need_a_config_and_say_how_to_give_one(
    elsewhere: Path,
) -> None:
    for args in (
        ("schedule", "cron"),
        ("schedule", "github"),
        ("review", "expect", "abc", "--reason", "r"),
    ):
        result = _invoke(*args)
        assert result.exit_code == 2, args
        assert "no config file: pass --config FILE, set $BILLDRIFT_CONFIG" in result.stderr


def test_the_demo_s_next_steps_work_as_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`billdrift demo` ends with init, doctor, check: the last two take no options and
    work only because ./billdrift.toml is found."""
    import csv
    import sqlite3

    from billdrift.cli.check_run import _NEXT_STEPS

    shutil.copy(DEMO / "stripe_subscriptions.json", tmp_path / "subscriptions.json")
    with sqlite3.connect(DEMO / "app.sqlite") as con, (tmp_path / "users.csv").open("w") as out:
        cursor = con.execute("SELECT * FROM users")
        writer = csv.writer(out)
        writer.writerow([column[0] for column in cursor.description])
        writer.writerows(cursor)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    steps = [line.split("#")[0].split()[1:] for line in _NEXT_STEPS.splitlines()[1:]]
    assert [step[0] for step in steps] == ["init", "doctor", "check"]
    assert _invoke(*steps[0]).exit_code == 0
    assert _invoke(*steps[1]).exit_code in (0, 1)  # warnings (no provider key) are fine
    result = _invoke(*steps[2])
    assert result.exit_code == 1, result.stderr  # the demo data has drift: found, not an error
