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
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Final
from urllib.parse import quote, quote_plus

from billdrift.errors import ConfigError

#: What a secret is replaced with.
MASK: Final = "***"


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
