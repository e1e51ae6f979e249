"""Every tool call runs through one guard: results and errors leave scrubbed.

An agent's transcript is stored, shared and sent to a model provider, so a
secret that reaches a tool result has leaked. Secrets stay in the server's
environment and the guard replaces every spelling of them
(:func:`billdrift.infra.secrets.scrub`) in every string of a result and in
every error message, and masks any password left in a URL
(:func:`~billdrift.infra.db.urls.scrub_urls`). Which values are secret: those of
the variables the configured run reads (``env:NAME`` sources, provider keys,
alert secrets: :func:`billdrift.usecases.schedule.secrets.secrets_for`), the
history store's ``env:NAME``, and any variable whose name says it holds one
(``*KEY*``, ``*SECRET*``, ``*TOKEN*``, ``*PASSWORD*``, ``*DATABASE_URL*``...).

Failures become MCP tool errors (the SDK's ``ToolError``: an ``isError``
result the agent reads) with a clear message, never a crash of the server: a
:class:`~billdrift.errors.BilldriftError` keeps its own message; anything else
is an internal error naming its type. The SDK would log an unexpected
exception with its traceback, locals' text and all, so none reaches it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, TypeVar
from urllib.parse import unquote, urlsplit

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from billdrift.config import Config
from billdrift.errors import BilldriftError
from billdrift.infra.db.urls import ENV_PREFIX, scrub_urls
from billdrift.infra.secrets import MASK, spellings

ShapeT = TypeVar("ShapeT", bound=BaseModel)

#: A variable whose name holds one of these words holds a secret.
_SECRET_NAME: Final = re.compile(
    r"KEY|SECRET|TOKEN|PASSW|CREDENTIAL|DSN|DATABASE_URL|WEBHOOK", re.IGNORECASE
)
#: Shorter values are not masked by value (a 1 or a "true" would be masked everywhere);
#: a short password inside a URL is still masked by :func:`scrub_urls`.
MIN_SECRET_LENGTH: Final = 8
#: Always read as secrets when set, whatever the config says.
KNOWN_SECRETS: Final = ("STRIPE_API_KEY", "STRIPE_SECRET_KEY", "PADDLE_API_KEY", "DATABASE_URL")


def secret_names(environ: Mapping[str, str], config: Config | None) -> set[str]:
    """Names of the environment variables whose values must never be shown."""
    names = {name for name in environ if _SECRET_NAME.search(name)} | set(KNOWN_SECRETS)
    if config is not None:
        from billdrift.usecases.schedule.secrets import secrets_for

        names |= set(secrets_for(config))
        location = config.history.location or ""
        if location.startswith(ENV_PREFIX):
            names.add(location[len(ENV_PREFIX) :])
    return names


def secret_values(environ: Mapping[str, str], names: Iterable[str]) -> list[str]:
    """The values of `names` (and the password of a URL among them) long enough to mask."""
    values: set[str] = set()
    for name in names:
        value = environ.get(name, "").strip()
        if not value:
            continue
        values.add(value)
        try:
            password = urlsplit(value).password
        except ValueError:
            password = None
        if password:
            values |= {password, unquote(password)}
    return [value for value in values if len(value) >= MIN_SECRET_LENGTH]


class Scrubber:
    """Replaces every spelling of a fixed set of secrets (computed once per call)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = sorted({form for secret in secrets for form in spellings(secret)}, key=len)
        # One pass per string: the alternatives longest first, so a spelling that holds
        # another is masked whole (a result of 1,000 findings has ~20,000 strings).
        self._pattern = (
            re.compile("|".join(re.escape(form) for form in reversed(forms))) if forms else None
        )

    def text(self, text: str) -> str:
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
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


def scrubber_for(config: Config | None, environ: Mapping[str, str] | None = None) -> Scrubber:
    environ = os.environ if environ is None else environ
    return Scrubber(secret_values(environ, secret_names(environ, config)))


def describe(error: BaseException) -> str:
    """What the agent is told: an expected failure's own message, else an internal error."""
    if isinstance(error, BilldriftError):
        return str(error)
    return f"internal error: {type(error).__name__}: {error}"


def guarded(body: Callable[[], ShapeT], config: Callable[[], Config | None]) -> ShapeT:
    """`body`'s result with every string scrubbed; any failure raised as a ToolError
    whose message is scrubbed. `config` gives the settings the call used (or None when
    they could not be read), to know which variables hold its secrets."""
    try:
        result = body()
    except Exception as error:
        message = scrubber_for(_safely(config)).text(describe(error))
        raise ToolError(message) from None
    clean = scrubber_for(_safely(config)).tree(result.model_dump(mode="json"))
    return type(result).model_validate(clean)


def _safely(config: Callable[[], Config | None]) -> Config | None:
    try:
        return config()
    except Exception:  # a config that does not load: the generic names still apply
        return None
