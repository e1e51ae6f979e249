"""Boundaries a whole `check` decides, from real files: the share of unreadable rows
that turns a run into ERROR (exit 2), the `fail_on` threshold as an exit code, and
the plan map over the keys a Stripe export carries (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import billdrift
from billdrift.cli import app as cli
from billdrift.core.model import Verdict

AS_OF = "2026-11-22T00:00:00Z"
BILLING_HEADER = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
)
APP_HEADER = "id,email,stripe_customer_id,has_paid_access,plan\n"


def inputs(tmp_path: Path, rows: int, bad_app: int = 0, bad_billing: int = 0) -> tuple[str, str]:
    """`rows` customers in sync on both sides; the first `bad_app` app rows carry an
    unreadable access flag and the last `bad_billing` billing rows an unreadable
    quantity, so each side has `rows` rows of which that many are skipped."""
    billing, app = tmp_path / "subscriptions.csv", tmp_path / "users.csv"
    billing.write_text(
        BILLING_HEADER
        + "".join(
            f"sub_{i},cus_{i},u{i}@example.com,active,price_pro,"
            f"{-1 if i >= rows - bad_billing else 1},usd,month,29.00,"
            "2026-11-01 00:00,2026-12-01 00:00,false\n"
            for i in range(rows)
        )
    )
    app.write_text(
        APP_HEADER
        + "".join(
            f"u{i},u{i}@example.com,cus_{i},{'maybe' if i < bad_app else 't'},pro\n"
            for i in range(rows)
        )
    )
    return str(billing), str(app)


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "billdrift.toml"
    path.write_text(text)
    return str(path)


def cli_check(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli.main, ["check", "--as-of", AS_OF, "--format", "json", *args])
    return result.exit_code, json.loads(result.stdout)


# --- max_skipped_ratio --------------------------------------------------------------


@pytest.mark.parametrize("side", ["app", "billing"])
@pytest.mark.parametrize(
    ("ratio", "skipped", "error"),
    [
        (None, 1, False),  # 1 of 100 = the default 0.01: at the limit, not over it
        (None, 2, True),
        ("0.05", 5, False),
        ("0.05", 6, True),
        ("0", 1, True),  # 0: any unreadable row is an error
        # compared as the decimal written, not in binary: 0.29 * 100 < 29 in a double
        ("0.29", 29, False),
        ("0.29", 30, True),
    ],
)
def test_more_skipped_rows_than_max_skipped_ratio_is_an_error(
    tmp_path: Path, side: str, ratio: str | None, skipped: int, error: bool
) -> None:
    bad = {"bad_app": skipped} if side == "app" else {"bad_billing": skipped}
    billing, app = inputs(tmp_path, 100, **bad)
    settings = config(tmp_path, f"[policy]\nmax_skipped_ratio = {ratio}\n" if ratio else "")

    report = billdrift.check(billing, app, config=settings, as_of=AS_OF)
    assert len(report.skips) == skipped
    assert {skip.side for skip in report.skips} == {side}
    if error:
        assert (report.verdict, report.exit_code) == (Verdict.ERROR, 2)
        assert report.findings == ()
        assert f"{skipped} of 100 {side} rows could not be read" in report.errors[0]
        assert "policy.max_skipped_ratio" in report.errors[0]
    else:
        # skipped rows are reported, never a PASS; the customers they name are
        # held back as ambiguous (billing) or not reported (app)
        assert report.errors == ()
        assert report.verdict is Verdict.WARN and report.exit_code == 0
        assert {f.kind.value for f in report.findings} <= {"ambiguous"}

    code, document = cli_check("--billing", billing, "--app", app, "--config", settings)
    assert (code, document["verdict"]) == ((2, "ERROR") if error else (0, "WARN"))


@pytest.mark.parametrize(
    ("ratio", "skipped", "error"),
    [(None, 1, False), (None, 2, True), ("0.29", 29, False), ("0.29", 30, True)],
)
def test_doctor_judges_skipped_rows_as_check_does(
    tmp_path: Path, ratio: str | None, skipped: int, error: bool
) -> None:
    """`doctor` promises to fail above max_skipped_ratio "as in check": same files, same
    setting, same side of the boundary."""
    billing, app = inputs(tmp_path, 100, bad_app=skipped)
    settings = config(tmp_path, f"[policy]\nmax_skipped_ratio = {ratio}\n" if ratio else "")
    _, document = cli_check("--billing", billing, "--app", app, "--config", settings)
    assert (document["verdict"] == "ERROR") is error
    result = CliRunner().invoke(
        cli.main,
        ["doctor", "--config", settings, "--app", app, "--billing", billing, "--format", "json"],
    )
    checks = {check["name"]: check for check in json.loads(result.stdout)["checks"]}
    assert checks["app rows"]["status"] == ("fail" if error else "warn")


# --- fail_on as an exit code -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fail_on", "flag", "code"),
    [
        (None, None, 0),  # default high: a medium finding is below it
        ('"medium"', None, 1),  # at the threshold
        ('"low"', None, 1),  # above the threshold
        ('"low"', "high", 0),  # the flag wins over the config
        (None, "medium", 1),
    ],
)
def test_a_finding_at_or_above_fail_on_exits_1_below_it_0(
    tmp_path: Path, fail_on: str | None, flag: str | None, code: int
) -> None:
    billing, app = inputs(tmp_path, 3)
    # drop the last account: its live subscription is orphaned (medium)
    Path(app).write_text("".join(Path(app).read_text().splitlines(keepends=True)[:-1]))
    settings = config(tmp_path, f"[output]\nfail_on = {fail_on}\n" if fail_on else "")
    args = ["--billing", billing, "--app", app, "--config", settings]
    exit_code, document = cli_check(*args, *(["--fail-on", flag] if flag else []))
    assert document["summary"]["by_severity"] == {"medium": 1}
    assert (exit_code, document["verdict"]) == (code, "FAIL" if code else "WARN")


# --- the plan map over what a Stripe export carries -----------------------------------


def stripe_subscription(price: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_1",
        "status": "active",
        "created": 1790000000,
        "items": {
            "object": "list",
            "data": [
                {
                    "price": {
                        "id": "price_1",
                        "currency": "usd",
                        "unit_amount": 2900,
                        "recurring": {"interval": "month", "interval_count": 1},
                        **price,
                    },
                    "quantity": 1,
                    "current_period_start": 1793000000,
                    "current_period_end": 1795600000,
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("price", "key"),
    [
        ({}, "price_1"),
        ({"lookup_key": "pro_monthly"}, "pro_monthly"),
        ({"product": "prod_pro"}, "prod_pro"),
        ({"product": {"id": "prod_pro", "object": "product"}}, "prod_pro"),
        ({"nickname": "Pro monthly"}, "Pro monthly"),
    ],
    ids=["price-id", "lookup-key", "product-id", "expanded-product", "plan-name"],
)
@pytest.mark.parametrize(("app_plan", "drift"), [("pro", False), ("basic", True)])
def test_a_stripe_price_maps_to_a_plan_by_each_of_its_keys(
    tmp_path: Path, price: dict[str, Any], key: str, app_plan: str, drift: bool
) -> None:
    billing = tmp_path / "subscriptions.json"
    billing.write_text(json.dumps({"object": "list", "data": [stripe_subscription(price)]}))
    app = tmp_path / "users.csv"
    app.write_text(f"{APP_HEADER}u1,ann@example.com,cus_1,t,{app_plan}\n")
    # "price_1" maps only when it is the key under test: other keys must do the work
    plans = {key: "pro"} if key == "price_1" else {key: "pro", "price_other": "basic"}
    report = billdrift.check(str(billing), str(app), plans=plans, as_of=AS_OF)
    assert [f.kind.value for f in report.findings] == (["plan_drift"] if drift else [])
