"""`billdrift doctor` end to end: real files, real PostgreSQL and MariaDB, real roles.

Each scenario checks the exit code (0 ok, 1 warnings, 2 failures), the named check that
must carry the verdict, that every warning and failure has a fix, and that no password
or key value is ever printed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.onboarding.doctor import type_kind
from tests.dbservers import MariaDBServer, PostgresServer

BILLING_CSV = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
    "sub_1,cus_1,ann@example.com,active,price_pro,1,usd,month,29.00,"
    "2026-11-01 00:00,2026-12-01 00:00,false\n"
    "sub_2,cus_2,bob@example.com,canceled,price_pro,1,usd,month,29.00,"
    "2026-09-01 00:00,2026-10-01 00:00,false\n"
)
APP_CSV = (
    "id,email,stripe_customer_id,has_paid_access,plan\n"
    "u1,ann@example.com,cus_1,t,pro\n"
    "u2,bob@example.com,cus_2,f,free\n"
)
USERS = [
    ("ann@example.com", "cus_1", True, "pro", "user"),
    ("bob@example.com", "cus_2", False, "free", "user"),
]
SECRET = "Doctor-Secret-42xq"
#: A plan map for BILLING_CSV: without one doctor warns that plan drift is unchecked.
PLANS = '[plans]\nprice_pro = "pro"\n'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, ["doctor", *args])
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run(*args, "--format", "json")
    return code, json.loads(out), err


def by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in report["checks"]}


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in report["checks"]}


@pytest.fixture
def billing(tmp_path: Path) -> Path:
    path = tmp_path / "subscriptions.csv"
    path.write_text(BILLING_CSV)
    return path


@pytest.fixture
def plans(tmp_path: Path) -> Path:
    """A config holding only the plan map, for set-ups that are otherwise all ok."""
    path = tmp_path / "plans.toml"
    path.write_text(PLANS)
    return path


@pytest.fixture
def app_csv(tmp_path: Path) -> Path:
    path = tmp_path / "users.csv"
    path.write_text(APP_CSV)
    return path


# --------------------------------------------------------------------------- servers


@dataclass
class Database:
    server: PostgresServer | MariaDBServer
    name: str

    def execute(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.server.execute(sql, params, database=self.name)

    def url(self, user: str = "admin", password: str | None = "adminpw") -> str:
        return self.server.url_for(user, password, self.name)


def _users_table(db: Database, ddl: str) -> None:
    db.execute(ddl)
    for row in USERS:
        db.execute(
            "INSERT INTO users (email, stripe_customer_id, has_paid_access, plan, role) "
            "VALUES (%s, %s, %s, %s, %s)",
            row,
        )


@pytest.fixture
def pg(postgres_server: PostgresServer) -> Iterator[Database]:
    """A fresh database holding users(id, email, stripe_customer_id, has_paid_access, ...)."""
    name = f"doc_{uuid.uuid4().hex[:10]}"
    postgres_server.execute(f"CREATE DATABASE {name}")
    db = Database(postgres_server, name)
    _users_table(
        db,
        "CREATE TABLE users (id serial PRIMARY KEY, email text, stripe_customer_id text, "
        "has_paid_access boolean NOT NULL DEFAULT false, plan text, role text, "
        "canceled_at timestamptz)",
    )
    yield db
    with contextlib.suppress(Exception):
        postgres_server.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture
def maria(mariadb_server: MariaDBServer) -> Iterator[Database]:
    name = f"doc_{uuid.uuid4().hex[:10]}"
    mariadb_server.execute(f"CREATE DATABASE {name}")
    db = Database(mariadb_server, name)
    _users_table(
        db,
        "CREATE TABLE users (id int AUTO_INCREMENT PRIMARY KEY, email varchar(100), "
        "stripe_customer_id varchar(40), has_paid_access boolean NOT NULL DEFAULT 0, "
        "plan varchar(20), role varchar(20))",
    )
    yield db
    with contextlib.suppress(Exception):
        mariadb_server.execute(f"DROP DATABASE {name}")


def read_only_role(db: Database) -> str:
    """A PostgreSQL role that may only SELECT from users; returns its URL."""
    role = f"ro_{uuid.uuid4().hex[:8]}"
    db.server.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
    db.server.execute(f"GRANT CONNECT ON DATABASE {db.name} TO {role}")
    db.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    db.execute(f"GRANT SELECT ON users TO {role}")
    return db.url(role, SECRET)


def assert_fixes_and_no_secret(report: dict[str, Any], text: str, *secrets: str) -> None:
    assert set(report) == {"checks", "status"}
    for check in report["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in ("ok", "warn", "fail")
        assert (check["fix"] is None) == (check["status"] == "ok"), check
    for secret in secrets:
        assert secret not in text


# --------------------------------------------------------------------------- PostgreSQL


def test_a_read_only_role_is_all_ok(pg: Database, billing: Path, plans: Path) -> None:
    url = read_only_role(pg)
    code, report, err = run_json("--config", str(plans), "--app", url, "--billing", str(billing))
    assert code == 0, report
    assert report["status"] == "ok"
    checks = by_name(report)
    assert set(statuses(report).values()) == {"ok"}
    assert "read-only" in checks["app read-only session"]["detail"]
    assert "cannot write" in checks["app write privileges"]["detail"]
    assert "could write" not in json.dumps(report)
    assert checks["app rows"]["detail"].startswith("2 rows in table 'users'")
    assert "has_paid_access boolean" in checks["app column types"]["detail"]
    assert checks["billing rows subscriptions.csv"]["detail"].startswith("2 subscriptions read")
    assert_fixes_and_no_secret(report, json.dumps(report) + err, SECRET)
    # and the text form says the same, in 80 columns
    code, text, _ = run("--config", str(plans), "--app", url, "--billing", str(billing))
    assert code == 0
    assert text.splitlines()[-1] == "billdrift doctor: ok (12 ok)"
    assert SECRET not in text


def test_the_superuser_warns_and_prints_read_only_role_sql(
    pg: Database, billing: Path, plans: Path
) -> None:
    code, text, err = run("--config", str(plans), "--app", pg.url(), "--billing", str(billing))
    assert code == 1, text
    assert "[warn] app write privileges: these credentials could write:" in text
    assert "superuser" in text and "billdrift only reads" in text
    assert "fix: create a read-only role" in text
    sql = text.split("fix: create a read-only role", 1)[1]
    assert "CREATE ROLE billdrift_readonly LOGIN PASSWORD" in sql
    assert 'GRANT SELECT ON "public"."users" TO billdrift_readonly;' in sql
    assert text.splitlines()[-1].startswith("billdrift doctor: warn (1 warning,")
    # 80 columns, except where a single word (a long path) is wider than that
    long = [line for line in text.splitlines() if len(line) > 80 and len(line.split()) > 1]
    assert not long, long
    assert "adminpw" not in text + err
    code, report, _ = run_json("--app", pg.url(), "--billing", str(billing))
    assert (code, report["status"]) == (1, "warn")
    assert by_name(report)["rule plan_drift"]["status"] == "warn"  # without the plan map
    warning = by_name(report)["app write privileges"]
    assert "GRANT SELECT" in warning["fix"]
    assert_fixes_and_no_secret(report, json.dumps(report), "adminpw")


def test_a_wrong_password_fails_without_showing_it(pg: Database, billing: Path) -> None:
    url = pg.url("admin", SECRET)
    for output in ("text", "json"):
        code, out, err = run("--app", url, "--billing", str(billing), "--format", output)
        assert code == 2
        assert "password authentication failed" in out
        assert "admin:***@" in out
        assert SECRET not in out + err
    _, report, _ = run_json("--app", url, "--billing", str(billing))
    source = by_name(report)["app source"]
    assert source["status"] == "fail"
    assert "user name and password" in source["fix"]
    assert "app rows" not in by_name(report)  # nothing further on that side
    assert by_name(report)["billing rows subscriptions.csv"]["status"] == "ok"  # the other side


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_connection_refused_fails_with_a_fix(billing: Path) -> None:
    url = f"postgresql://admin:{SECRET}@127.0.0.1:{free_port()}/app"
    code, report, err = run_json("--app", url, "--billing", str(billing))
    assert code == 2
    source = by_name(report)["app source"]
    assert source["status"] == "fail"
    assert "refused" in source["detail"].lower()
    assert "start the database server" in source["fix"]
    assert_fixes_and_no_secret(report, json.dumps(report) + err, SECRET)


def test_a_missing_table_fails_and_lists_the_tables(pg: Database, billing: Path) -> None:
    code, report, _ = run_json(
        "--app", pg.url(), "--app-table", "customers", "--billing", str(billing)
    )
    assert code == 2
    table = by_name(report)["app table"]
    assert table["status"] == "fail"
    assert "'customers' does not exist" in table["detail"] and "'users'" in table["detail"]
    assert "app.table" in table["fix"]
    assert "app columns" not in by_name(report)


def test_a_missing_mapped_column_fails_naming_it(
    pg: Database, billing: Path, tmp_path: Path
) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text('[app]\ntable = "users"\n[app.columns]\ncustomer_id = "stripe_id"\n')
    code, report, _ = run_json(
        "--config", str(config), "--app", pg.url(), "--billing", str(billing)
    )
    assert code == 2
    columns = by_name(report)["app columns"]
    assert columns["status"] == "fail"
    assert "'stripe_id'" in columns["detail"] and "'stripe_customer_id'" in columns["detail"]
    assert "app.columns" in columns["fix"]


def test_a_timestamp_mapped_as_access_flag_fails(
    pg: Database, billing: Path, tmp_path: Path
) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text('[app]\ntable = "users"\naccess_fields = ["canceled_at"]\n')
    code, report, _ = run_json(
        "--config", str(config), "--app", pg.url(), "--billing", str(billing)
    )
    assert code == 2
    types = by_name(report)["app column types"]
    assert types["status"] == "fail"
    assert "canceled_at is timestamp with time zone" in types["detail"]
    assert "app.query" in types["fix"]
    assert by_name(report)["app columns"]["status"] == "ok"  # the column exists


def test_an_unset_env_variable_fails_naming_only_the_variable(
    pg: Database, billing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text('[app]\nsource = "env:BILLDRIFT_DOCTOR_DB"\n' + PLANS)
    monkeypatch.delenv("BILLDRIFT_DOCTOR_DB", raising=False)
    code, report, _ = run_json("--config", str(config), "--billing", str(billing))
    assert code == 2
    env = by_name(report)["env BILLDRIFT_DOCTOR_DB"]
    assert env["status"] == "fail"
    assert "BILLDRIFT_DOCTOR_DB is not set" in env["detail"]
    assert "export BILLDRIFT_DOCTOR_DB=" in env["fix"]
    assert by_name(report)["app source"]["status"] == "fail"
    # Once set, the variable is ok (named, never shown) and the database is reached.
    url = read_only_role(pg)
    monkeypatch.setenv("BILLDRIFT_DOCTOR_DB", url)
    code, report, err = run_json("--config", str(config), "--billing", str(billing))
    assert code == 0, report
    assert by_name(report)["env BILLDRIFT_DOCTOR_DB"]["detail"].startswith(
        "BILLDRIFT_DOCTOR_DB is set (a postgresql URL"
    )
    assert "env:BILLDRIFT_DOCTOR_DB" in by_name(report)["app source"]["detail"]
    assert_fixes_and_no_secret(report, json.dumps(report) + err, SECRET, url)


def test_several_fitting_tables_without_app_table_fail(pg: Database, billing: Path) -> None:
    pg.execute("CREATE TABLE admins (id serial PRIMARY KEY, is_pro boolean)")
    code, report, _ = run_json("--app", pg.url(), "--billing", str(billing))
    assert code == 2
    table = by_name(report)["app table"]
    assert "several tables look like accounts: users, admins" in table["detail"]
    assert "set app.table" in table["fix"]


def test_an_empty_table_fails(pg: Database, billing: Path) -> None:
    pg.execute("DELETE FROM users")
    code, report, _ = run_json("--app", pg.url(), "--billing", str(billing))
    assert code == 2
    assert by_name(report)["app rows"]["status"] == "fail"


def test_app_query_is_checked_and_counted(pg: Database, billing: Path, tmp_path: Path) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text(
        '[app]\nquery = "SELECT id, stripe_customer_id, (canceled_at IS NULL) AS has_access '
        "FROM users WHERE role = 'user'\"\n"
    )
    url = read_only_role(pg)
    code, report, _ = run_json("--config", str(config), "--app", url, "--billing", str(billing))
    assert code == 1, report  # the query has no email column: email matching cannot run
    assert {n for n, s in statuses(report).items() if s != "ok"} == {"rule email matching"}
    checks = by_name(report)
    assert "app.query runs and returns 3 columns" in checks["app table"]["detail"]
    assert checks["app rows"]["detail"].startswith("2 rows in the result of app.query")


# --------------------------------------------------------------------------- MariaDB


def test_mariadb_admin_warns_with_grant_sql(maria: Database, billing: Path) -> None:
    code, report, err = run_json("--app", maria.url(), "--billing", str(billing))
    assert code == 1, report
    checks = by_name(report)
    assert checks["app read-only session"]["status"] == "ok"
    warning = checks["app write privileges"]
    assert warning["status"] == "warn"
    assert "ALL PRIVILEGES" in warning["detail"]
    assert f"GRANT SELECT ON `{maria.name}`.`users`" in warning["fix"]
    assert checks["app column types"]["status"] == "ok"  # tinyint(1) is MySQL's boolean
    assert_fixes_and_no_secret(report, json.dumps(report) + err, "adminpw")


def test_mariadb_wrong_password_fails(maria: Database, billing: Path) -> None:
    code, report, err = run_json("--app", maria.url("admin", SECRET), "--billing", str(billing))
    assert code == 2
    source = by_name(report)["app source"]
    assert "Access denied" in source["detail"]
    assert "password" in source["fix"]
    assert_fixes_and_no_secret(report, json.dumps(report) + err, SECRET)


# --------------------------------------------------------------------------- files


def test_files_all_ok(app_csv: Path, billing: Path, tmp_path: Path) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text(
        f'[app]\nsource = "{app_csv}"\naccess_fields = ["has_paid_access"]\n'
        f'[billing]\nsources = ["{billing}"]\n' + PLANS
    )
    code, report, _ = run_json("--config", str(config))
    assert code == 0, report
    checks = by_name(report)
    assert checks["config"]["detail"] == f"{config} loads and is valid"
    assert checks["app rows"]["detail"] == "2 accounts read, no row skipped"
    assert checks["billing source subscriptions.csv"]["detail"].startswith("stripe-csv")
    assert "app write privileges" not in checks  # files have no credentials


def test_sqlite_timestamp_flag_fails(tmp_path: Path, billing: Path) -> None:
    import sqlite3

    path = tmp_path / "app.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, stripe_customer_id TEXT, paid_at TIMESTAMP,"
        " has_paid_access BOOLEAN);"
        "INSERT INTO users VALUES (1, 'cus_1', '2026-01-01', 1);"
    )
    con.close()
    config = tmp_path / "billdrift.toml"
    config.write_text('[app]\naccess_fields = ["paid_at"]\n')
    code, report, _ = run_json(
        "--config", str(config), "--app", str(path), "--billing", str(billing)
    )
    assert code == 2
    assert by_name(report)["app column types"]["status"] == "fail"
    assert by_name(report)["app table"]["detail"].startswith("no app.table set; users is")


def test_an_env_variable_may_hold_a_sqlite_url(
    tmp_path: Path, billing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    path = tmp_path / "app.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, stripe_customer_id TEXT, is_paid BOOLEAN);"
        "INSERT INTO users VALUES (1, 'cus_1', 1), (2, 'cus_2', 0);"
    )
    con.close()
    monkeypatch.setenv("APP_SQLITE", f"sqlite:///{path}")
    code, report, _ = run_json("--app", "env:APP_SQLITE", "--billing", str(billing))
    assert code == 1, report  # no email column: email matching cannot run
    assert {n for n, s in statuses(report).items() if s != "ok"} == {"rule email matching"}
    assert by_name(report)["app rows"]["detail"] == "2 accounts read, no row skipped"
    output = tmp_path / "billdrift.toml"
    result = CliRunner().invoke(
        cli.main, ["init", "--app", "env:APP_SQLITE", "--output", str(output)]
    )
    assert result.exit_code == 0, result.stderr
    assert 'source = "env:APP_SQLITE"' in output.read_text()


def test_missing_files_fail_with_fixes(tmp_path: Path) -> None:
    code, report, _ = run_json(
        "--app", str(tmp_path / "users.csv"), "--billing", str(tmp_path / "subs.json")
    )
    assert code == 2
    checks = by_name(report)
    assert checks["app source"]["status"] == "fail"
    assert "not found" in checks["app source"]["detail"]
    assert checks["billing source subs.json"]["status"] == "fail"
    assert "not found" in checks["billing source subs.json"]["detail"]
    assert_fixes_and_no_secret(report, "")


def test_an_unrecognized_billing_file_fails_suggesting_kind(app_csv: Path, tmp_path: Path) -> None:
    junk = tmp_path / "export.txt"
    junk.write_text("hello\n")
    code, report, _ = run_json("--app", str(app_csv), "--billing", str(junk))
    assert code == 2
    check = by_name(report)["billing source export.txt"]
    assert "cannot tell what" in check["detail"]
    assert "KIND:PATH" in check["fix"] and "stripe-json" in check["fix"]


def test_no_inputs_fail(tmp_path: Path) -> None:
    code, report, _ = run_json()
    assert code == 2
    assert by_name(report)["app source"]["detail"] == "no app input"
    assert by_name(report)["billing source"]["detail"] == "no billing input"


def test_skipped_rows_warn_below_the_ratio_and_fail_above(billing: Path, tmp_path: Path) -> None:
    app = tmp_path / "users.csv"
    app.write_text(APP_CSV + "u3,cy@example.com,cus_3,maybe,pro\n")
    code, report, _ = run_json("--app", str(app), "--billing", str(billing))
    assert code == 2  # 1 of 3 rows > the default 1%
    assert "max_skipped_ratio" in by_name(report)["app rows"]["detail"]
    config = tmp_path / "billdrift.toml"
    config.write_text("[policy]\nmax_skipped_ratio = 0.5\n")
    code, report, _ = run_json(
        "--config", str(config), "--app", str(app), "--billing", str(billing)
    )
    assert code == 1
    rows = by_name(report)["app rows"]
    assert rows["status"] == "warn"
    assert "users.csv line 4" in rows["detail"] and "has_paid_access" in rows["detail"]


def test_an_invalid_config_fails_and_the_rest_still_runs(
    app_csv: Path, billing: Path, tmp_path: Path
) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text('[policy]\ngrace_days = "soon"\n')
    code, report, _ = run_json(
        "--config", str(config), "--app", str(app_csv), "--billing", str(billing)
    )
    assert code == 2
    checks = by_name(report)
    assert checks["config"]["status"] == "fail"
    assert "policy.grace_days" in checks["config"]["detail"]
    assert checks["app rows"]["status"] == "ok"
    code, report, _ = run_json("--config", str(tmp_path / "nope.toml"), "--app", str(app_csv))
    assert "billdrift init" in by_name(report)["config"]["fix"]


def test_a_password_in_the_config_warns_and_is_never_shown(billing: Path, tmp_path: Path) -> None:
    config = tmp_path / "billdrift.toml"
    url = f"postgresql://admin:{SECRET}@127.0.0.1:{free_port()}/app"
    config.write_text(f'[app]\nsource = "{url}"\n')
    for output in ("text", "json"):
        code, out, err = run("--config", str(config), "--billing", str(billing), "--format", output)
        assert code == 2  # the server is not there
        assert SECRET not in out + err
    _, report, _ = run_json("--config", str(config), "--billing", str(billing))
    secrets = by_name(report)["config secrets"]
    assert secrets["status"] == "warn"
    assert 'source = "env:DATABASE_URL"' in secrets["fix"]


def test_provider_keys_are_named_never_shown(
    app_csv: Path, billing: Path, plans: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_" + SECRET)
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("PADDLE_API_KEY", raising=False)
    code, text, err = run("--config", str(plans), "--app", str(app_csv), "--billing", str(billing))
    assert code == 0, text
    assert SECRET not in text + err
    _, report, _ = run_json("--app", str(app_csv), "--billing", str(billing))
    keys = by_name(report)["provider keys"]["detail"]
    assert keys.startswith("STRIPE_API_KEY set, STRIPE_SECRET_KEY not set, PADDLE_API_KEY not set")
    assert SECRET not in json.dumps(report)


def test_a_provider_key_check_would_refuse_fails_and_is_never_shown(
    app_csv: Path, billing: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", f"sk_test_{SECRET}\nsk_test_{SECRET}")
    monkeypatch.delenv("STRIPE_SECRET_KEY", raising=False)
    monkeypatch.delenv("PADDLE_API_KEY", raising=False)
    code, report, _ = run_json("--app", str(app_csv), "--billing", str(billing))
    assert code == 2
    check = by_name(report)["env STRIPE_API_KEY"]
    assert check["status"] == "fail" and "holds a line break" in check["detail"]
    assert SECRET not in json.dumps(report)


@pytest.mark.parametrize(
    ("type_name", "kind"),
    [
        ("boolean", "boolean"),
        ("tinyint(1)", "boolean"),
        ("int(11) unsigned", "integer"),
        ("longtext", "text"),
        ("character varying", "text"),
        ("timestamp with time zone", "time"),
        ("datetime", "time"),
        ("jsonb", "json"),
        ("text[]", "array"),
        ("numeric", "number"),
        ("point", "binary"),
        ("uuid", "other"),
        ("", ""),
    ],
)
def test_type_kinds(type_name: str, kind: str) -> None:
    assert type_kind(type_name) == kind
