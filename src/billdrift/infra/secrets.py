"""Secrets (API keys, webhook URLs and secrets, passwords) kept out of every text shown.

A secret leaks in more spellings than the one it was given in: an HTTP library
reports an illegal header as ``b'Bearer sk_live_...\\n...'`` (a bytes repr, the
line break escaped), an exception shows ``'...'`` (a str repr), a JSON body
escapes quotes and backslashes, a URL percent-encodes. Replacing the raw value
only catches the first, so :func:`scrub` replaces every spelling
:func:`spellings` knows, longest first.

Scrubbing is the last line of defence; the first is refusing a secret that
cannot be sent as it is. :func:`check_secret_text` refuses whitespace and
control characters inside a secret read from the environment (a key pasted
with a line break, two keys in one variable) with a message that names the
variable and never shows the value.

What is secret, when nobody said: :class:`Scrubber` (built by
:func:`scrubber_for`) masks the values of the environment variables whose names
say they hold one (``*KEY*``, ``*SECRET*``, ``*TOKEN*``, ``*PASSWORD*``,
``*DATABASE_URL*``...) and any others a caller names, the password of any URL
held in the environment, every provider key or signing secret by its published
prefix (``sk_live_``, ``rk_test_``, ``whsec_``, ``pdl_...``: a key pasted where a
file name was expected is named by the "file not found" error), and the password
of any URL in the text. Every front-end's failures leave through it
(:mod:`billdrift.infra.failures`).
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any, Final
from urllib.parse import quote, quote_plus, unquote

from billdrift.errors import ConfigError

#: What a secret is replaced with.
MASK: Final = "***"
#: A variable whose name holds one of these words holds a secret.
_SECRET_NAME: Final = re.compile(
    r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|DSN|DATABASE_URL|WEBHOOK", re.IGNORECASE
)
#: Shorter values are not masked by value (a 1 or a "true" would be masked everywhere);
#: a short password inside a URL is still masked by :func:`scrub_urls`.
MIN_SECRET_LENGTH: Final = 8
#: Always read as secrets when set, whatever their names or the config say.
KNOWN_SECRETS: Final = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY", "PADDLE_API_KEY", "DATABASE_URL")
#: Stripe secret and restricted keys, Stripe webhook signing secrets and Paddle API
#: keys and notification secrets, by their published prefixes. The prefix stays
#: visible (``sk_test_***``): it tells the user what they pasted, and is no secret.
KEY_SHAPE: Final = re.compile(
    r"(?<![A-Za-z0-9])(?P<prefix>(?:sk|rk)_(?:test|live)_|whsec_"
    r"|pdl_(?:live|sdbx)_(?:apikey_)?|pdl_ntfset_|pdl_)[A-Za-z0-9_]{8,}"
)


#: Words that make a query parameter's value a secret.
SECRET_WORDS: Final = ("password", "passwd", "secret", "token", "key")
#: A password runs to the last ``@`` of the URL (as :mod:`.db.urls` reads it), quotes included:
#: masking too much of a message is safe, showing part of a password is not.
_URL_PASSWORD: Final = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:'\"]*:)(?P<password>\S+)@"
)
_QUERY_SECRET: Final = re.compile(
    r"(?P<head>[?&][^=&\s'\"]*(?:"
    + "|".join(SECRET_WORDS)
    + r")[^=&\s'\"]*=)(?P<value>[^&\s'\"]+)",
    re.IGNORECASE,
)


def scrub_urls(text: str) -> str:
    """`text` with the password of every URL in it, and secret query values, masked."""

    def password(match: re.Match[str]) -> str:
        return f"{match.group('head')}{MASK}@"

    def query(match: re.Match[str]) -> str:
        return f"{match.group('head')}{MASK}"

    return _QUERY_SECRET.sub(query, _URL_PASSWORD.sub(password, text))


def spellings(secret: str) -> set[str]:
    """`secret` as it may appear in a message: raw, escaped as a str, bytes or JSON
    literal (each with and without escaped quotes), and URL-quoted."""
    if not secret:
        return set()
    escaped = {
        repr(secret)[1:-1],
        repr(secret.encode("utf-8", "surrogateescape"))[2:-1],
        secret.encode("unicode_escape").decode("ascii"),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
    }
    # Quoted from its bytes: a value read from the environment may hold undecodable bytes
    # (as lone surrogates), which quoting the str would refuse with an exception.
    raw = secret.encode("utf-8", "surrogateescape")
    found = {secret, quote(raw, safe=""), quote(raw), quote_plus(raw)}
    for text in escaped:
        # Whether a repr escapes ' or " depends on the quotes in the whole text around
        # the secret, so every combination is a possible spelling.
        plain = text.replace("\\'", "'").replace('\\"', '"')
        single, double = plain.replace("'", "\\'"), plain.replace('"', '\\"')
        found |= {text, plain, single, double, single.replace('"', '\\"')}
    return {spelling for spelling in found if spelling}


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every spelling of every secret replaced by ``***``."""
    forms = {form for secret in secrets for form in spellings(secret)}
    for form in sorted(forms, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def basic_credentials(user: str, password: str) -> tuple[str, ...]:
    """The base64 forms a password takes on the wire (SMTP AUTH PLAIN and LOGIN,
    HTTP Basic): a server echoing one back in an error must not show it either."""
    encoded = (f"\0{user}\0{password}", password, f"{user}:{password}")
    return tuple(base64.b64encode(text.encode("utf-8")).decode("ascii") for text in encoded)


def check_secret_text(value: str, variable: str, what: str, *, spaces: bool = False) -> None:
    """Raise ConfigError (naming `variable`, never showing `value`) when `value` holds
    a control character, or whitespace unless `spaces` (a password may hold spaces;
    a key or a URL never does)."""
    for char in value:
        if char == " " and spaces:
            continue
        if char.isspace() or not char.isprintable():
            kind = "a line break" if char in "\r\n" else "whitespace or a control character"
            raise ConfigError(
                f"the environment variable {variable} holds {kind} inside {what} (pasted "
                f"with another line, or two values in one?): set it to {what} alone"
            )


def secret_names(environ: Mapping[str, str], extra: Iterable[str] = ()) -> set[str]:
    """Names of the environment variables whose values must never be shown: those
    whose names say so, the well-known ones, and `extra` (a config's ``env:NAME``)."""
    return {name for name in environ if _SECRET_NAME.search(name)} | set(KNOWN_SECRETS) | set(extra)


def secret_values(environ: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """The values of `names`, and the password of every URL in the environment (a
    database URL under a name of the user's choosing), long enough to mask."""
    values: set[str] = set()
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            values.add(value)
    for value in environ.values():
        if "://" not in value or "@" not in value:
            continue
        _head, _sep, tail = value.strip().partition("://")
        userinfo = tail.rpartition("@")[0]  # to the last @, as the URL reader does
        password = userinfo.partition(":")[2]
        if password:
            values |= {password, unquote(password)}
    return [value for value in values if len(value) >= MIN_SECRET_LENGTH]


class Scrubber:
    """Masks every spelling of a fixed set of secrets, every provider key by its
    prefix, and every URL's password, in one pass per string."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = sorted({form for secret in secrets for form in spellings(secret)}, key=len)
        # The alternatives longest first, so a spelling that holds another is masked
        # whole (an MCP result of 1,000 findings has ~20,000 strings).
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in reversed(forms))) if forms else None
        )

    def text(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        if "_" in text:
            text = KEY_SHAPE.sub(lambda match: match.group("prefix") + MASK, text)
        return scrub_urls(text) if "://" in text else text

    def tree(self, value: Any) -> Any:
        """`value` (JSON-like data) with every string scrubbed, keys included."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.tree(key): self.tree(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.tree(item) for item in value]
        return value


def scrubber_for(
    extra_names: Iterable[str] = (), environ: Mapping[str, str] | None = None
) -> Scrubber:
    """The scrubber for the secrets in `environ` (the process's, by default)."""
    environ = os.environ if environ is None else environ
    values = secret_values(environ, secret_names(environ, extra_names))
    return _scrubber(frozenset(values))


@lru_cache(maxsize=8)
def _scrubber(values: frozenset[str]) -> Scrubber:
    # Compiling the pattern costs a few milliseconds; a listener logs many lines.
    return Scrubber(values)
