"""The warehouse connectors (Snowflake, BigQuery, Redshift, Databricks) as far as they can
be tested without a warehouse: none of these services can run on this machine, so every
connection here is a STUB standing in for the official connector's module (put in
``sys.modules`` under the connector's import name). What is real: billdrift's URL
parsing, secret handling, the statements it sends (compared with the dialect's output,
byte for byte), the fetch path it takes for each connector, and the report it builds
from the rows. The stubs answer each statement by running its DuckDB twin (the same plan
compiled for DuckDB) over the canonical relations in DuckDB, so the report can be
compared with the in-process one; whether Snowflake, BigQuery, Redshift or Databricks
compute the same rows from their SQL is not tested here.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyarrow as pa
import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import WarehouseConfig
from billdrift.core.dialects import warehouse as dialects
from billdrift.core.engine import Inputs, reconcile
from billdrift.core.load import load
from billdrift.core.plan import build_plan
from billdrift.errors import ConfigError, SourceError
from billdrift.infra import duck
from billdrift.sources.pushdown import ENGINES, warehouse
from billdrift.sources.pushdown.spark import _inputs
from tests.builders import account, app, billing, inputs, sub

#: A URL for each target, and the environment holding its secret.
URLS = {
    "snowflake": "snowflake://billdrift_ro@xy12345.eu-west-1/ANALYTICS/BILLING?warehouse=WH&role=RO",
    "bigquery": "bigquery://my-project/billing?location=EU",
    "redshift": "redshift://billdrift_ro@example.redshift.amazonaws.com:5439/analytics",
    "databricks": "databricks://dbc-1.cloud.databricks.com/sql/1.0/warehouses/abc?catalog=main&schema=billing",
}
SECRET = "s3cret-Pa55word!x"
ENVIRON = {
    "snowflake": {"SNOWFLAKE_PASSWORD": SECRET},
    "bigquery": {"GOOGLE_APPLICATION_CREDENTIALS": "/keys/sa.json"},
    "redshift": {"REDSHIFT_PASSWORD": SECRET},
    "databricks": {"DATABRICKS_TOKEN": SECRET},
}
#: The import name each target's module imports its connector by.
MODULES = {
    "snowflake": "snowflake.connector",
    "bigquery": "google.cloud.bigquery",
    "redshift": "redshift_connector",
    "databricks": "databricks.sql",
}
#: What a session sends besides the plan (Redshift's transaction, the UTC time zone).
SESSION = ("BEGIN READ ONLY", "SET TIME ZONE 'UTC'", "ROLLBACK")
CANONICAL = ("billing_subscriptions", "billing_items", "app_accounts", "app_access_signals")
AS_OF = datetime.fromisoformat("2026-11-22T00:00:00+00:00")


def split(name: str, url: str | None = None) -> Any:
    return warehouse.split(warehouse.connector(name), url or URLS[name], ENVIRON[name])


# ------------------------------------------------------------------ URLs and secrets
def test_each_url_becomes_the_connectors_arguments() -> None:
    args = {name: warehouse.connector(name).arguments(split(name)) for name in URLS}
    assert args["snowflake"] == {
        "user": "billdrift_ro", "account": "xy12345.eu-west-1", "database": "ANALYTICS",
        "schema": "BILLING", "warehouse": "WH", "role": "RO",
    }  # fmt: skip
    assert args["bigquery"] == {"project": "my-project", "dataset": "billing", "location": "EU"}
    assert args["redshift"] == {
        "user": "billdrift_ro", "host": "example.redshift.amazonaws.com", "port": 5439,
        "database": "analytics",
    }  # fmt: skip
    assert args["databricks"] == {
        "server_hostname": "dbc-1.cloud.databricks.com",
        "http_path": "/sql/1.0/warehouses/abc", "catalog": "main", "schema": "billing",
    }  # fmt: skip


def test_redshift_port_defaults_and_ssl_is_only_turned_off_when_asked() -> None:
    redshift = warehouse.connector("redshift")
    found = redshift.arguments(split("redshift", "redshift://u@h/db"))
    assert found["port"] == 5439 and "ssl" not in found
    assert redshift.arguments(split("redshift", "redshift://u@h:5440/db?ssl=false"))["ssl"] is False
    assert "ssl" not in redshift.arguments(split("redshift", "redshift://u@h/db?ssl=true"))


@pytest.mark.parametrize(
    ("name", "url", "named"),
    [
        ("snowflake", "snowflake://acct/DB/SCHEMA", "the user and the account"),
        ("snowflake", "snowflake://u@acct/DB", "database and schema"),
        ("bigquery", "bigquery://proj", "dataset"),
        ("bigquery", "bigquery://me@proj/ds", "names no user"),
        ("redshift", "redshift://host/db", "the user and the host"),
        ("redshift", "redshift://u@host/db/extra", "database"),
        ("databricks", "databricks://host", "HTTP path"),
        ("databricks", "databricks://me@host/sql/1.0/warehouses/a", "names no user"),
    ],
)
def test_a_url_missing_a_part_is_refused_naming_it(name: str, url: str, named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        warehouse.connector(name).arguments(split(name, url))


@pytest.mark.parametrize("name", list(URLS))
def test_a_password_in_the_url_is_refused_naming_the_variable_not_the_password(name: str) -> None:
    parts = urlsplit(URLS[name])
    with_password = URLS[name].replace(f"//{parts.netloc}", f"//someone:{SECRET}@{parts.hostname}")
    with pytest.raises(ConfigError, match="secrets come from the environment") as caught:
        split(name, with_password)
    assert SECRET not in str(caught.value)
    assert warehouse.connector(name).SECRETS[0] in str(caught.value)


def test_the_url_may_come_from_the_environment_and_must_have_the_targets_scheme() -> None:
    target = warehouse.connector("redshift")
    environ = {"WH_URL": "redshift://u@h/db"}
    assert warehouse.split(target, "env:WH_URL", environ).hostname == "h"
    with pytest.raises(ConfigError, match="WH_URL"):
        warehouse.split(target, "env:WH_URL", {})
    with pytest.raises(ConfigError, match="needs a redshift:// URL"):
        warehouse.split(target, "snowflake://u@a/d/s", {})
    with pytest.raises(ConfigError, match=r"\[engine.warehouse\] url"):
        warehouse.split(target, None, {})


def test_unknown_canonical_table_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="billing_subscription: expected"):
        warehouse.tables(WarehouseConfig(tables={"billing_subscription": "x"}))
    where = warehouse.tables(WarehouseConfig(tables={"app_accounts": "app.accounts_v"}))
    assert where.canonical["app_accounts"].endswith(" FROM app.accounts_v")
    assert where.canonical["billing_items"].endswith(" FROM billing_items")


# ------------------------------------------------------------------ stub connectors
class Twin:
    """Answers each statement a target receives with its DuckDB twin's rows, and records
    what was sent; a statement that is not the dialect's own output fails the test."""

    def __init__(self, name: str, data: Inputs) -> None:
        self.name = name
        self.sent: list[str] = []
        self.connected: dict[str, Any] = {}
        self.con = duck.connect()
        loaded = load(self.con, data.billing, data.app, data.policy, data.as_of)
        self.skips = loaded.skips
        self.con.execute("CREATE SCHEMA src")
        for relation in CANONICAL:
            self.con.execute(f"CREATE TABLE src.{relation} AS SELECT * FROM {relation}")
        self.settings = WarehouseConfig(url=URLS[name], tables={r: f"src.{r}" for r in CANONICAL})
        where = warehouse.tables(self.settings)
        fields = self.con.sql(
            "SELECT DISTINCT field, kind, is_primary FROM src.app_access_signals ORDER BY field"
        ).fetchall()
        plan = build_plan(_inputs(where, fields, data.policy, data.as_of))
        dialect = dialects.WAREHOUSES[name]
        ours = dialect.statements(plan, where.canonical)
        twins = dialects.statements(plan, where.canonical, lambda query: query)
        self.twin = {sql: twin for (_, sql), (_, twin) in zip(ours, twins, strict=True)}
        self.twin[warehouse._fields(where)] = warehouse._fields(where)
        self.expected = [sql for _, sql in ours]

    def table(self, sql: str) -> pa.Table:
        self.sent.append(sql)
        if sql in SESSION:
            return pa.table({})
        assert sql in self.twin, f"{self.name} was sent SQL the dialect did not produce"
        return self.con.sql(self.twin[sql]).to_arrow_table()


class Cursor:
    """A DB-API cursor over a Twin, with each connector's fetch spelling."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.result: pa.Table | None = None
        self.description: list[tuple[Any, ...]] | None = None

    def execute(self, sql: str) -> None:
        self.result = self.twin.table(sql)
        if not self.result.num_columns:
            self.description = None
            return
        upper = self.twin.name == "snowflake"  # Snowflake upper-cases unquoted names
        self.description = [
            (f.name.upper() if upper else f.name, 2, None, None, None, None, True)
            for f in self.result.schema
        ]

    def fetch_arrow_all(self) -> pa.Table | None:  # Snowflake
        assert self.result is not None
        return self.result.rename_columns([d[0] for d in self.description or []]) or None

    def fetchall_arrow(self) -> pa.Table:  # Databricks
        assert self.result is not None
        return self.result

    def fetchall(self) -> list[tuple[Any, ...]]:  # Redshift
        assert self.result is not None
        return [tuple(row.values()) for row in self.result.to_pylist()]

    def close(self) -> None:
        pass


class Connection:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.closed = False
        self.autocommit = False

    def cursor(self) -> Cursor:
        return Cursor(self.twin)

    def close(self) -> None:
        self.closed = True


def stub_module(twin: Twin) -> types.ModuleType:
    """The connector's module as billdrift imports it, connecting to `twin`."""
    module = types.ModuleType(MODULES[twin.name])

    def connect(*args: Any, **kwargs: Any) -> Connection:
        twin.connected = kwargs
        return Connection(twin)

    class QueryJobConfig:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

    class Client:  # BigQuery: client.query(sql, job_config=...).result().to_arrow()
        def __init__(self, **kwargs: Any) -> None:
            twin.connected = kwargs

        def query(self, sql: str, job_config: QueryJobConfig) -> Any:
            twin.connected["job_config"] = job_config.kwargs
            table = twin.table(sql)
            result = types.SimpleNamespace(to_arrow=lambda: table)
            return types.SimpleNamespace(result=lambda: result)

        def close(self) -> None:
            pass

    module.connect = connect  # type: ignore[attr-defined]
    module.Client = Client  # type: ignore[attr-defined]
    module.QueryJobConfig = QueryJobConfig  # type: ignore[attr-defined]
    return module


def drifted() -> Inputs:
    subs = billing(
        sub("sub_1", "cus_1", "active"),
        sub("sub_2", "cus_2", "canceled"),
        sub("sub_3", "cus_3", "active", amount=9900),
        sub("sub_4", "cus_4", "past_due"),
    )
    accounts = app(
        account("a1", "cus_1", access=False),  # paid but blocked
        account("a2", "cus_2", access=True),  # unpaid but active
        account("a3", "cus_3", access=True),
        account("a5", "cus_5", access=True),  # no subscription at all
    )
    return inputs(subs, accounts, None, AS_OF)


@pytest.fixture
def stubbed(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Twin]:
    twin = Twin(request.param, drifted())
    monkeypatch.setitem(sys.modules, MODULES[twin.name], stub_module(twin))
    yield twin
    twin.con.close()


@pytest.mark.parametrize("stubbed", list(URLS), indirect=True)
def test_stub_connection_receives_the_dialects_statements_and_the_report_matches(
    stubbed: Twin,
) -> None:
    data = drifted()
    report = warehouse.run(
        stubbed.name, stubbed.settings, data.policy, AS_OF, ENVIRON[stubbed.name]
    )
    # every statement of the dialect's output, in order, and nothing else but the session set-up
    sent = [sql for sql in stubbed.sent if sql not in SESSION]
    assert sent[1:] == stubbed.expected
    expected = reconcile(data)
    assert [f.kind for f in report.findings] == [f.kind for f in expected.findings]
    assert report.findings == expected.findings
    assert len(report.findings) >= 3


@pytest.mark.parametrize("stubbed", ["redshift"], indirect=True)
def test_redshift_runs_read_only_in_utc_and_rolls_back(stubbed: Twin) -> None:
    data = drifted()
    warehouse.run("redshift", stubbed.settings, data.policy, AS_OF, ENVIRON["redshift"])
    assert stubbed.sent[:2] == ["BEGIN READ ONLY", "SET TIME ZONE 'UTC'"]
    assert stubbed.sent[-1] == "ROLLBACK"
    assert stubbed.connected["password"] == SECRET  # from the environment, not the URL
    assert stubbed.connected["host"] == "example.redshift.amazonaws.com"


@pytest.mark.parametrize("stubbed", ["databricks"], indirect=True)
def test_databricks_sets_utc_before_the_plan_and_takes_the_token_from_the_environment(
    stubbed: Twin,
) -> None:
    data = drifted()
    warehouse.run("databricks", stubbed.settings, data.policy, AS_OF, ENVIRON["databricks"])
    assert stubbed.sent[1] == "SET TIME ZONE 'UTC'"
    assert stubbed.connected["access_token"] == SECRET


@pytest.mark.parametrize("stubbed", ["snowflake"], indirect=True)
def test_snowflake_session_is_utc_and_json_columns_are_decoded(stubbed: Twin) -> None:
    data = drifted()
    warehouse.run("snowflake", stubbed.settings, data.policy, AS_OF, ENVIRON["snowflake"])
    assert stubbed.connected["session_parameters"]["TIMEZONE"] == "UTC"
    assert stubbed.connected["password"] == SECRET
    assert warehouse.decode_json([{"a": '[{"x": 1}]', "b": "[1]"}], ["a"]) == [
        {"a": [{"x": 1}], "b": "[1]"}
    ]


@pytest.mark.parametrize("stubbed", ["bigquery"], indirect=True)
def test_bigquery_reads_the_dataset_by_default_with_standard_sql(stubbed: Twin) -> None:
    data = drifted()
    warehouse.run("bigquery", stubbed.settings, data.policy, AS_OF, ENVIRON["bigquery"])
    assert stubbed.connected["job_config"] == {
        "default_dataset": "my-project.billing",
        "use_legacy_sql": False,
    }


def test_the_cursor_session_closes_every_cursor_and_a_failure_in_flight_is_the_one_shown() -> None:
    """The lifecycle Snowflake, Redshift and Databricks share (CursorSession): a statement
    without a result fetches nothing, a failing one still closes its cursor, and a
    failing closing statement (Redshift's ROLLBACK) neither hides the error nor keeps
    the connection open."""
    opened: list[Any] = []

    class Failing:
        description = None

        def __init__(self) -> None:
            self.closed = False
            opened.append(self)

        def execute(self, sql: str) -> None:
            if not sql.startswith("SET"):
                raise RuntimeError(f"refused: {sql}")

        def close(self) -> None:
            self.closed = True

    connection = types.SimpleNamespace(cursor=Failing, closed=False)
    connection.close = lambda: setattr(connection, "closed", True)

    def fetch(cursor: Any) -> list[dict[str, Any]]:
        raise AssertionError("a statement without a description has no rows to fetch")

    session = warehouse.CursorSession(connection, fetch, closing="ROLLBACK")
    assert session.rows("SET TIME ZONE 'UTC'") == []
    with pytest.raises(RuntimeError, match="refused: SELECT 1"):
        session.rows("SELECT 1")
    session.close()  # its ROLLBACK is refused too: swallowed
    assert connection.closed
    assert len(opened) == 3 and all(cursor.closed for cursor in opened)


@pytest.mark.parametrize("name", ["snowflake", "redshift", "databricks"])
def test_a_missing_secret_is_refused_naming_the_variable(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, MODULES[name], types.ModuleType(MODULES[name]))
    settings = WarehouseConfig(url=URLS[name])
    with pytest.raises(ConfigError, match=warehouse.connector(name).SECRETS[0]):
        warehouse.run(name, settings, drifted().policy, AS_OF, {})


@pytest.mark.parametrize("name", list(URLS))
def test_connector_errors_are_scrubbed_of_the_secret(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType(MODULES[name])

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"login failed for password={SECRET!r} at https://u:{SECRET}@host")

    module.connect = refuse  # type: ignore[attr-defined]
    module.Client = refuse  # type: ignore[attr-defined]
    module.QueryJobConfig = dict  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULES[name], module)
    environ = {**ENVIRON[name], "GOOGLE_APPLICATION_CREDENTIALS": SECRET}
    with pytest.raises(SourceError, match="login failed") as caught:
        warehouse.run(name, WarehouseConfig(url=URLS[name]), drifted().policy, AS_OF, environ)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


# ------------------------------------------------------------------ the CLI
@pytest.mark.parametrize("name", list(URLS))
def test_a_missing_connector_exits_2_naming_the_extra(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, MODULES[name], None)  # as if not installed
    for variable, value in ENVIRON[name].items():
        monkeypatch.setenv(variable, value)
    config = tmp_path / "billdrift.toml"
    config.write_text(f'[engine.warehouse]\nurl = "{URLS[name]}"\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli.main,
        ["check", "--engine", name, "--config", str(config), "--as-of", "2026-11-22T00:00:00Z"],
    )
    assert result.exit_code == 2, result.output
    assert f"pip install 'billdrift[{name}]'" in result.stderr


def test_every_warehouse_is_registered_with_a_connector() -> None:
    assert set(dialects.WAREHOUSES) <= set(ENGINES)
    for name in dialects.WAREHOUSES:
        target = warehouse.connector(name)
        assert name == target.NAME and name == target.EXTRA and target.SECRETS
