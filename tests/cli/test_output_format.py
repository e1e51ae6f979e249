"""The report format follows the --output file's extension unless a format is named
(issue 14: ``--output report.html`` wrote text into an .html file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.usecases.demo import demo_paths
from billdrift.usecases.overrides import FORMAT_BY_EXTENSION

#: How each format's document begins (the demo's report).
STARTS = {
    "text": "billdrift: FAIL",
    "json": "{",
    "markdown": "## billdrift: FAIL",
    "html": "<!DOCTYPE html>",
    "csv": "kind,severity,",
}


def demo(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.main, ["demo", *args])
    return result.exit_code, result.stderr


def written(path: Path) -> str:
    """The format `path` holds, told by how it begins."""
    text = path.read_text(encoding="utf-8")
    found = [name for name, start in STARTS.items() if text.startswith(start)]
    assert len(found) == 1, text[:80]
    if found == ["json"]:
        json.loads(text)
    return found[0]


def test_every_extension_is_listed() -> None:
    assert FORMAT_BY_EXTENSION == {
        ".json": "json",
        ".md": "markdown",
        ".markdown": "markdown",
        ".html": "html",
        ".htm": "html",
        ".csv": "csv",
        ".txt": "text",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        *((f"report{ext}", fmt) for ext, fmt in FORMAT_BY_EXTENSION.items()),
        ("REPORT.HTML", "html"),  # extensions match whatever their case
        ("report.Md", "markdown"),
        ("report.out", "text"),  # an extension that names no format: the default
        ("report", "text"),
        ("report.html.bak", "text"),  # only the last suffix counts
    ],
)
def test_the_extension_chooses_the_format(tmp_path: Path, name: str, expected: str) -> None:
    target = tmp_path / name
    code, err = demo("--output", str(target))
    assert code == 0, err
    assert written(target) == expected
    assert "warning" not in err


@pytest.mark.parametrize("fmt", ["json", "csv", "text"])
def test_an_explicit_format_wins_over_the_extension_with_a_warning(
    tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / "report.html"
    code, err = demo("--format", fmt, "--output", str(target))
    assert code == 0
    assert written(target) == fmt
    assert (
        f"billdrift: warning: writing the {fmt} format to {target} as asked, though its "
        "extension says html"
    ) in err


def test_a_format_that_agrees_or_a_neutral_extension_says_nothing(tmp_path: Path) -> None:
    for name in ("report.htm", "report.out"):
        code, err = demo("--format", "html", "--output", str(tmp_path / name))
        assert code == 0 and "warning" not in err
        assert written(tmp_path / name) == "html"


def _config(tmp_path: Path, output: str) -> Path:
    """The demo's config with an [output] table."""
    config = tmp_path / "billdrift.toml"
    text = demo_paths().config.read_text(encoding="utf-8")
    config.write_text(f"{text}\n[output]\n{output}\n", encoding="utf-8")
    return config


def check(config: Path, *args: str) -> tuple[int, str]:
    paths = demo_paths()
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--config",
            str(config),
            "--billing",
            str(paths.billing),
            "--app",
            str(paths.app),
            "--as-of",
            "2026-11-22T00:00:00Z",
            *args,
        ],
    )
    return result.exit_code, result.stderr


def test_the_config_files_output_names_its_format_too(tmp_path: Path) -> None:
    config = _config(tmp_path, 'output = "out/report.md"')
    (tmp_path / "out").mkdir()
    code, err = check(config)
    assert code == 1, err
    assert written(tmp_path / "out" / "report.md") == "markdown"  # next to the config


def test_the_config_files_format_wins_over_its_own_output(tmp_path: Path) -> None:
    config = _config(tmp_path, 'format = "json"\noutput = "report.md"')
    code, err = check(config)
    assert code == 1
    assert written(tmp_path / "report.md") == "json"
    assert "as asked, though its extension says markdown" in err


def test_a_flags_output_wins_over_the_config_files_format(tmp_path: Path) -> None:
    """Flags win over the file: --output report.html is HTML whatever the file says."""
    config = _config(tmp_path, 'format = "json"')
    code, err = check(config, "--output", str(tmp_path / "report.html"))
    assert code == 1 and "warning" not in err
    assert written(tmp_path / "report.html") == "html"
    code, _ = check(config, "--output", str(tmp_path / "report.out"))
    assert written(tmp_path / "report.out") == "json"  # no format named: the file's


def test_a_failed_run_writes_its_error_in_the_inferred_format(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli.main, ["check", "--billing", "missing.csv", "--app", "x.csv", "--output", str(target)]
    )
    assert result.exit_code == 2
    assert json.loads(target.read_text(encoding="utf-8"))["verdict"] == "ERROR"
