"""`billdrift check` with the app side in a live database, end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from tests.cli.test_cli import AS_OF, BILLING_CSV
from tests.infra.db.conftest import Database


def _setup(database: Database, tmp_path: Path) -> Path:
    database.run(
        "CREATE TABLE users (id VARCHAR(10), email VARCHAR(50), stripe_customer_id VARCHAR(10), "
        "has_paid_access BOOLEAN, plan VARCHAR(10))",
        "INSERT INTO users VALUES ('u1', 'ann@example.com', 'cus_1', FALSE, 'pro'), "
        "('u2', 'bob@example.com', 'cus_2', TRUE, 'pro'), "
        "('u3', 'cy@example.com', 'cus_3', TRUE, 'basic')",
    )
    billing = tmp_path / "subs.csv"
    billing.write_text(BILLING_CSV, encoding="utf-8")
    return billing


def _check(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, ["check", *args, "--as-of", AS_OF], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_drift_against_a_live_database_exits_1_with_both_directions(
    database: Database, tmp_path: Path
) -> None:
    billing = _setup(database, tmp_path)
    code, out, err = _check("--billing", str(billing), "--app", database.url, "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    kinds = sorted((f["kind"], f["account_id"]) for f in report["findings"])
    assert kinds == [("paid_but_blocked", "u1"), ("unpaid_but_active", "u2")]
    assert "adminpw" not in out + err
    app_source = [s for s in report["sources"] if s["side"] == "app"]
    assert app_source and "admin:***@" in app_source[0]["description"]


def test_url_from_the_environment_is_never_printed(
    pg: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    billing = _setup(pg, tmp_path)
    code, out, err = _check(
        "--billing",
        str(billing),
        "--app",
        "env:BILLDRIFT_TEST_APP_URL",
        env={"BILLDRIFT_TEST_APP_URL": pg.url},
    )
    assert code == 1, err
    assert "env:BILLDRIFT_TEST_APP_URL" in out
    assert "adminpw" not in out + err


def test_unreachable_database_is_an_error_exit_2_without_secrets(
    pg: Database, tmp_path: Path
) -> None:
    billing = _setup(pg, tmp_path)
    code, out, err = _check("--billing", str(billing), "--app", pg.url_as("admin", "nope-S3cret"))
    assert code == 2
    assert "password" in out + err
    assert "nope-S3cret" not in out + err


def test_a_history_store_in_the_app_database_is_never_taken_for_accounts(
    pg: Database, tmp_path: Path
) -> None:
    """The store's own schema (billdrift.findings has an account column) beside
    public.users: the second run must still find the one accounts table."""
    billing = _setup(pg, tmp_path)
    for run in (1, 2):
        code, _out, err = _check(
            "--billing", str(billing), "--app", pg.url, "--history", pg.url, "--format", "json"
        )
        assert code == 1, f"run {run}: {err}"
        assert "look like app accounts" not in err
    assert pg.execute("SELECT count(*) FROM billdrift.runs")[0][0] == 2
