"""Inputs that once passed silently or ended in an internal error, through the command
line: each is now a skipped row naming its line and field, or an error naming the input."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli

AS_OF = "2026-11-22T00:00:00Z"
SCHEMA = json.loads(
    (resources.files("billdrift") / "schema" / "report.schema.json").read_text("utf-8")
)
APP = "id,email,stripe_customer_id,has_paid_access\nu1,ann@example.com,cus_1,t\n"


def run(tmp_path: Path, billing: str, name: str, *extra: str) -> tuple[int, str, str]:
    (tmp_path / name).write_text(billing)
    (tmp_path / "users.csv").write_text(APP)
    args = ["check", "--billing", str(tmp_path / name), "--app", str(tmp_path / "users.csv")]
    result = CliRunner().invoke(cli.main, [*args, "--as-of", AS_OF, *extra])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("end", ["infinity", "epoch", "10000-01-01", "2026-12-01T00:00:00+99:00"])
def test_a_cancelling_row_paid_until_no_date_is_never_a_pass(tmp_path: Path, end: str) -> None:
    billing = (
        "id,Customer ID,Status,Current Period End (UTC),Cancel At Period End\n"
        f"sub_1,cus_1,active,{end},true\n"
    )
    code, out, err = run(tmp_path, billing, "subs.csv", "--format", "json")

    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert (code, report["verdict"]) == (2, "ERROR")
    [skip] = report["skipped"]
    assert (skip["source"], skip["location"], skip["field"]) == (
        "subs.csv",
        "line 2",
        "Current Period End (UTC)",
    )
    assert "internal error" not in err


@pytest.mark.parametrize("percent", ["NaN", "-Infinity", "-1e308", "Infinity"])
def test_a_percent_off_that_is_no_percentage_is_a_skip_not_nan_money(
    tmp_path: Path, percent: str
) -> None:
    record = (
        '{"id": "sub_1", "customer": "cus_1", "status": "canceled", "discounts": [{"id": '
        f'"di_1", "coupon": {{"percent_off": {percent}}}}}], "items": {{"data": [{{"price": '
        '{"id": "price_1", "unit_amount": 2900, "currency": "usd", "recurring": '
        '{"interval": "month"}}}]}}'
    )
    code, out, err = run(tmp_path, f"[{record}]", "subs.json", "--format", "json")

    assert "NaN" not in out and "Infinity" not in out
    report = json.loads(out)
    jsonschema.validate(report, SCHEMA)
    assert (code, report["verdict"]) == (2, "ERROR")
    assert [(s["location"], s["field"]) for s in report["skipped"]] == [
        ("[0] (sub_1)", "coupon.percent_off")
    ]
    assert "internal error" not in err


@pytest.mark.parametrize(
    "billing",
    [
        '[{"id": "sub_1", "customer": "cus_1", "status": "active", "items": {"data": '
        '[{"quantity": 9223372036854775808, "price": {"id": "p", "unit_amount": 1}}]}}]',
        '[{"id": "sub_1", "customer": "cus_1", "status": "active", "items": {"data": '
        '[{"price": {"id": "p", "unit_amount": 1e308}}]}}]',
        '[{"id": "sub_1", "customer": "cus_1", "status": "active", "items": {"data": [{"price":'
        ' {"id": "p", "recurring": {"interval": "year", "interval_count": 4611686018427387904}}}'
        "]}}]",
    ],
)
def test_numbers_beyond_any_price_are_skips_not_internal_errors(
    tmp_path: Path, billing: str
) -> None:
    code, out, err = run(tmp_path, billing, "subs.json", "--format", "json")

    assert (code, json.loads(out)["verdict"]) == (2, "ERROR")
    assert "could not be read" in err
    assert "internal error" not in err


def test_json_nested_a_thousand_levels_is_an_error_naming_the_file(tmp_path: Path) -> None:
    code, _, err = run(
        tmp_path, '{"object": "list", "data": [' + "[" * 3000 + "]" * 3000 + "]}", "deep.json"
    )

    assert code == 2
    assert "deep.json" in err and "nested too deeply" in err
    assert "internal error" not in err


@pytest.mark.parametrize("as_of", ["10000-01-01", "1969-07-20", "2026-11-22T00:00:00+19:00"])
def test_an_as_of_outside_the_accepted_range_names_the_option(tmp_path: Path, as_of: str) -> None:
    (tmp_path / "users.csv").write_text(APP)
    result = CliRunner().invoke(
        cli.main, ["check", "--billing", str(tmp_path / "users.csv"), "--as-of", as_of]
    )
    assert result.exit_code == 2
    assert "--as-of" in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[policy]\ngrace_days = 9223372036854775807\n", "policy.grace_days"),
        ("[policy]\nmax_skipped_ratio = nan\n", "policy.max_skipped_ratio"),
        ("[billing.stripe]\nmax_requests_per_second = inf\n", "max_requests_per_second"),
        (
            "[billing.stripe]\nmax_requests_per_second_per_endpoint = inf\n",
            "billing.stripe.max_requests_per_second_per_endpoint",
        ),
        (
            "[billing.paddle]\nmax_requests_per_second = 0\n",
            "billing.paddle.max_requests_per_second",
        ),
        ('[[exceptions]]\ncustomer = "cus_1"\nreason = "x"\nexpires = 1969-01-01\n', "expires"),
        ("a = " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
        ('[billing]\nencoding = "rot13"\n', "billing.encoding"),
        ('[app]\nencoding = "klingon"\n', "app.encoding"),
    ],
)
def test_config_values_beyond_bounds_are_errors_naming_file_and_key(
    tmp_path: Path, toml: str, named: str
) -> None:
    config = tmp_path / "billdrift.toml"
    config.write_text(toml)
    code, _, err = run(tmp_path, APP, "x.csv", "--config", str(config))

    assert code == 2
    assert "billdrift.toml" in err and named in err
    assert "internal error" not in err


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_conflicting_rows_of_one_subscription_never_pass(
    tmp_path: Path, order: tuple[int, int]
) -> None:
    rows = ["sub_1,cus_1,active\n", "sub_1,cus_1,canceled\n"]
    billing = "id,Customer ID,Status\n" + rows[order[0]] + rows[order[1]]
    code, out, _ = run(tmp_path, billing, "subs.csv", "--format", "json")

    report = json.loads(out)
    assert (code, report["verdict"]) == (2, "ERROR")  # 2 of 2 rows held: nothing to judge
    assert sorted(s["location"] for s in report["skipped"]) == ["line 2", "line 3"]
    assert all("different content (status: " in s["reason"] for s in report["skipped"])
