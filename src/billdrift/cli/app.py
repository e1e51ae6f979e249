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


#: Each command's summary (the first paragraph of its help), for the command list of
#: ``billdrift --help``: listing them from here spares importing every command's
#: module (the check engine, the history store, the web app) only to show one line
#: each, 0.25 s of a 0.3 s ``--help``. A command missing here is imported to list it;
#: tests/cli/test_help.py holds each entry to its command's help.
SUMMARIES: dict[str, str] = {
    "check": "Compare billing data with app access and report drift.",
    "demo": "Run a check on bundled sample data (no credentials, no network).",
    "watch": "Run the check now and then every DURATION, in the foreground, until stopped "
    "(or --max-runs runs).",
    "init": "Inspect the app's data and write a config file to edit.",
    "doctor": "Check a set-up: config, environment, connectivity, tables, columns, rows, "
    "privileges.",
    "review": "List open findings that need a person, most urgent first, a page at a time.",
    "history": "Look after the run history store.",
    "schedule": "Run the check on a schedule: a GitHub Actions workflow or a crontab line.",
    "ci": "Steps of the GitHub Action (action.yml) that are more than one command.",
    "serve": "Start the local web app: dashboard, findings, review, runs.",
    "fix": "Turn findings into a reviewed SQL fix for the app database, and apply it.",
    "mcp": "Serve billdrift's tools to coding agents over the Model Context Protocol (stdio).",
    "listen": "Take Stripe and Paddle webhooks as triggers: check the customer an event names.",
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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own command list, each line from :data:`SUMMARIES` (shortened to the
        terminal as click shortens a help text) rather than from the imported command."""
        listed = [
            (name, click.Command(name, help=SUMMARIES[name]))
            if name in SUMMARIES
            else (name, self.get_command(ctx, name))
            for name in self.list_commands(ctx)
        ]
        shown = [(name, command) for name, command in listed if command and not command.hidden]
        if shown:
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billdrift")
def main() -> None:
    """Reconcile what your billing provider says with the access your app grants."""
    from billdrift.infra.failures import scrub_log_records

    scrub_log_records()  # whatever a command logs (a listener, a server) is scrubbed
