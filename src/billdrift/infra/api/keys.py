"""API keys come from the environment only: never a file, never a flag's value in `ps`.

A key is sent in an HTTP header, so it must be printable ASCII without spaces.
Anything else (a line break from pasting, two keys in one variable, a curly
quote) would fail in the HTTP library with an error that quotes the header,
key and all; it is refused here instead, naming the variable and not the key.
Surrounding whitespace (a trailing newline from ``echo`` or a file) is trimmed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from billdrift.errors import ConfigError
from billdrift.infra.secrets import check_secret_text


def key_from_env(
    names: Sequence[str], environ: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """(variable name, key) from the first of `names` that is set and not blank.

    Raises ConfigError naming the variable when the key holds whitespace, control
    or non-ASCII characters (the key itself is never shown).
    """
    env = os.environ if environ is None else environ
    for name in names:
        value = env.get(name, "").strip()
        if value:
            check_secret_text(value, name, "the API key")
            if not value.isascii():
                raise ConfigError(
                    f"the environment variable {name} holds a character that is not plain "
                    "ASCII (a typographic quote or dash from pasting?): API keys are ASCII; "
                    "set it to the key alone"
                )
            return name, value
    return None
