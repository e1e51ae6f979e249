"""doctor names the rules a set-up leaves blind, each with a fix (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from billdrift.cli import app as cli

HEADER = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
)
ROW = "sub_1,cus_1,{email},active,price_pro,1,usd,month,29.00,{start},{end},false\n"
PERIOD = {"start": "2026-11-01 00:00", "end": "2026-12-01 00:00"}


def doctor(
    tmp_path: Path,
    app_header: str = "id,email,stripe_customer_id,has_paid_access,plan",
    email: str = "ann@example.com",
    period: dict[str, str] = PERIOD,
    config: str = "",
) -> dict[str, dict[str, Any]]:
    billing = tmp_path / "subscriptions.csv"
    billing.write_text(HEADER + ROW.format(email=email, **period))
    values = {"id": "u1", "email": "ann@example.com", "stripe_customer_id": "cus_1"}
    values |= {"has_paid_access": "t", "plan": "pro"}
    app = tmp_path / "users.csv"
    columns = app_header.split(",")
    app.write_text(app_header + "\n" + ",".join(values[c] for c in columns) + "\n")
    toml = tmp_path / "billdrift.toml"
    toml.write_text(config)
    inputs = ["--app", str(app), "--billing", str(billing)]
    result = CliRunner().invoke(
        cli.main, ["doctor", "--config", str(toml), *inputs, "--format", "json"]
    )
    report = json.loads(result.stdout)
    assert result.exit_code == {"ok": 0, "warn": 1, "fail": 2}[report["status"]]
    return {check["name"]: check for check in report["checks"]}


def rule_checks(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {
        name: check["status"]
        for name, check in checks.items()
        if name == "rules" or name.startswith("rule ")
    }


PLANS = '[plans]\nprice_pro = "pro"\n'


def test_everything_in_place_is_one_ok_rules_check(tmp_path: Path) -> None:
    assert rule_checks(doctor(tmp_path, config=PLANS)) == {"rules": "ok"}


def test_a_plan_column_without_plans_warns_that_plan_drift_is_unchecked(tmp_path: Path) -> None:
    checks = doctor(tmp_path)
    assert rule_checks(checks) == {"rule plan_drift": "warn"}
    check = checks["rule plan_drift"]
    assert "plan drift is not checked" in check["detail"] and "'plan'" in check["detail"]
    assert "billdrift init --force" in check["fix"]


def test_plans_without_a_plan_column_warn(tmp_path: Path) -> None:
    checks = doctor(tmp_path, "id,email,stripe_customer_id,has_paid_access", config=PLANS)
    assert rule_checks(checks) == {"rule plan_drift": "warn"}
    assert checks["rule plan_drift"]["fix"] == "name the app's plan column as app.columns.plan"


def test_no_plan_column_and_no_plans_is_ok_and_says_so(tmp_path: Path) -> None:
    checks = doctor(tmp_path, "id,email,stripe_customer_id,has_paid_access")
    assert rule_checks(checks) == {"rules": "ok"}
    assert "no plan column and no [plans]" in checks["rules"]["detail"]


def test_no_app_email_column_warns(tmp_path: Path) -> None:
    checks = doctor(tmp_path, "id,stripe_customer_id,has_paid_access,plan", config=PLANS)
    assert rule_checks(checks) == {"rule email matching": "warn"}
    assert "app.columns.email" in checks["rule email matching"]["fix"]


def test_billing_without_any_customer_email_warns_with_the_export_command(
    tmp_path: Path,
) -> None:
    checks = doctor(tmp_path, email="", config=PLANS)
    assert rule_checks(checks) == {"rule email matching": "warn"}
    check = checks["rule email matching"]
    assert "customers were not expanded" in check["detail"]
    assert "-d status=all" in check["fix"] and "-e data.customer" in check["fix"]


def test_no_customer_id_column_warns_that_links_are_unchecked(tmp_path: Path) -> None:
    checks = doctor(tmp_path, "id,email,has_paid_access,plan", config=PLANS)
    assert rule_checks(checks) == {"rule customer links": "warn"}


def test_billing_without_period_dates_warns_that_grace_cannot_be_computed(
    tmp_path: Path,
) -> None:
    checks = doctor(tmp_path, period={"start": "", "end": ""}, config=PLANS)
    assert rule_checks(checks) == {"rule grace": "warn"}
    assert "grace window cannot be computed" in checks["rule grace"]["detail"]
    only_end = doctor(tmp_path, period={"start": "", "end": "2026-12-01 00:00"}, config=PLANS)
    assert rule_checks(only_end) == {"rules": "ok"}
