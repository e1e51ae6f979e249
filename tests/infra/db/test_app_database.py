"""The live-database app source against real PostgreSQL and MariaDB servers."""

from __future__ import annotations

import pytest

from billdrift.config import AppColumns, AppConfig
from billdrift.core.model import AppData
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.db.connect import connect
from billdrift.sources.registry import open_app
from tests.infra.db.conftest import Database

USERS = (
    "CREATE TABLE users (id VARCHAR(40), email VARCHAR(200), stripe_customer_id VARCHAR(40), "
    "has_paid_access BOOLEAN, plan VARCHAR(20))"
)


def read(url: str, **options: object) -> AppData:
    return open_app(url, AppConfig.model_validate(options)).read()


def accounts(data: AppData) -> list[tuple[object, ...]]:
    rows = data.accounts.to_pylist()
    return sorted((r["account_id"], r["customer_id"], r["email"], r["plan"]) for r in rows)


def primary(data: AppData) -> dict[str, tuple[object, object]]:
    return {
        row["account_id"]: (row["raw"], row["flag"])
        for row in data.signals.to_pylist()
        if row["is_primary"]
    }


def test_a_table_is_found_mapped_and_read(database: Database) -> None:
    database.run(
        USERS,
        "INSERT INTO users VALUES ('a1', 'ann@example.com', 'cus_1', TRUE, 'pro'), "
        "(' a2 ', '', '', FALSE, NULL), ('a3', NULL, NULL, NULL, 'free')",
    )
    data = read(database.url)

    assert accounts(data) == [
        ("a1", "cus_1", "ann@example.com", "pro"),
        ("a2", None, None, None),  # ids trimmed, blank text is NULL
        ("a3", None, None, "free"),
    ]
    raw_true = "true" if database.dialect == "postgresql" else "1"
    raw_false = "false" if database.dialect == "postgresql" else "0"
    assert primary(data) == {"a1": (raw_true, True), "a2": (raw_false, False), "a3": (None, None)}
    assert data.skips == ()
    assert "only table that looks like accounts" in " ".join(data.notes)
    assert "3 rows, 3 accounts, 0 skipped" in data.description
    assert "adminpw" not in data.description + " ".join(data.notes)


def test_schema_qualified_table_and_awkward_names_are_quoted(pg: Database) -> None:
    pg.run(
        'CREATE SCHEMA "App Data"',
        'CREATE TABLE "App Data"."Users; DROP TABLE x" ("Account ID" text, '
        '"has ""paid"" access" boolean, "Stripe Customer" text)',
        """INSERT INTO "App Data"."Users; DROP TABLE x" VALUES ('u1', TRUE, 'cus_9')""",
    )
    data = read(
        pg.url,
        table="App Data.Users; DROP TABLE x",
        columns={"account_id": "Account ID", "customer_id": "Stripe Customer"},
        access_fields=['has "paid" access'],
    )
    assert accounts(data) == [("u1", "cus_9", None, None)]
    assert data.accounts.column("source_ref").to_pylist() == [
        "App Data.Users; DROP TABLE x Account ID=u1"
    ]


def test_custom_query_across_tables_reads_every_access_field(database: Database) -> None:
    """A workspace billed as one customer: the flag in one table, the plan in another."""
    database.run(
        "CREATE TABLE workspaces (id VARCHAR(10), stripe_customer_id VARCHAR(20), "
        "access_enabled BOOLEAN)",
        "CREATE TABLE billing_state (workspace_id VARCHAR(10), plan VARCHAR(10), "
        "subscription_status VARCHAR(20))",
        "INSERT INTO workspaces VALUES ('w1', 'cus_1', TRUE), ('w2', 'cus_2', TRUE)",
        "INSERT INTO billing_state VALUES ('w1', 'team', 'Active'), ('w2', 'pro', 'canceled')",
    )
    query = (
        "SELECT w.id, w.stripe_customer_id, w.access_enabled, b.plan, b.subscription_status "
        "FROM workspaces w JOIN billing_state b ON b.workspace_id = w.id"
    )
    data = read(database.reader_url(), query=query)

    assert accounts(data) == [("w1", "cus_1", None, "team"), ("w2", "cus_2", None, "pro")]
    signals = sorted(
        (r["account_id"], r["field"], r["raw"], r["is_primary"]) for r in data.signals.to_pylist()
    )
    truth = "true" if database.dialect == "postgresql" else "1"
    assert signals == [
        ("w1", "access_enabled", truth, True),
        ("w1", "subscription_status", "active", False),
        ("w2", "access_enabled", truth, True),
        ("w2", "subscription_status", "canceled", False),
    ]


def test_a_write_through_the_tools_connection_fails(database: Database) -> None:
    database.run(USERS)
    with connect(database.url) as con:
        assert con.read_only()
        with pytest.raises(SourceError, match=r"(?i)read[- ]only"):
            con.fetch("INSERT INTO users (id) VALUES ('x')")
    assert database.execute("SELECT count(*) FROM users") == [(0,)]


def test_a_custom_query_that_writes_through_a_function_fails(pg: Database) -> None:
    pg.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)",
        "CREATE TABLE audit (n int)",
        "CREATE FUNCTION sneaky() RETURNS int LANGUAGE sql AS "
        "'INSERT INTO audit VALUES (1); SELECT 1'",
    )
    with pytest.raises(SourceError, match="read-only transaction"):
        read(
            pg.url,  # the admin, so only the read-only transaction stands in the way
            query="SELECT id, has_paid_access, sneaky() AS n FROM users",
            allow_writable_role=True,
        )
    assert pg.execute("SELECT count(*) FROM audit") == [(0,)]


_LARGE_OBJECT_QUERY = (
    "SELECT id, stripe_customer_id, has_paid_access, lo_from_bytea(0, 'x'::bytea) AS made, "
    "(SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata) AS dropped FROM users"
)


@pytest.mark.parametrize("as_admin", [False, True])
def test_large_object_writes_in_a_custom_query_are_rolled_back(
    pg: Database, as_admin: bool
) -> None:
    """lo_from_bytea and lo_unlink run even in a read-only transaction on PostgreSQL;
    every statement billdrift runs is rolled back, so nothing they did remains."""
    pg.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)",
        "SELECT lo_from_bytea(4242, 'kept'::bytea)",
    )
    url = pg.url if as_admin else pg.reader_url()
    if not as_admin:  # the reader owns no large object: lo_unlink of 4242 is refused
        query = _LARGE_OBJECT_QUERY.replace(
            "(SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata)", "0"
        )
    else:
        query = _LARGE_OBJECT_QUERY
    data = read(url, query=query, allow_writable_role=as_admin)
    assert accounts(data) == [("a1", "cus_1", None, None)]
    assert pg.execute("SELECT oid::bigint FROM pg_largeobject_metadata") == [(4242,)]
    with connect(url) as con:
        audit = " ".join(con.write_access(["users"]))
    assert ("large objects: the 1 it owns" in audit) is as_admin


def test_a_custom_query_is_refused_for_a_superuser_unless_allowed(pg: Database) -> None:
    pg.run(USERS, "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)")
    query = "SELECT id, stripe_customer_id, has_paid_access FROM users"
    with pytest.raises(SourceError, match=r"refusing app\.query.*superuser.*allow_writable_role"):
        read(pg.url, query=query)
    assert accounts(read(pg.url, query=query, allow_writable_role=True)) == [
        ("a1", "cus_1", None, None)
    ]
    assert accounts(read(pg.reader_url(), query=query)) == [("a1", "cus_1", None, None)]
    assert accounts(read(pg.url, table="users")) == [("a1", "cus_1", None, None)]  # no query


def test_a_custom_query_is_refused_where_dblink_can_write_elsewhere(pg: Database) -> None:
    """dblink_exec writes through a second connection that no transaction of
    billdrift's covers: the probe's write went through; now the query never runs."""
    pg.run(USERS, "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)")
    pg.run("CREATE EXTENSION dblink", "CREATE TABLE pwned (x int)")
    reader = pg.reader_url()
    sneaky = (
        "SELECT id, has_paid_access, dblink_exec("
        f"'{pg.url}', 'INSERT INTO pwned VALUES (1)') AS n FROM users"
    )
    with pytest.raises(SourceError, match="dblink") as refused:
        read(reader, query=sneaky)
    assert "adminpw" not in str(refused.value) and "readerpw" not in str(refused.value)
    assert pg.execute("SELECT count(*) FROM pwned") == [(0,)]
    with connect(reader) as con:
        audit = " ".join(con.write_access(["users"]))
    assert "dblink" in audit


def test_a_custom_query_that_writes_through_a_function_fails_on_mariadb(maria: Database) -> None:
    maria.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)",
        "CREATE TABLE audit (n int)",
        "CREATE FUNCTION sneaky() RETURNS int MODIFIES SQL DATA "
        "BEGIN INSERT INTO audit VALUES (1); RETURN 1; END",
    )
    with pytest.raises(SourceError, match="READ ONLY"):
        read(maria.url, query="SELECT id, has_paid_access, sneaky() AS n FROM users")
    assert maria.execute("SELECT count(*) FROM audit") == [(0,)]


def test_a_query_that_is_not_a_select_is_refused(database: Database) -> None:
    database.run(USERS)
    with pytest.raises(ConfigError, match="one read-only SELECT"):
        read(database.url, query="DELETE FROM users")


def test_credentials_that_can_write_get_a_warning_with_role_sql(database: Database) -> None:
    database.run(USERS, "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)")
    notes = " ".join(read(database.url).notes)
    assert "could write" in notes
    expected = (
        "CREATE ROLE billdrift_readonly"
        if database.dialect == "postgresql"
        else ("CREATE USER 'billdrift_readonly'")
    )
    assert expected in notes and "GRANT SELECT ON" in notes


def test_a_read_only_role_gets_no_warning(pg: Database) -> None:
    role = f"ro_{pg.name}"
    pg.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)",
        f"CREATE ROLE {role} LOGIN PASSWORD 'ropw'",
        f"GRANT SELECT ON users TO {role}",
    )
    data = read(pg.url_as(role, "ropw"), table="users")
    assert accounts(data) == [("a1", "cus_1", None, None)]
    assert not any("could write" in note for note in data.notes)


def test_a_read_only_mariadb_user_gets_no_warning(maria: Database) -> None:
    user = f"ro_{maria.name}"
    maria.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)",
        f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'ropw'",
        f"GRANT SELECT ON {maria.name}.users TO '{user}'@'127.0.0.1'",
    )
    data = read(maria.url_as(user, "ropw"), table="users")
    assert accounts(data) == [("a1", "cus_1", None, None)]
    assert not any("could write" in note for note in data.notes)


def test_wrong_password_is_a_source_error_without_the_password(database: Database) -> None:
    with pytest.raises(SourceError) as caught:
        read(database.url_as("admin", "Wr0ngPassw0rd"))
    message = str(caught.value)
    assert "check the user name and password" in message
    assert "Wr0ngPassw0rd" not in message and "***" in message


def test_refused_connection_names_the_host_and_hints(database: Database) -> None:
    from tests.dbservers import free_port

    url = database.url.replace(f":{database.server.port}/", f":{free_port()}/")
    with pytest.raises(SourceError, match="is the server running") as caught:
        read(url)
    assert "adminpw" not in str(caught.value)


def test_missing_table_lists_the_tables(database: Database) -> None:
    database.run(USERS)
    with pytest.raises(ConfigError, match=r"app.table 'customers' does not exist.*users"):
        read(database.url, table="customers")


def test_missing_mapped_column_is_named(database: Database) -> None:
    database.run(USERS)
    with pytest.raises((ConfigError, SourceError), match="paid_flag"):
        read(database.url, table="users", access_fields=["paid_flag"])


def test_a_column_of_the_wrong_type_skips_rows_naming_the_field(database: Database) -> None:
    """A timestamp mapped as the access flag cannot be read as a boolean: say so per row."""
    database.run(
        "CREATE TABLE users (id VARCHAR(10), stripe_customer_id VARCHAR(10), paid_at TIMESTAMP "
        "NULL)",
        "INSERT INTO users VALUES ('a1', 'cus_1', '2024-05-01 10:00:00'), ('a2', 'cus_2', NULL)",
    )
    data = read(database.url, table="users", access_fields=["paid_at"])
    assert [row["account_id"] for row in data.accounts.to_pylist()] == ["a2"]
    (skip,) = data.skips
    assert skip.location == "id=a1" and skip.field == "paid_at"
    assert "2024-05-01" in skip.reason and "not a recognized boolean" in skip.reason
    assert skip.customer_id == "cus_1"


@pytest.mark.parametrize("how", ["table", "query"])
def test_duplicate_ids_from_a_query_are_all_skipped(database: Database, how: str) -> None:
    """The rule every app source follows (tests/sources/app/test_repeats.py)."""
    database.run(
        USERS,
        "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL), "
        "('a1', NULL, 'cus_9', FALSE, NULL), ('a2', NULL, 'cus_2', TRUE, NULL), "
        "(NULL, NULL, 'cus_3', TRUE, NULL)",
    )
    if how == "table":
        data = read(database.url, table="users")
    else:
        query = "SELECT id, stripe_customer_id, has_paid_access FROM users"
        data = read(database.url, query=query, allow_writable_role=True)
    assert accounts(data) == [("a2", "cus_2", None, None)]
    by_id = sorted(
        (s.location, s.customer_id, s.reason.split(";")[0])
        for s in data.skips
        if s.location != "row 4"
    )
    assert by_id == [
        ("id=a1", "cus_1", "account id 'a1' appears 2 times"),
        ("id=a1", "cus_9", "account id 'a1' appears 2 times"),
    ]
    (empty,) = [s for s in data.skips if s.reason == "the account id is empty"]
    assert empty.customer_id == "cus_3" and empty.location.startswith("row ")


def test_text_that_is_not_utf8_is_a_skip_not_a_crash(maria: Database) -> None:
    maria.run(
        "CREATE TABLE users (id VARCHAR(10), stripe_customer_id VARBINARY(20), "
        "has_paid_access BOOLEAN)",
        "INSERT INTO users VALUES ('a1', 'cus_1', 1), ('a2', X'637573FF32', 1)",
    )
    data = read(maria.url, table="users", columns={"customer_id": "stripe_customer_id"})
    assert accounts(data) == [("a1", "cus_1", None, None)]
    (skip,) = data.skips
    assert skip.location == "id=a2" and "not valid UTF-8" in skip.reason


def test_env_reference_reads_the_url_from_the_environment(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    database.run(USERS, "INSERT INTO users VALUES ('a1', NULL, 'cus_1', TRUE, NULL)")
    monkeypatch.setenv("BILLDRIFT_TEST_APP_DB", database.url)
    data = read("env:BILLDRIFT_TEST_APP_DB")
    assert accounts(data) == [("a1", "cus_1", None, None)]
    assert data.description.startswith("env:BILLDRIFT_TEST_APP_DB (")
    assert "adminpw" not in data.description


def test_explicit_columns_override_detection(pg: Database) -> None:
    pg.run(
        "CREATE TABLE members (member_key text, billing_ref text, is_pro boolean, "
        "stripe_customer_id text)",
        "INSERT INTO members VALUES ('m1', 'cus_real', TRUE, 'cus_decoy')",
    )
    data = read(
        pg.url,
        table="members",
        columns=AppColumns(account_id="member_key", customer_id="billing_ref").model_dump(),
    )
    assert accounts(data) == [("m1", "cus_real", None, None)]


def test_invalid_utf8_through_a_custom_query_is_a_skip_too(maria: Database) -> None:
    maria.run(
        "CREATE TABLE users (id VARCHAR(10), ref VARBINARY(20), has_paid_access BOOLEAN)",
        "INSERT INTO users VALUES ('a1', 'cus_1', 1), ('a2', X'637573FF32', 1)",
    )
    query = "SELECT id, ref AS stripe_customer_id, has_paid_access FROM users"
    data = read(maria.url, query=query)
    assert accounts(data) == [("a1", "cus_1", None, None)]
    assert [s.location for s in data.skips] == ["id=a2"]
