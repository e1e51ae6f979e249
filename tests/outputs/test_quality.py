"""Money the way founders read it, and how the data was read (issue 14): every format
shows monthly and annualized exposure and a data-quality section; the JSON carries both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.core.report import annualized


def test_annualized_is_exact_and_keeps_minor_units() -> None:
    monthly = {"BHD": "1.234", "EUR": "45.00", "JPY": "5000", "USD": "349.83"}
    assert annualized(monthly) == {
        "BHD": "14.808",
        "EUR": "540.00",
        "JPY": "60000",
        "USD": "4197.96",
    }
    huge = "12345678901234567890123456789.99"
    assert annualized({"USD": huge}) == {"USD": "148148146814814814681481481479.88"}


def demo(*args: str) -> str:
    return CliRunner().invoke(cli.main, ["demo", *args]).stdout


def test_the_json_carries_annualized_totals_and_data_quality() -> None:
    report: dict[str, Any] = json.loads(demo("--format", "json"))
    summary = report["summary"]
    assert summary["exposure"] == {"EUR": "45.00", "JPY": "5000", "USD": "349.83"}
    assert summary["exposure_annualized"] == {"EUR": "540.00", "JPY": "60000", "USD": "4197.96"}
    assert summary["exposure_by_kind_annualized"]["paid_but_blocked"] == {
        "JPY": "60000",
        "USD": "1404.00",
    }
    quality = report["data_quality"]
    assert quality["matched_by"] == {
        "customer_id": 16,
        "subscription_id": 0,
        "email": 0,
        "normalized_email": 1,
        "unmatched": 4,
    }
    assert sum(quality["matched_by"].values()) == summary["accounts"]
    assert quality["skipped_by_source"] == {}
    assert quality["columns"][0]["columns"].startswith("account_id=id, customer_id=")


@pytest.mark.parametrize("form", ["text", "markdown", "html"])
def test_every_human_format_shows_money_per_year_and_data_quality(form: str) -> None:
    text = " ".join(demo("--format", form).split())
    assert "USD 349.83/month = 4197.96/year" in text
    assert "paid_but_blocked: JPY 5000/month = 60000/year; USD 117.00/month = 1404.00/year" in text
    assert "accounts matched: 16 by customer id, 0 by subscription id" in text
    assert "1 by normalized email, 4 unmatched" in text
    assert "rows skipped: none" in text


def test_rows_skipped_are_counted_per_source(tmp_path: Path) -> None:
    billing = tmp_path / "subscriptions.csv"
    billing.write_text(
        "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
        "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
        + "".join(
            f"sub_{i},cus_{i},u{i}@example.com,active,price_pro,1,usd,month,29.00,"
            "2026-11-01 00:00,2026-12-01 00:00,false\n"
            for i in range(120)
        )
    )
    app = tmp_path / "users.csv"
    rows = "".join(f"u{i},cus_{i},t\n" for i in range(120))
    app.write_text("id,stripe_customer_id,has_paid_access\n,cus_x,t\n" + rows)
    inputs = ["--billing", str(billing), "--app", str(app), "--as-of", "2026-11-22T00:00:00Z"]
    result = CliRunner().invoke(cli.main, ["check", *inputs, "--format", "json"])
    report = json.loads(result.stdout)
    assert report["data_quality"]["skipped_by_source"] == {"users.csv": 1}
    assert report["data_quality"]["matched_by"]["customer_id"] == 120
    text = CliRunner().invoke(cli.main, ["check", *inputs]).stdout
    assert "rows skipped: 1 in app users.csv" in " ".join(text.split())
