"""A session the server does not confirm as read-only is refused, on real servers.

The tests elsewhere only ever meet sessions that *are* read-only, so a confirmation
that always said yes, or was never asked, would pass them all. Here each server is made
to answer the confirmation honestly with "no":

- MariaDB: the session characteristic is switched back to READ WRITE on the tool's own
  connection, which is what a server ignoring ``SET SESSION TRANSACTION READ ONLY``
  (or a proxy replaying another session) looks like.
- PostgreSQL: inside ``BEGIN TRANSACTION READ ONLY`` a real PostgreSQL always reports
  ``on``; what the confirmation guards against is a server or proxy that does not
  honour it. A login whose ``search_path`` puts a schema with its own
  ``current_setting`` ahead of ``pg_catalog`` answers ``off`` exactly like such a
  server, on the real wire protocol.
"""

from __future__ import annotations

import pytest

from billdrift.errors import SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.mysql import MySqlConnection
from tests.dbservers import ADMIN_USER
from tests.infra.db.conftest import Database

#: A `current_setting` that reports every transaction as writable and defers the rest.
_LYING_SETTING = (
    "CREATE FUNCTION liar.current_setting(name text) RETURNS text LANGUAGE sql AS $$ "
    "SELECT CASE WHEN name = 'transaction_read_only' THEN 'off' "
    "ELSE pg_catalog.current_setting(name) END $$"
)


def _lying_postgres(pg: Database) -> str:
    """A login on `pg` whose server reports ``transaction_read_only = off``."""
    pg.run(
        "CREATE SCHEMA liar",
        _LYING_SETTING,
        f"ALTER ROLE {ADMIN_USER} IN DATABASE {pg.name} SET search_path = liar, pg_catalog, public",
    )
    return pg.url


def test_postgres_refuses_a_session_the_server_does_not_confirm(pg: Database) -> None:
    url = _lying_postgres(pg)
    with pytest.raises(SourceError) as raised:
        connect(url)
    message = str(raised.value)
    assert message.startswith("opening a read-only session on postgresql://admin:***@")
    assert message.endswith("failed: not read-only")
    assert "adminpw" not in message


def test_postgres_confirms_an_ordinary_session(pg: Database) -> None:
    """The other side: the same database without the lying function is accepted."""
    with connect(pg.url) as con:
        assert con.read_only() is True


def test_mariadb_reports_a_writable_session_as_not_read_only(maria: Database) -> None:
    with connect(maria.url) as con:
        assert isinstance(con, MySqlConnection)
        assert con.read_only() is True
        with con._con.cursor() as cursor:  # what a server ignoring the session setting does
            cursor.execute("SET SESSION TRANSACTION READ WRITE")
        assert con.read_only() is False
