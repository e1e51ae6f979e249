"""The README names every command's options and no option that does not exist
(issue 19, "Keep it true"), and its `watch` example runs as written (item 8).

The command reference in the README lists each command with its options; it is
compared, command by command, with what the click tree (``cli/app.py``'s
``COMMANDS``) shows in ``--help``. Any ``--flag`` anywhere in the README must be
an option of some command.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.history import open_store
from billdrift.usecases.demo import demo_paths

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


def _commands(
    command: click.Command, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], click.Command]:
    """Every command and group under `command`, by path (() is `billdrift` itself)."""
    found = {path: command}
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None
            found |= _commands(sub, (*path, name))
    return found


def _options(command: click.Command) -> set[str]:
    """The long options `--help` shows for `command` (hidden ones are not shown)."""
    params = command.get_params(click.Context(command))
    return {
        name
        for param in params
        if isinstance(param, click.Option) and not param.hidden
        for name in param.opts + param.secondary_opts
        if name.startswith("--")
    }


COMMANDS = _commands(main)


def _reference() -> dict[tuple[str, ...], set[str]]:
    """The README's command reference: command path -> the options its entry names."""
    block = README.split("<!-- command reference")[1].split("<!-- end of command reference")[0]
    code = block.split("```\n")[1]
    entries: dict[tuple[str, ...], set[str]] = {}
    current: tuple[str, ...] | None = None
    for line in code.splitlines():
        if line.startswith("billdrift "):
            words = shlex.split(line)[1:]
            current = max((path for path in COMMANDS if tuple(words[: len(path)]) == path), key=len)
            assert current not in entries, f"billdrift {' '.join(current)} listed twice"
            entries[current] = set()
        assert current is not None, line
        entries[current] |= set(FLAG.findall(line))
    return entries


def test_the_reference_lists_every_command_with_exactly_its_options() -> None:
    entries = _reference()
    for path, command in COMMANDS.items():
        options = _options(command) - {"--help", "--version"}
        if not path or (isinstance(command, click.Group) and not options):
            continue  # `billdrift` itself and option-less groups are not commands to run
        named = " ".join(("billdrift", *path))
        assert path in entries, f"{named} is missing from the README's command reference"
        assert entries[path] >= options, f"{named}: undocumented {options - entries[path]}"
        assert entries[path] <= options, f"{named}: no such option {entries[path] - options}"


def test_every_flag_the_readme_mentions_exists() -> None:
    every = set().union(*(_options(command) for command in COMMANDS.values()))
    mentioned = set(FLAG.findall(README))
    assert mentioned - every == set(), "the README names options no command has"
    assert {"--help", "--version"} <= mentioned


def test_every_option_is_explained_beyond_the_reference() -> None:
    """Each option also appears outside the reference block (a table row, a sentence or
    an example), so the reference is never the only word on it."""
    outside = (
        README.split("<!-- command reference")[0]
        + README.split("<!-- end of command reference -->")[1]
    )
    every = set().union(*(_options(command) for command in COMMANDS.values()))
    assert every - {"--help"} - set(FLAG.findall(outside)) == set()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory as `init` leaves it: data files and ./billdrift.toml naming them."""
    demo = demo_paths().directory
    shutil.copy(demo / "stripe_subscriptions.json", tmp_path / "subs.json")
    shutil.copy(demo / "app.sqlite", tmp_path / "app.sqlite")
    text = (demo / "billdrift.toml").read_text("utf-8")
    text = text.replace("[app]\n", '[app]\nsource = "app.sqlite"\n')
    (tmp_path / "billdrift.toml").write_text(f'[billing]\nsources = ["subs.json"]\n\n{text}')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BILLDRIFT_CONFIG", raising=False)
    return tmp_path


def test_the_watch_example_runs_as_written(project: Path) -> None:
    """Issue 19 item 8: it had no source options and nothing found a config. Run as
    written, plus --max-runs 1 so the test ends."""
    example = README.split("**Schedules.**")[1].split("```sh\n")[1].split("```")[0]
    line = next(
        line.split("#")[0] for line in example.splitlines() if line.startswith("billdrift watch ")
    )
    args = shlex.split(line)[1:]
    result = CliRunner().invoke(main, [*args, "--max-runs", "1"])
    assert result.exit_code == 0, result.output
    assert "billdrift: config billdrift.toml (found in the working directory)" in result.stderr
    assert "run finished, exit code 1" in result.stderr  # the demo data has drift
    history = args[args.index("--history") + 1]
    with open_store(project / history, create=False) as store:
        assert len(store.recent_runs(10)) == 1
