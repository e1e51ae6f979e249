"""The one place database dialects are registered and connections opened."""

from __future__ import annotations

from billdrift.errors import ConfigError
from billdrift.infra.db.deadline import Deadline
from billdrift.infra.db.interface import ReadOnlyConnection
from billdrift.infra.db.urls import DatabaseUrl, resolve


def connect(location: str | DatabaseUrl, deadline: Deadline | None = None) -> ReadOnlyConnection:
    """A read-only connection for a URL or ``env:NAME``, bounded by `deadline` (made
    by :func:`~billdrift.infra.db.deadline.bounded`; without one, only the drivers'
    own limits apply). Drivers load on first use, so a run that reads only files never
    imports them."""
    url = location if isinstance(location, DatabaseUrl) else resolve(location)
    if url.dialect == "postgresql":
        from billdrift.infra.db.postgres import PostgresConnection

        return PostgresConnection(url, deadline)
    if url.dialect == "mysql":
        from billdrift.infra.db.mysql import MySqlConnection

        return MySqlConnection(url, deadline)
    raise ConfigError(f"{url.shown}: no live-database reader for {url.dialect} URLs here")
