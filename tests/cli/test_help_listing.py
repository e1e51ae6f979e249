"""``billdrift --help`` lists the commands from their summaries (issue 17: start-up).

The list used to import every command's module to show one line each, which is
most of a 0.3 s ``--help``. The summaries must still be exactly what click would
have shown from each command's own help.
"""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from billdrift.cli.app import COMMANDS, SUMMARIES, main


@pytest.mark.parametrize("name", sorted(SUMMARIES))
def test_each_summary_lists_as_its_command_would(name: str) -> None:
    assert name in COMMANDS
    command = main.get_command(click.Context(main), name)
    assert command is not None
    stand_in = click.Command(name, help=SUMMARIES[name])
    for limit in (20, 45, 60, 74, 200):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)


@pytest.mark.parametrize("width", [40, 80, 200])
def test_the_listing_is_clicks_own(width: int) -> None:
    def listing(format_commands: object) -> str:
        context = click.Context(main, terminal_width=width)
        formatter = context.make_formatter()
        format_commands(context, formatter)  # type: ignore[operator]
        return formatter.getvalue()

    ours = listing(main.format_commands)
    assert ours == listing(lambda c, f: click.Group.format_commands(main, c, f))
    assert all(name in ours for name in COMMANDS)


def test_a_command_without_a_summary_is_still_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(SUMMARIES, "review")
    result = CliRunner().invoke(main, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "review    List open findings that need a person, most urgent first" in result.output


def test_help_imports_no_command_module() -> None:
    """In a fresh interpreter: neither the commands nor the engine load for ``--help``."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from billdrift.cli.app import COMMANDS, main\n"
        "assert CliRunner().invoke(main, ['--help']).exit_code == 0\n"
        "modules = {module for module, _ in COMMANDS.values()}\n"
        "modules |= {'duckdb', 'pyarrow', 'pydantic'}\n"
        "print(sorted(modules & set(sys.modules)))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
