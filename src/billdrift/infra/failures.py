"""Every front-end's failures leave through here: the message, the exit code, and
log records, each scrubbed of secrets.

A failure's message is shown on a terminal, in a web page, in a listener's log or
in an agent's transcript, and it can name what the user typed: a Stripe key
pasted as ``--billing`` comes back as "billing file not found: sk_test_...", a
driver echoes a connection string. So the CLI, the web app, the listener and the
MCP server all describe a failure with :func:`describe_failure` and log through
the record factory :func:`scrub_log_records` installs, and both pass the text
through :func:`billdrift.infra.secrets.scrubber_for`.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import Any

from billdrift.errors import EXIT_ERROR, BilldriftError
from billdrift.infra.secrets import scrubber_for


def describe_failure(
    error: BaseException, *, detail: bool = True, secret_names: Iterable[str] = ()
) -> str:
    """What the user is told: an expected failure's own message, else an internal
    error naming its type (and its text when `detail`), every secret masked.
    `secret_names` adds variables a config names (``env:NAME``) to the usual ones."""
    if isinstance(error, BilldriftError):
        text = str(error)
    else:
        text = f"internal error: {type(error).__name__}" + (f": {error}" if detail else "")
    return scrubber_for(secret_names).text(text)


def exit_code_of(error: BaseException) -> int:
    """An expected failure's own exit code; 2 for anything else."""
    return error.exit_code if isinstance(error, BilldriftError) else EXIT_ERROR


def scrubbed_traceback(error: BaseException) -> str:
    """`error`'s traceback (for ``--debug``), every secret masked."""
    return scrubber_for().text("".join(traceback.format_exception(error)))


def scrub_log_records() -> None:
    """Make every log record created from now on carry scrubbed text: its message
    formatted and masked, and its traceback formatted and masked once (formatters
    reuse ``exc_text``). Idempotent; installed by every front-end at start-up, so
    records from libraries (uvicorn, the MCP SDK) are covered too."""
    current = logging.getLogRecordFactory()
    if getattr(current, "billdrift_scrubs", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        scrub = scrubber_for().text
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: logging reports it later, as it would
            return record
        record.msg, record.args = scrub(message), None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = scrub(
                "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
            )
            record.exc_info = None
        return record

    factory.billdrift_scrubs = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
