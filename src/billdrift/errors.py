"""Exceptions that end a run, each carrying its exit code.

Exit codes are a contract: 0 pass, 1 drift at or above the fail threshold,
2 an error of any kind. Mapping lives on the exception classes so the CLI has
one place to turn a failure into a code, and findings can never share one.
"""

from __future__ import annotations

EXIT_PASS = 0
EXIT_DRIFT = 1
EXIT_ERROR = 2


class BilldriftError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = EXIT_ERROR


class ConfigError(BilldriftError):
    """The configuration file or flags are invalid (names the key and what was expected)."""


class SourceError(BilldriftError):
    """A source could not be read at all (names the file or URL, redacted)."""


class PartialDataError(BilldriftError):
    """The data read looks incomplete; reconciling it would report noise or a false PASS."""
