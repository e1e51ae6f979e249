"""The deadline ``fix apply`` sets on its write session, per server flavour.

MySQL bounds UPDATEs only through InnoDB's lock wait (``max_execution_time`` is for
SELECTs), MariaDB every statement through ``max_statement_time``. Only MariaDB runs
here, so MySQL's statements are checked as chosen, MariaDB's also as the server
holds them."""

from __future__ import annotations

import pytest

from billdrift.infra.db.writable import deadline_statements, transaction, writable_url
from tests.infra.db.conftest import Database


@pytest.mark.parametrize("version", ["8.0.36", "8.4.3-commercial", "9.1.0"])
def test_mysql_bounds_updates_by_the_lock_wait_and_selects_by_execution_time(
    version: str,
) -> None:
    assert deadline_statements("mysql", version, 2.5) == [
        "SET SESSION max_execution_time = 2500",
        "SET SESSION innodb_lock_wait_timeout = 3",  # whole seconds, rounded up
    ]


def test_mariadb_bounds_every_statement_and_the_lock_wait() -> None:
    assert deadline_statements("mysql", "10.11.6-MariaDB-0+deb12u1", 2.5) == [
        "SET SESSION max_statement_time = 2.5",
        "SET SESSION innodb_lock_wait_timeout = 3",
    ]


def test_a_lock_wait_under_a_second_is_one_second_and_other_dialects() -> None:
    assert deadline_statements("mysql", "8.0.36", 0.2)[-1] == (
        "SET SESSION innodb_lock_wait_timeout = 1"
    )
    assert deadline_statements("postgresql", "", 2.5) == ["SET statement_timeout = 2500"]
    assert deadline_statements("sqlite", "", 2.5) == []  # a progress handler instead


def test_a_mariadb_write_session_holds_both_limits(maria: Database) -> None:
    with transaction(writable_url(maria.url), statement_seconds=7) as session:
        session.execute("SELECT @@session.max_statement_time, @@session.innodb_lock_wait_timeout")
        row = session.cursor.fetchone()
    assert (float(row[0]), int(row[1])) == (7.0, 7)
