"""Settings billdrift gives one statement (a pushed-down plan) on a real PostgreSQL:
they hold for that statement only, and memory is raised, never lowered."""

from __future__ import annotations

from billdrift.infra.db.connect import connect
from billdrift.infra.db.postgres import PostgresConnection
from tests.infra.db.conftest import Database

_SHOW = "SELECT current_setting('jit'), current_setting('work_mem')"


def _with(url: str, memory: str) -> tuple[tuple[object, ...], tuple[object, ...]]:
    """(settings seen by the statement, settings seen by the next one)."""
    with connect(url) as conn:
        assert isinstance(conn, PostgresConnection)
        seen = conn.fetch_with(_SHOW, (("jit", "off"),), (("work_mem", memory),))[0]
        after = conn.fetch(_SHOW)[0]
    return seen, after


def test_a_smaller_server_work_mem_is_raised_for_the_statement_only(pg: Database) -> None:
    url = pg.url + ("&" if "?" in pg.url else "?") + "options=-c%20work_mem%3D4MB"
    seen, after = _with(url, "256MB")
    assert seen == ("off", "256MB")
    assert after[1] == "4MB"


def test_a_larger_server_work_mem_is_kept(pg: Database) -> None:
    url = pg.url + ("&" if "?" in pg.url else "?") + "options=-c%20work_mem%3D1GB"
    seen, after = _with(url, "256MB")
    assert seen == ("off", "1GB")
    assert after[1] == "1GB"
