"""Every option says what it takes (issue 14: several had no help; `check --help` did
not say --billing and --app take database URLs, env:NAME or the provider APIs), and
`watch` reads data from the same options as `check`."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from billdrift.cli.app import COMMANDS, main
from billdrift.usecases.demo import demo_paths


def _tree(command: click.Command, path: str) -> dict[str, click.Command]:
    """Every command under `command` (groups' subcommands too), by its full name."""
    found = {path: command}
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None
            found |= _tree(sub, f"{path} {name}")
    return found


def _all_commands() -> dict[str, click.Command]:
    context = click.Context(main)
    commands: dict[str, click.Command] = {}
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None, name
        commands |= _tree(command, f"billdrift {name}")
    return commands


def test_every_option_of_every_command_has_help() -> None:
    commands = _all_commands()
    assert {"billdrift check", "billdrift watch", "billdrift review show"} <= set(commands)
    missing = [
        f"{name} {'/'.join(param.opts)}"
        for name, command in commands.items()
        for param in command.get_params(click.Context(command))
        if isinstance(param, click.Option) and not (param.help or "").strip()
    ]
    assert missing == []


def test_every_command_says_what_it_does() -> None:
    assert [name for name, command in _all_commands().items() if not command.help] == []


def _help(*args: str) -> str:
    result = CliRunner().invoke(main, [*args, "--help"], terminal_width=200)
    assert result.exit_code == 0
    return " ".join(result.output.split())


def test_check_help_says_every_kind_of_source() -> None:
    text = _help("check")
    for form in ("postgresql://", "mysql://", "mariadb://", "sqlite:///", "env:NAME"):
        assert form in text
    assert "`stripe` or `paddle` for the provider's API" in text
    assert "a Stripe mirror's database URL" in text
    assert "KIND:FILE" in text and "CSV file, a SQLite file" in text


def _options(name: str) -> dict[str, str | None]:
    """A command's options, without the help option: click builds and caches that one
    on first use, named ``-h`` once the command has run under the group (any earlier
    test invoking it) and ``--help`` before, so comparing it made the result depend on
    test order."""
    command = main.get_command(click.Context(main), name)
    assert command is not None
    return {
        param.opts[0]: param.help
        for param in command.get_params(click.Context(command))
        if isinstance(param, click.Option) and "--help" not in param.opts
    }


def test_watch_takes_checks_source_and_rule_options_with_the_same_help() -> None:
    check, watch = _options("check"), _options("watch")
    shared = ["--billing", "--app", "--app-table", "--grace-days", "--plan", "--fail-on"]
    for option in [*shared, "--strict", "--config", "--alert-on", "--format", "--output"]:
        assert option in watch, option
        assert watch[option] == check[option], option
    # each watch run is now; a watch runs where `[engine] target` says, and explains nothing
    assert set(check) - set(watch) == {"--as-of", "--also-output", "--engine", "--explain"}


def test_watch_reads_the_data_its_options_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No config at all: the sources, the rules and the output come from the flags."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    demo = demo_paths()
    report = tmp_path / "report.json"
    result = CliRunner().invoke(
        main,
        [
            "watch",
            "--every",
            "1h",
            "--max-runs",
            "1",
            "--billing",
            str(demo.billing),
            "--app",
            str(demo.app),
            "--plan",
            "pro_monthly=pro",
            "--fail-on",
            "low",
            "--output",
            str(report),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "run finished, exit code 1" in result.stderr
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["verdict"] == "FAIL" and document["fail_on"] == "low"
