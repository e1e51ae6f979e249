"""The ``billdrift`` command group: every command, registered in one place.

Commands load when used, so ``billdrift check`` (the hot path) never imports the
history store, the onboarding inspectors or the schedule writers.
"""

from __future__ import annotations

import importlib

import click

from billdrift._version import __version__

#: Command name -> (module, attribute). The README's command list is tested against it.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("billdrift.cli.check", "check"),
    "demo": ("billdrift.cli.check", "demo"),
    "watch": ("billdrift.cli.check", "watch"),
    "init": ("billdrift.cli.setup", "init"),
    "doctor": ("billdrift.cli.setup", "doctor"),
    "review": ("billdrift.cli.review", "review"),
    "history": ("billdrift.cli.history", "history"),
    "schedule": ("billdrift.cli.schedule", "schedule"),
    "ci": ("billdrift.cli.ci", "ci"),
    "serve": ("billdrift.cli.serve", "serve"),
    "fix": ("billdrift.cli.fix", "fix"),
    "mcp": ("billdrift.cli.mcp", "mcp"),
    "listen": ("billdrift.cli.listen", "listen"),
}


def preload(args: list[str]) -> None:
    """Import the module of the command `args` name, if any: the entry point does this
    while the process is tuned for loading (see :mod:`billdrift.infra.runtime`)."""
    named = next((arg for arg in args if not arg.startswith("-")), None)
    if named in COMMANDS:
        importlib.import_module(COMMANDS[named][0])


class _Commands(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), name)
        return command


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billdrift")
def main() -> None:
    """Reconcile what your billing provider says with the access your app grants."""
