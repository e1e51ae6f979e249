"""Every tool call runs through one guard: results and errors leave scrubbed.

An agent's transcript is stored, shared and sent to a model provider, so a
secret that reaches a tool result has leaked. Secrets stay in the server's
environment and the guard replaces every spelling of them
(:class:`billdrift.infra.secrets.Scrubber`, the one every front-end uses) in
every string of a result and in every error message, and masks any password
left in a URL and any provider key by its prefix. Which values are secret: those
of the variables the configured run reads (``env:NAME`` sources, provider keys,
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
from collections.abc import Callable, Mapping
from typing import TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel

from billdrift.config import Config
from billdrift.infra.db.urls import ENV_PREFIX
from billdrift.infra.failures import describe_failure
from billdrift.infra.secrets import Scrubber, secret_names, secret_values

ShapeT = TypeVar("ShapeT", bound=BaseModel)


def config_secret_names(config: Config | None) -> set[str]:
    """Variables the configured run reads, whatever their names: ``env:NAME`` sources,
    provider keys, alert secrets and the history store's ``env:NAME``."""
    if config is None:
        return set()
    from billdrift.usecases.schedule.secrets import secrets_for

    names = set(secrets_for(config))
    location = config.history.location or ""
    if location.startswith(ENV_PREFIX):
        names.add(location[len(ENV_PREFIX) :])
    return names


def scrubber_for(config: Config | None, environ: Mapping[str, str] | None = None) -> Scrubber:
    environ = os.environ if environ is None else environ
    return Scrubber(secret_values(environ, secret_names(environ, config_secret_names(config))))


def guarded(body: Callable[[], ShapeT], config: Callable[[], Config | None]) -> ShapeT:
    """`body`'s result with every string scrubbed; any failure raised as a ToolError
    whose message is scrubbed. `config` gives the settings the call used (or None when
    they could not be read), to know which variables hold its secrets."""
    try:
        result = body()
    except Exception as error:
        names = config_secret_names(_safely(config))
        raise ToolError(describe_failure(error, secret_names=names)) from None
    clean = scrubber_for(_safely(config)).tree(result.model_dump(mode="json"))
    return type(result).model_validate(clean)


def _safely(config: Callable[[], Config | None]) -> Config | None:
    try:
        return config()
    except Exception:  # a config that does not load: the generic names still apply
        return None
