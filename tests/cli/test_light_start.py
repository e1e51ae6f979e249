"""`--help` and argument errors load no engine (issue 17: a small SaaS is the common
user, and `billdrift check --help` took 0.32 s of CPU importing DuckDB, Arrow, the
configuration models and the engine only to print its options).

Each command line runs through the real entry point in a fresh interpreter; an exit
handler (the entry point runs them before it ends the process) writes which of the
heavy modules were loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from billdrift.cli.app import COMMANDS, main

#: What only running a command may load: the engine's libraries, the configuration
#: models, the SQL compiler, the engine and the command bodies' use cases.
HEAVY = (
    "duckdb",
    "pyarrow",
    "pydantic",
    "sqlglot",
    "orjson",
    "billdrift.config",
    "billdrift.core.engine",
    "billdrift.core.report",
    "billdrift.usecases.check",
    "billdrift.history.store",
)

_PROBE = """\
import atexit, json, sys
out, heavy = sys.argv[1], json.loads(sys.argv[2])
atexit.register(lambda: open(out, "w").write(json.dumps([m for m in heavy if m in sys.modules])))
sys.argv = ["billdrift", *sys.argv[3:]]
from billdrift.cli.entry import main
main()
"""


def _loaded(tmp_path: Path, *args: str) -> tuple[int, list[str]]:
    """The exit status of ``billdrift ARGS`` and the heavy modules it loaded."""
    out = tmp_path / "loaded.json"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(out), json.dumps(HEAVY), *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    loaded: list[str] = json.loads(out.read_text())
    return done.returncode, loaded


def _paths(command: click.Command, path: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`path` and the path of every subcommand under it."""
    found = [path]
    if isinstance(command, click.Group):
        context = click.Context(command)
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            assert sub is not None
            found += _paths(sub, (*path, name))
    return found


def _every_command() -> list[tuple[str, ...]]:
    context = click.Context(main)
    paths: list[tuple[str, ...]] = [()]
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        paths += _paths(command, (name,))
    return paths


@pytest.mark.parametrize("path", _every_command(), ids=lambda path: " ".join(path) or "main")
def test_help_loads_no_engine(tmp_path: Path, path: tuple[str, ...]) -> None:
    status, loaded = _loaded(tmp_path, *path, "--help")
    assert status == 0
    assert loaded == []


def test_version_loads_no_engine(tmp_path: Path) -> None:
    assert _loaded(tmp_path, "--version") == (0, [])


@pytest.mark.parametrize(
    "args",
    [
        ("check", "--no-such-option"),
        ("check", "--grace-days", "soon"),
        ("check", "--format", "pdf"),
        ("demo", "--format", "pdf"),
        ("watch",),  # --every is required
        ("review", "show"),  # FINGERPRINT is required
        ("fix", "--no-such-option"),
        ("no-such-command",),
    ],
)
def test_argument_errors_load_no_engine(tmp_path: Path, args: tuple[str, ...]) -> None:
    status, loaded = _loaded(tmp_path, *args)
    assert status == 2
    assert loaded == []


def test_a_check_still_loads_what_it_runs(tmp_path: Path) -> None:
    """The other side: the probe does see a check's engine (the test above can fail)."""
    status, loaded = _loaded(tmp_path, "demo", "--format", "json", "--output", str(tmp_path / "r"))
    assert status == 0
    assert {"duckdb", "pyarrow", "billdrift.config", "billdrift.core.engine"} <= set(loaded)


def test_choices_repeated_for_the_light_start_match_their_sources() -> None:
    from billdrift.cli import choices
    from billdrift.core.model import Kind
    from billdrift.history import queue
    from billdrift.usecases.fix import select
    from billdrift.usecases.schedule import github

    assert tuple(kind.value for kind in Kind) == choices.KINDS
    assert choices.QUEUE_LIFECYCLES == queue.LIFECYCLES
    assert choices.QUEUE_REVIEW_STATES == queue.REVIEW_STATES
    assert choices.QUEUE_SORTS == queue.SORTS
    assert choices.QUEUE_DEFAULT_LIMIT == queue.DEFAULT_LIMIT
    assert choices.FIX_REVIEW_STATES == select.REVIEW_STATES
    assert choices.DEFAULT_ACTION_REF == github.DEFAULT_ACTION_REF
