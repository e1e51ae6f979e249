"""`billdrift init` end to end: real CSV/SQLite files and real PostgreSQL/MariaDB servers.

Every config init writes is loaded back with load_config and read with the real app
source, and must map exactly the columns init reported; passwords must never reach the
file or the terminal.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import Config, Policy, load_config
from billdrift.sources.registry import open_app
from tests.dbservers import MariaDBServer, PostgresServer

AS_OF = "2026-11-22T00:00:00Z"
#: cus_1 and cus_3 active, cus_2 canceled: in sync with the USERS rows below.
BILLING_CSV = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
    "sub_1,cus_1,ann@example.com,active,price_pro,1,usd,month,29.00,"
    "2026-11-01 00:00,2026-12-01 00:00,false\n"
    "sub_2,cus_2,bob@example.com,canceled,price_pro,1,usd,month,29.00,"
    "2026-09-01 00:00,2026-10-01 00:00,false\n"
    "sub_3,cus_3,cy@example.com,active,price_basic,1,usd,month,9.00,"
    "2026-11-01 00:00,2026-12-01 00:00,false\n"
)
USERS = [
    ("ann@example.com", "cus_1", True, "pro", "user"),
    ("bob@example.com", "cus_2", False, "free", "user"),
    ("cy@example.com", "cus_3", True, "basic", "user"),
]
#: What init must map for a users(id, email, stripe_customer_id, has_paid_access, plan, role).
USERS_MAPPING = {
    "account_id": "id",
    "customer_id": "stripe_customer_id",
    "subscription_id": None,
    "email": "email",
    "plan": "plan",
    "role": "role",
    "access_fields": ["has_paid_access"],
    "status_fields": [],
    "primary_access_field": "has_paid_access",
    "auto_detected": [],
}
PASSWORD = "Init-Secret-7f3a9"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def billing(tmp_path: Path) -> Path:
    path = tmp_path / "subscriptions.csv"
    path.write_text(BILLING_CSV)
    return path


def read_mapping(config: Config, source: str | None = None) -> dict[str, Any]:
    """The mapping the real app source reads with this config (what `check` uses)."""
    location = source or config.app.source
    assert location is not None
    return open_app(location, config.app).read().mapping


def uncomment_source(path: Path, variable: str = "DATABASE_URL") -> None:
    text = path.read_text()
    line = f'# source = "env:{variable}"'
    assert line in text
    path.write_text(text.replace(line, line[2:]))


# --------------------------------------------------------------------------- servers


@dataclass
class PgDatabase:
    server: PostgresServer
    name: str

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.server.execute(sql, params, database=self.name)

    def url(self, user: str = "admin", password: str | None = "adminpw") -> str:
        return self.server.url_for(user, password, self.name)


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[PgDatabase]:
    """A fresh database per test: init looks at every table the role can see."""
    name = f"init_{uuid.uuid4().hex[:10]}"
    postgres_server.execute(f"CREATE DATABASE {name}")
    yield PgDatabase(postgres_server, name)
    with contextlib.suppress(Exception):
        postgres_server.execute(f"DROP DATABASE {name} WITH (FORCE)")


def pg_users(db: PgDatabase, table: str = "users") -> None:
    db.execute(
        f"CREATE TABLE {table} (id serial PRIMARY KEY, email text, stripe_customer_id text, "
        "has_paid_access boolean NOT NULL DEFAULT false, plan text, role text)"
    )
    for row in USERS:
        db.execute(
            f"INSERT INTO {table} (email, stripe_customer_id, has_paid_access, plan, role) "
            "VALUES (%s, %s, %s, %s, %s)",
            row,
        )


@dataclass
class MariaDatabase:
    server: MariaDBServer
    name: str

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.server.execute(sql, params, database=self.name)

    def url(self, user: str = "admin", password: str | None = "adminpw") -> str:
        return self.server.url_for(user, password, self.name)


@pytest.fixture
def maria(mariadb_server: MariaDBServer) -> Iterator[MariaDatabase]:
    name = f"init_{uuid.uuid4().hex[:10]}"
    mariadb_server.execute(f"CREATE DATABASE {name}")
    yield MariaDatabase(mariadb_server, name)
    with contextlib.suppress(Exception):
        mariadb_server.execute(f"DROP DATABASE {name}")


# --------------------------------------------------------------------------- files


def test_init_from_csv_writes_a_config_check_reads_the_same_way(
    tmp_path: Path, billing: Path
) -> None:
    app = tmp_path / "users.csv"
    app.write_text(
        "id,email,stripe_customer_id,has_paid_access,plan,role\n"
        + "".join(
            f"u{i},{email},{customer},{'t' if paid else 'f'},{plan},{role}\n"
            for i, (email, customer, paid, plan, role) in enumerate(USERS, 1)
        )
    )
    output = tmp_path / "billdrift.toml"
    code, out, err = run(
        "init", "--app", str(app), "--billing", str(billing), "--output", str(output)
    )
    assert (code, err) == (0, "")
    config = load_config(output)
    assert config.app.source == str(app)
    assert config.app.table is None
    assert config.app.columns.customer_id == "stripe_customer_id"
    assert config.app.access_fields == ("has_paid_access",)
    assert config.app.status_fields == ()
    assert config.app.primary_access_field == "has_paid_access"
    assert config.billing.sources == (str(billing),)
    assert read_mapping(config) == USERS_MAPPING
    assert "stripe-csv" in out and "subscription_id" in out  # the format, and what is missing
    assert f"Wrote {output}" in out
    # and a check with nothing but the config reads it and finds the data in sync
    code, report, _ = run("check", "--config", str(output), "--as-of", AS_OF)
    assert code == 0, report
    assert report.startswith("billdrift: PASS")


def test_init_from_sqlite_picks_the_accounts_table(tmp_path: Path, billing: Path) -> None:
    path = tmp_path / "app.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE sessions (id INTEGER PRIMARY KEY, token TEXT, expires_at TIMESTAMP);"
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, stripe_customer_id TEXT,"
        " has_paid_access BOOLEAN, plan TEXT, role TEXT);"
    )
    con.executemany(
        "INSERT INTO users (email, stripe_customer_id, has_paid_access, plan, role) "
        "VALUES (?, ?, ?, ?, ?)",
        USERS,
    )
    con.commit()
    con.close()
    output = tmp_path / "billdrift.toml"
    code, out, _ = run(
        "init", "--app", str(path), "--billing", str(billing), "--output", str(output)
    )
    assert code == 0, out
    config = load_config(output)
    assert (config.app.source, config.app.table) == (str(path), "users")
    assert read_mapping(config) == USERS_MAPPING
    assert "sessions" not in output.read_text()  # it does not fit, so it is not offered
    code, report, _ = run("check", "--config", str(output), "--as-of", AS_OF)
    assert code == 0, report


def test_a_table_with_customer_id_and_flag_beats_an_accounts_named_one(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, email TEXT, plan TEXT, is_pro BOOLEAN);"
        "CREATE TABLE billing_state (account_id TEXT, stripe_customer_id TEXT,"
        " subscription_status TEXT);"
        "CREATE TABLE subscribers (id INTEGER PRIMARY KEY, stripe_customer_id TEXT,"
        " has_paid_access BOOLEAN);"
    )
    con.close()
    output = tmp_path / "billdrift.toml"
    code, out, _ = run("init", "--app", str(path), "--output", str(output))
    assert code == 0, out
    assert load_config(output).app.table == "subscribers"
    # customer id without a flag next, then the flag without a customer id
    assert "switch app.table to use one): billing_state, accounts" in " ".join(out.split())


def test_init_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    app = tmp_path / "users.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,t\n")
    output = tmp_path / "billdrift.toml"
    output.write_text("# mine\n")
    code, out, err = run("init", "--app", str(app), "--output", str(output))
    assert code == 2
    assert "already exists" in err and "--force" in err
    assert out == ""
    assert output.read_text() == "# mine\n"
    code, _, _ = run("init", "--app", str(app), "--output", str(output), "--force")
    assert code == 0
    assert load_config(output).app.columns.customer_id == "stripe_customer_id"


def test_column_names_that_need_quoting_round_trip(tmp_path: Path) -> None:
    app = tmp_path / "export.csv"
    app.write_text('User ID,Stripe Customer ID,"Has Paid Access",Plan\nu1,cus_1,yes,pro\n')
    output = tmp_path / "billdrift.toml"
    code, _, _ = run("init", "--app", str(app), "--output", str(output))
    assert code == 0
    config = load_config(output)
    assert config.app.columns.account_id == "User ID"
    assert config.app.access_fields == ("Has Paid Access",)
    mapping = read_mapping(config)
    assert mapping["customer_id"] == "Stripe Customer ID"
    assert mapping["auto_detected"] == []


def test_no_fitting_table_exits_2_and_says_why_table_by_table(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);"
        "CREATE TABLE events (name TEXT, at TEXT);"
    )
    con.close()
    output = tmp_path / "billdrift.toml"
    code, _, err = run("init", "--app", str(path), "--output", str(output))
    assert code == 2
    assert "users: cannot find an access column" in err
    assert "events: cannot find an account id column" in err
    assert "--app-table" in err
    assert not output.exists()


def test_an_unrecognized_billing_file_exits_2(tmp_path: Path) -> None:
    app = tmp_path / "users.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,t\n")
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\n")
    output = tmp_path / "billdrift.toml"
    code, _, err = run("init", "--app", str(app), "--billing", str(junk), "--output", str(output))
    assert code == 2
    assert "cannot tell what" in err
    assert not output.exists()


def test_commented_examples_are_valid_config_with_config_defaults(tmp_path: Path) -> None:
    app = tmp_path / "users.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,t\n")
    output = tmp_path / "billdrift.toml"
    assert run("init", "--app", str(app), "--output", str(output))[0] == 0
    text = output.read_text()
    for section in ("# [policy]", "# [plans]", "# [[exceptions]]", "# [policy.statuses.stripe]"):
        assert f"\n{section}" in text
    example = re.compile(r"^# (?=\[|[A-Za-z0-9_]+ = )", re.MULTILINE)
    config = load_config_text(example.sub("", text), tmp_path)
    assert config.policy == Policy()  # every example shows the default...
    for key in Policy.model_fields:
        assert f"\n# {key} = " in text or key == "statuses"  # ...of every key
    assert config.plans == {"price_1PqXyzExample": "pro", "basic_monthly": "basic"}
    assert config.exceptions[0].kind is not None


def load_config_text(text: str, directory: Path) -> Config:
    path = directory / "uncommented.toml"
    path.write_text(text)
    tomllib.loads(text)  # a TOML error here would be clearer than a ConfigError
    return load_config(path)


# --------------------------------------------------------------------------- PostgreSQL


def test_init_from_postgres_never_writes_the_password(
    pg: PgDatabase, tmp_path: Path, billing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_users(pg)
    role = f"app_{uuid.uuid4().hex[:8]}"
    pg.server.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
    pg.execute(f"GRANT SELECT ON users TO {role}")
    url = pg.url(role, PASSWORD)
    output = tmp_path / "billdrift.toml"
    code, out, err = run("init", "--app", url, "--billing", str(billing), "--output", str(output))
    assert code == 0, err
    text = output.read_text()
    for shown in (text, out, err):
        assert PASSWORD not in shown
    assert "export DATABASE_URL=" in out and f"{role}:***@" in out
    config = load_config(output)
    assert config.app.source is None  # withheld, with instructions in a comment
    assert config.app.table == "users"
    assert read_mapping(config, url) == USERS_MAPPING
    # Following the instructions makes a working config.
    uncomment_source(output)
    monkeypatch.setenv("DATABASE_URL", url)
    code, report, err = run("check", "--config", str(output), "--as-of", AS_OF)
    assert code == 0, report + err
    assert PASSWORD not in report + err


def test_a_password_is_not_shown_when_init_cannot_connect(pg: PgDatabase, tmp_path: Path) -> None:
    output = tmp_path / "billdrift.toml"
    code, out, err = run("init", "--app", pg.url("admin", PASSWORD), "--output", str(output))
    assert code == 2
    assert "password authentication failed" in err
    assert PASSWORD not in out + err
    assert not output.exists()


def test_a_url_without_password_is_written_as_given(
    pg: PgDatabase, tmp_path: Path, billing: Path
) -> None:
    pg_users(pg)
    url = pg.server.url_for("postgres", None, pg.name)  # the trusted bootstrap superuser
    output = tmp_path / "billdrift.toml"
    code, _, _ = run("init", "--app", url, "--billing", str(billing), "--output", str(output))
    assert code == 0
    config = load_config(output)
    assert config.app.source == url
    code, report, _ = run("check", "--config", str(output), "--as-of", AS_OF)
    assert code == 0, report


def test_several_candidate_tables_pick_one_and_list_the_others(
    pg: PgDatabase, tmp_path: Path
) -> None:
    pg_users(pg)
    # Fits, but no customer id: ranks below users.
    pg.execute("CREATE TABLE admins (id serial PRIMARY KEY, email text, is_pro boolean)")
    # Fits with customer id and flag, but is a view: ranks below the table.
    pg.execute("CREATE VIEW paying_users AS SELECT * FROM users WHERE has_paid_access")
    # Does not fit at all: never offered.
    pg.execute("CREATE TABLE audit_log (at timestamptz, message text)")
    output = tmp_path / "billdrift.toml"
    code, out, err = run("init", "--app", pg.url(), "--output", str(output))
    assert code == 0, err
    text = output.read_text()
    assert load_config(output).app.table == "users"
    listed = text.split("# Other tables that also look like accounts", 1)[1].split("\n[", 1)[0]
    assert listed.index('"paying_users"') < listed.index('"admins"')
    assert "audit_log" not in text
    assert "paying_users, admins" in out
    # --app-table overrides the ranking.
    code, out, _ = run("init", "--app", pg.url(), "--app-table", "admins", "--output", str(output))
    assert code == 2 and "already exists" in _
    code, out, _ = run(
        "init", "--app", pg.url(), "--app-table", "admins", "--output", str(output), "--force"
    )
    assert code == 0
    config = load_config(output)
    assert (config.app.table, config.app.access_fields) == ("admins", ("is_pro",))
    assert config.app.columns.customer_id is None
    assert "customer_id: Accounts are matched to billing by email only" in out


def test_a_table_name_in_two_schemas_is_written_with_its_schema(
    pg: PgDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pg_users(pg)
    pg.execute("CREATE SCHEMA legacy")
    pg.execute("CREATE TABLE legacy.users (id int PRIMARY KEY, is_paid boolean)")
    output = tmp_path / "billdrift.toml"
    code, _, _ = run("init", "--app", pg.url(), "--output", str(output))
    assert code == 0
    config = load_config(output)
    assert config.app.table == "public.users"
    assert '"legacy.users"' in output.read_text()
    assert read_mapping(config, pg.url()) == USERS_MAPPING


def test_a_missing_app_table_exits_2_listing_the_tables(pg: PgDatabase, tmp_path: Path) -> None:
    pg_users(pg)
    code, _, err = run(
        "init", "--app", pg.url(), "--app-table", "nope", "--output", str(tmp_path / "x")
    )
    assert code == 2
    assert "'nope' does not exist" in err and "'users'" in err


# --------------------------------------------------------------------------- MariaDB


def test_init_from_mariadb_with_an_env_url(
    maria: MariaDatabase, tmp_path: Path, billing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    maria.execute(
        "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, email varchar(100), "
        "stripe_customer_id varchar(40), has_paid_access boolean NOT NULL DEFAULT 0, "
        "plan varchar(20), role varchar(20))"
    )
    maria.execute("CREATE TABLE invoices (id int PRIMARY KEY, total int)")
    for row in USERS:
        maria.execute(
            "INSERT INTO users (email, stripe_customer_id, has_paid_access, plan, role) "
            "VALUES (%s, %s, %s, %s, %s)",
            row,
        )
    monkeypatch.setenv("APP_DB_URL", maria.url())
    output = tmp_path / "billdrift.toml"
    code, out, err = run(
        "init", "--app", "env:APP_DB_URL", "--billing", str(billing), "--output", str(output)
    )
    assert code == 0, err
    assert "adminpw" not in output.read_text() + out + err
    assert "MariaDB" in out
    config = load_config(output)
    assert (config.app.source, config.app.table) == ("env:APP_DB_URL", "users")
    assert read_mapping(config) == USERS_MAPPING
    code, report, err = run("check", "--config", str(output), "--as-of", AS_OF)
    assert code == 0, report + err
