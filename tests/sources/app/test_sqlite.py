"""SqliteAppSource on real database files: mapping, queries, read-only, quoting, typing."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from billdrift.config import AppConfig
from billdrift.core.model import APP_ACCESS_SIGNALS
from billdrift.errors import ConfigError, SourceError
from billdrift.sources.app.booleans import ACCEPTED
from billdrift.sources.app.read_only_query import check_read_only_query
from billdrift.sources.app.sqlite import (
    SqliteAppSource,
    connect_read_only,
    database_path,
)
from tests.sources.app.helpers import LOCATED, accounts, make_db, read_db, signals, skips

USERS_DDL = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, email TEXT, stripe_customer_id TEXT,
    has_paid_access BOOLEAN, plan TEXT, subscription_status TEXT
);
CREATE TABLE audit_log (id INTEGER PRIMARY KEY, message TEXT);
"""
USERS_ROWS: list[tuple[object, ...]] = [
    (1, "Ann@Example.com", "cus_1", 1, "pro", "active"),
    (2, "bob@example.com", None, 0, "free", None),
    (3, None, " cus_3 ", "t", "pro", " Past_Due "),
]


@pytest.fixture
def app_db(tmp_path: Path) -> Path:
    return make_db(tmp_path / "app.db", USERS_DDL, {"users": USERS_ROWS})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_table_becomes_canonical_relations(app_db: Path) -> None:
    data = read_db(app_db, table="users")
    assert data.accounts.schema == LOCATED
    assert data.signals.schema == APP_ACCESS_SIGNALS
    assert accounts(data, "account_id", "customer_id", "email", "plan", "source_ref") == [
        ("1", "cus_1", "Ann@Example.com", "pro", "app.db:users rowid=1"),
        ("2", None, "bob@example.com", "free", "app.db:users rowid=2"),
        ("3", "cus_3", None, "pro", "app.db:users rowid=3"),
    ]
    assert signals(data) == [
        ("1", "has_paid_access", "flag", "1", True, True),
        ("2", "has_paid_access", "flag", "0", False, True),
        ("3", "has_paid_access", "flag", "t", True, True),
        ("1", "subscription_status", "status", "active", None, False),
        ("2", "subscription_status", "status", None, None, False),
        ("3", "subscription_status", "status", "past_due", None, False),
    ]
    assert data.skips == ()
    assert data.mapping["customer_id"] == "stripe_customer_id"
    assert data.description == "app.db (SQLite, users): 3 rows, 3 accounts, 0 skipped"
    assert data.notes[0].startswith("app.db (users): auto-detected columns: account_id <- id;")


def test_the_only_accounts_like_table_is_picked_with_a_note(app_db: Path) -> None:
    data = read_db(app_db)
    assert data.accounts.num_rows == 3
    assert data.notes[0] == (
        "app.db: no app.table given; using table 'users', the only table that looks like accounts"
    )


def test_several_candidate_tables_need_app_table(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "app.db",
        "CREATE TABLE users (id, is_pro); CREATE TABLE workspaces (workspace_id, plan_status);",
        {},
    )
    with pytest.raises(ConfigError) as error:
        read_db(path)
    assert "'users', 'workspaces'" in str(error.value)
    assert "--app-table" in str(error.value)


def test_no_candidate_table_is_a_source_error(tmp_path: Path) -> None:
    path = make_db(tmp_path / "app.db", "CREATE TABLE notes (id, body);", {})
    with pytest.raises(SourceError, match=r"no table in app.db looks like app accounts.*'notes'"):
        read_db(path)


def test_custom_query_is_detected_and_mapped(app_db: Path) -> None:
    data = read_db(
        app_db,
        query="""
            -- paying users only
            SELECT u.id AS user_id, u.email, u.has_paid_access AS is_paid
            FROM users AS u WHERE u.plan = 'pro' ORDER BY u.id DESC;
        """,
    )
    assert accounts(data, "account_id", "email", "source_ref") == [
        ("3", None, "app.db:query row 1"),
        ("1", "Ann@Example.com", "app.db:query row 2"),
    ]
    assert [row[1:5] for row in signals(data)] == [
        ("is_paid", "flag", "t", True),
        ("is_paid", "flag", "1", True),
    ]


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM users",
        "UPDATE users SET has_paid_access = 1",
        "INSERT INTO users (id) VALUES (99)",
        "DROP TABLE users",
        "ATTACH DATABASE 'x.db' AS x",
        "PRAGMA query_only = OFF",
        "SELECT 1 AS id, 1 AS paid; DELETE FROM users",
        "WITH x AS (SELECT 1) DELETE FROM users",
    ],
)
def test_a_custom_query_cannot_write(app_db: Path, query: str) -> None:
    before = digest(app_db)
    with pytest.raises(ConfigError):
        read_db(app_db, query=query)
    assert digest(app_db) == before
    assert len(read_db(app_db, table="users").accounts) == 3


def test_the_connection_itself_is_read_only(app_db: Path) -> None:
    before = digest(app_db)
    con = connect_read_only(app_db)
    try:
        assert con.execute("PRAGMA query_only").fetchall() == [(1,)]
        for statement in (
            "INSERT INTO users (id) VALUES (99)",
            "UPDATE users SET has_paid_access = 1",
            "WITH x AS (SELECT 1) DELETE FROM users",
            "CREATE TABLE evil (x)",
        ):
            with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
                con.execute(statement)
    finally:
        con.close()
    assert digest(app_db) == before


def test_check_read_only_query() -> None:
    assert check_read_only_query("  select 1;  ") == "select 1"
    assert check_read_only_query("/* hi */ WITH a AS (SELECT 1) SELECT * FROM a") != ""
    with pytest.raises(ConfigError, match=r"got 'UPDATE'"):
        check_read_only_query("-- comment\nUPDATE users SET x = 1")


def test_identifiers_are_quoted_never_pasted(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "app.db",
        """
        CREATE TABLE "we""ird" ("user""id" TEXT, "is pro" INTEGER);
        CREATE TABLE "users; DROP TABLE x" (id TEXT, paid TEXT);
        CREATE TABLE x (id TEXT);
        """,
        {'"we""ird"': [("u1", 1)], '"users; DROP TABLE x"': [("a", "yes")]},
    )
    weird = read_db(
        path, table='we"ird', columns={"account_id": 'user"id'}, access_fields=("is pro",)
    )
    assert accounts(weird, "account_id", "source_ref") == [("u1", 'app.db:we"ird rowid=1')]
    assert signals(weird) == [("u1", "is pro", "flag", "1", True, True)]
    hostile = read_db(path, table="users; DROP TABLE x")
    assert accounts(hostile, "account_id") == [("a",)]
    con = sqlite3.connect(path)
    assert con.execute("SELECT count(*) FROM x").fetchall() == [(0,)]
    con.close()


def test_schema_prefix_and_views(app_db: Path) -> None:
    con = sqlite3.connect(app_db)
    con.execute("CREATE VIEW paying AS SELECT id, has_paid_access FROM users WHERE id > 1")
    con.commit()
    con.close()
    assert len(read_db(app_db, table="main.users").accounts) == 3
    view = read_db(app_db, table="paying")
    # A view has no rowid: rows are labelled by position.
    assert accounts(view, "account_id", "source_ref") == [
        ("2", "app.db:paying row 1"),
        ("3", "app.db:paying row 2"),
    ]


def test_missing_table_and_column_are_named(app_db: Path) -> None:
    with pytest.raises(ConfigError) as error:
        read_db(app_db, table="accounts")
    assert "app.table 'accounts' does not exist in app.db" in str(error.value)
    assert "'audit_log', 'users'" in str(error.value)
    with pytest.raises(ConfigError, match=r"app.columns.email names column 'mail'"):
        read_db(app_db, table="users", columns={"email": "mail"})
    with pytest.raises(ConfigError, match=r"no such table: nope"):
        read_db(app_db, query="SELECT * FROM nope")


def test_mixed_types_follow_the_boolean_rules(tmp_path: Path) -> None:
    values: list[object] = [1, 0, "t", "false", " YES ", None, "", 1.0, 2, "maybe", b"\x01"]
    path = make_db(
        tmp_path / "app.db",
        "CREATE TABLE users (id TEXT, paid);",
        {"users": [(f"a{index}", value) for index, value in enumerate(values)]},
    )
    data = read_db(path)
    assert [(row[0], row[3], row[4]) for row in signals(data)] == [
        ("a0", "1", True),
        ("a1", "0", False),
        ("a2", "t", True),
        ("a3", "false", False),
        ("a4", " YES ", True),
        ("a5", None, None),
        ("a6", "", None),
        ("a7", "1", True),
    ]
    assert skips(data) == [
        ("row id=a8", "paid", f"2 in 'paid' is not a recognized boolean; accepted: {ACCEPTED}"),
        (
            "row id=a9",
            "paid",
            f"'maybe' in 'paid' is not a recognized boolean; accepted: {ACCEPTED}",
        ),
        (
            "row id=a10",
            "paid",
            f"b'\\x01' in 'paid' is not a recognized boolean; accepted: {ACCEPTED}",
        ),
    ]


def test_empty_and_duplicate_ids_are_skipped(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "app.db",
        "CREATE TABLE users (id TEXT, paid INTEGER);",
        {"users": [("a", 1), (" ", 1), ("b", 0), ("a", 0), (None, 1), (" b ", 1)]},
    )
    data = read_db(path)
    assert accounts(data, "account_id", "source_ref") == []
    every = "every copy is skipped, since which one holds cannot be told"
    a_twice = f"account id 'a' appears 2 times (rowid=1, rowid=4); {every}"
    b_twice = f"account id 'b' appears 2 times (rowid=3, rowid=6); {every}"
    assert skips(data) == [
        ("row rowid=1", "id", a_twice),
        ("row rowid=2", "id", "the account id is empty"),
        ("row rowid=3", "id", b_twice),
        ("row rowid=4", "id", a_twice),
        ("row rowid=5", "id", "the account id is empty"),
        ("row rowid=6", "id", b_twice),
    ]


def test_duplicates_from_a_query_are_all_skipped(app_db: Path) -> None:
    data = read_db(
        app_db,
        query="SELECT 'x' AS id, has_paid_access FROM users ORDER BY id",
    )
    assert accounts(data, "account_id", "source_ref") == []
    assert [location for location, _, _ in skips(data)] == ["row 1", "row 2", "row 3"]
    assert data.skips[0].reason.startswith("account id 'x' appears 3 times (row 1, row 2, row 3);")


def test_duplicates_across_fetch_batches(tmp_path: Path) -> None:
    rows = [(str(index), index % 2) for index in range(70_000)]
    rows.append(("5", 1))  # a duplicate in the second batch of the first batch's id
    path = make_db(
        tmp_path / "app.db", "CREATE TABLE users (id TEXT, paid INTEGER);", {"users": rows}
    )
    data = read_db(path)
    assert data.accounts.num_rows == 69_999
    assert [location for location, _, _ in skips(data)] == ["row rowid=6", "row rowid=70001"]
    assert "appears 2 times (rowid=6, rowid=70001)" in data.skips[0].reason


def test_file_problems(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"SQLite database not found"):
        read_db(tmp_path / "missing.db")
    text = tmp_path / "fake.db"
    text.write_text("id,paid\n1,1\n")
    with pytest.raises(SourceError, match=r"fake.db is not a SQLite database"):
        read_db(text)
    with pytest.raises(SourceError, match=r"is a directory"):
        read_db(f"sqlite:///{tmp_path}")


def test_urls_and_accepts(app_db: Path, tmp_path: Path) -> None:
    assert database_path("sqlite:///relative/app.db") == Path("relative/app.db")
    assert database_path("sqlite:////abs/app.db") == Path("/abs/app.db")
    assert database_path("sqlite:////abs/app.db?mode=ro") == Path("/abs/app.db")
    with pytest.raises(SourceError, match=r"sqlite:///relative"):
        database_path("sqlite://host/app.db")
    assert len(read_db(f"sqlite:///{app_db}", table="users").accounts) == 3
    extensionless = tmp_path / "appdata"
    extensionless.write_bytes(app_db.read_bytes())
    assert SqliteAppSource.accepts(str(extensionless))
    assert SqliteAppSource.accepts("sqlite:///x.db")
    assert SqliteAppSource.accepts("new.sqlite3")
    assert not SqliteAppSource.accepts("users.csv")
    assert not SqliteAppSource.accepts("postgresql://db/app")
    assert SqliteAppSource(str(extensionless), AppConfig()).read().accounts.num_rows == 3


def test_without_rowid_table_is_labelled_by_position(tmp_path: Path) -> None:
    path = make_db(
        tmp_path / "app.db",
        "CREATE TABLE users (id TEXT PRIMARY KEY, paid INTEGER) WITHOUT ROWID;",
        {"users": [("b", 1), ("a", "nope")]},
    )
    data = read_db(path)
    assert accounts(data, "account_id", "source_ref") == [("b", "app.db:users row 2")]
    assert [(location, field) for location, field, _ in skips(data)] == [("row id=a", "paid")]
