"""Keeping database passwords out of written config files and everything shown.

A config file ends up in a repository, a CI log or a support ticket, so
``init`` never writes a URL that carries a password: it writes ``env:NAME``
as given, a plain path or a password-less URL as given, and for a URL with a
password only a comment saying which variable to put it in. ``doctor`` runs
everything it shows through :func:`scrub_urls` as a last line of defence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from billdrift.infra.db.urls import SECRET_WORDS, redact, scrub_urls

#: The variable ``init`` suggests for the app database's URL.
APP_URL_VARIABLE: Final = "DATABASE_URL"
#: ... and for a billing database's URL.
BILLING_URL_VARIABLE: Final = "BILLING_DATABASE_URL"


_URL: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://\S*")


def _split(location: str) -> tuple[str, str]:
    """(prefix, URL): a source may be ``KIND:URL`` (``stripe-mirror:postgresql://...``)."""
    match = _URL.search(location)
    if match is None:
        return location, ""
    return location[: match.start()], match.group(0)


def shown(location: str) -> str:
    """`location` as messages may show it: any URL in it redacted."""
    prefix, url = _split(location)
    return prefix + redact(url) if url else location


def carries_secret(location: str) -> bool:
    """True for a URL with a password (even an empty one) or a secret query parameter,
    also behind a ``KIND:`` prefix."""
    _, url = _split(location)
    if not url:
        return False
    try:
        parts = urlsplit(url)
        has_password = parts.password is not None
    except ValueError:  # unparseable: assume the worst
        return True
    keys = [key for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    return has_password or any(word in key.lower() for key in keys for word in SECRET_WORDS)


@dataclass(frozen=True)
class SourceSetting:
    """How one source is written to a config file and named in messages."""

    #: The value to write, or None when it must not be written (it holds a password).
    value: str | None
    #: How messages name it (redacted).
    shown: str
    #: When withheld: the environment variable to keep the URL in instead.
    variable: str | None = None

    @property
    def withheld(self) -> bool:
        return self.value is None


def source_setting(location: str, variable: str = APP_URL_VARIABLE) -> SourceSetting:
    """`location` as it may be written: as given unless it carries a password."""
    if carries_secret(location):
        return SourceSetting(None, shown(location), variable)
    return SourceSetting(location, location)


__all__ = ["scrub_urls"]
