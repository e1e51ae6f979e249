"""The one place where a failure becomes an exit code and a message.

Exit codes are a contract (README, "Exit codes"): 0 pass, 1 drift at or above
``--fail-on``, 2 any error, 130 interrupted. A failure must never exit like
findings do, so every command body runs through :func:`run_command`, which maps
a :class:`~billdrift.errors.BilldriftError` to its ``exit_code`` (2) with its
message, anything else to 2 as an internal error (with a traceback under
``--debug``), and Ctrl-C to 130. Messages and tracebacks are described and
scrubbed by :mod:`billdrift.infra.failures`, as every front-end's are: a key
pasted where a file was expected must not be shown back.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from billdrift.errors import BilldriftError

EXIT_INTERRUPTED = 130

#: Called with the error message when a command fails, to publish it where the
#: command's output goes (an ERROR report for machine-readable formats).
OnError = Callable[[str], None]


def describe(error: BaseException) -> str:
    """What the user is told: an expected failure's own message, else an internal error."""
    from billdrift.infra.failures import describe_failure  # only on the error path

    message = describe_failure(error)
    return message if isinstance(error, BilldriftError) else f"{message} (rerun with --debug)"


def failure_code(error: BaseException, debug: bool, on_error: OnError | None = None) -> int:
    """Report `error` on stderr (and through `on_error`) and return its exit code."""
    if isinstance(error, KeyboardInterrupt):
        click.echo("billdrift: interrupted", err=True)
        return EXIT_INTERRUPTED
    message = describe(error)
    click.echo(f"billdrift: error: {message}", err=True)
    from billdrift.infra.failures import exit_code_of, scrubbed_traceback

    if debug:
        sys.stderr.write(scrubbed_traceback(error))
    if on_error is not None:
        with contextlib.suppress(BilldriftError):  # the message above already went out
            on_error(message)
    return exit_code_of(error)


def attempt(body: Callable[[], int], debug: bool, on_error: OnError | None = None) -> int:
    """`body`'s exit code, or the failure's: for loops (``watch``) that go on after one."""
    try:
        return body()
    except (Exception, KeyboardInterrupt) as error:
        return failure_code(error, debug, on_error)


def run_command(
    body: Callable[[], int], debug: bool = False, on_error: OnError | None = None
) -> NoReturn:
    """Run a command's body and exit with its code, or with the failure's."""
    sys.exit(attempt(body, debug, on_error))
