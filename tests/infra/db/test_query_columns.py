"""The columns a custom query returns, as each server names their types, and the error a
failing query gives: what `app.query` maps its columns from."""

from __future__ import annotations

import pytest

from billdrift.errors import SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.interface import Column
from billdrift.infra.db.mysql import _field_type
from tests.infra.db.conftest import Database

TABLE = (
    "CREATE TABLE users (id VARCHAR(40), has_paid_access BOOLEAN, seats INTEGER, "
    "created TIMESTAMP NULL, price DECIMAL(10, 2))"
)
QUERY = "SELECT id, has_paid_access, seats, created, price FROM users"


def test_mariadb_names_each_column_type_in_lower_case(maria: Database) -> None:
    maria.run(TABLE)
    with connect(maria.url) as con:
        assert con.query_columns(QUERY) == [
            Column("id", "var_string"),
            Column("has_paid_access", "tiny"),  # BOOLEAN is TINYINT(1): the type code's name
            Column("seats", "long"),
            Column("created", "timestamp"),
            Column("price", "newdecimal"),
        ]


def test_postgres_names_each_column_type_as_the_server_does(pg: Database) -> None:
    pg.run(TABLE)
    with connect(pg.url) as con:
        assert con.query_columns(QUERY) == [
            Column("id", "varchar"),
            Column("has_paid_access", "bool"),
            Column("seats", "int4"),
            Column("created", "timestamp"),
            Column("price", "numeric"),
        ]


def test_an_unknown_mysql_type_code_is_named_by_its_number() -> None:
    assert _field_type(1) == "tiny"  # CHAR is an alias of the same code: the first name wins
    assert _field_type(247) == "enum"  # and INTERVAL of ENUM's
    assert _field_type(9999) == "9999"


def test_a_failing_query_names_what_failed_and_where(database: Database) -> None:
    with connect(database.url) as con, pytest.raises(SourceError) as raised:
        con.query_columns("SELECT nope FROM missing_table")
    message = str(raised.value)
    assert message.startswith(f"a query on {database.dialect}://admin:***@")
    assert "missing_table" in message
    assert "adminpw" not in message
