"""The ``billdrift`` command's entry point: load the CLI with the process tuned for
large runs, run it, and end the process quickly (see :mod:`billdrift.infra.runtime`)."""

from __future__ import annotations

import sys

import click

from billdrift.cli.exits import EXIT_INTERRUPTED
from billdrift.infra.runtime import leave, load_tuned


def _load() -> click.Group:
    """The command group, with the module of the command being run already imported."""
    from billdrift.cli.app import main, preload

    preload(sys.argv[1:])
    return main


def main() -> None:
    cli_main = load_tuned(_load)
    try:
        cli_main()
    except SystemExit as done:  # interrupted: leave at once, abandoning blocked readers
        leave(done.code, wait_for_threads=done.code != EXIT_INTERRUPTED)
    leave(0)


__all__ = ["leave", "main"]
