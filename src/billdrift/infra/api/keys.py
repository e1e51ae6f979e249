"""API keys come from the environment only: never a file, never a flag's value in `ps`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence


def key_from_env(
    names: Sequence[str], environ: Mapping[str, str] | None = None
) -> tuple[str, str] | None:
    """(variable name, key) from the first of `names` that is set and not blank."""
    env = os.environ if environ is None else environ
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None
