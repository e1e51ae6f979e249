"""Completeness hints (issue 14): an export saved without status=all or without expanded
customers is named in the report's notes, with the command that saves a complete one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.core.completeness import ABSENT_CUSTOMERS
from billdrift.core.engine import workspace
from tests.builders import account, app, billing, inputs, sub

AS_OF = "2026-11-22T00:00:00Z"
PERIOD = {"current_period_start": 1794268800, "current_period_end": 1796860800}


def subscription(sub: str, customer: str, status: str, *, expanded: bool = True) -> dict[str, Any]:
    who: object = (
        {"id": customer, "object": "customer", "email": f"{customer}@example.com"}
        if expanded
        else customer
    )
    price = {
        "id": "price_pro",
        "unit_amount": 4900,
        "currency": "usd",
        "recurring": {"interval": "month", "interval_count": 1},
    }
    return {
        "id": sub,
        "object": "subscription",
        "customer": who,
        "status": status,
        "cancel_at_period_end": False,
        "created": 1791676800,
        "currency": "usd",
        "items": {
            "object": "list",
            "data": [{"id": f"si_{sub}", "price": price, "quantity": 1, **PERIOD}],
        },
    }


def check(tmp_path: Path, subscriptions: list[dict[str, Any]], app_rows: str) -> dict[str, Any]:
    billing = tmp_path / "subscriptions.json"
    billing.write_text(json.dumps({"object": "list", "has_more": False, "data": subscriptions}))
    app = tmp_path / "users.csv"
    app.write_text("id,email,stripe_customer_id,has_paid_access\n" + app_rows)
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(billing),
            "--app",
            str(app),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def hints(report: dict[str, Any]) -> list[str]:
    return [note for note in report["notes"] if note.startswith("Incomplete export?")]


def kinds(report: dict[str, Any]) -> list[str]:
    return sorted(finding["kind"] for finding in report["findings"])


APP = "u1,cus_1@example.com,cus_1,true\nu2,cus_2@example.com,cus_2,true\n"


def test_no_ended_subscription_and_absent_customers_gives_the_status_all_hint(
    tmp_path: Path,
) -> None:
    report = check(tmp_path, [subscription("sub_1", "cus_1", "active")], APP)
    assert kinds(report) == ["stale_billing_link"]
    (hint,) = hints(report)
    assert "no ended subscription" in hint and "1 account(s)" in hint
    assert "stripe get /v1/subscriptions -d status=all -d limit=100 -e data.customer" in hint
    assert "billdrift check --billing stripe" in hint
    assert report["verdict"] == "WARN"  # the findings decide; a hint is no ERROR


def test_a_complete_export_gives_no_hint_and_the_real_finding(tmp_path: Path) -> None:
    complete = [
        subscription("sub_1", "cus_1", "active"),
        subscription("sub_2", "cus_2", "canceled"),
    ]
    report = check(tmp_path, complete, APP)
    assert hints(report) == []
    assert kinds(report) == ["unpaid_but_active"]


def test_no_ended_subscription_but_every_link_found_gives_no_hint(tmp_path: Path) -> None:
    report = check(tmp_path, [subscription("sub_1", "cus_1", "active")], APP.splitlines()[0] + "\n")
    assert hints(report) == []


def test_an_ended_subscription_makes_absent_customers_plain_stale_links(tmp_path: Path) -> None:
    subs = [subscription("sub_1", "cus_1", "active"), subscription("sub_3", "cus_3", "canceled")]
    report = check(tmp_path, subs, APP)
    assert hints(report) == []
    assert kinds(report) == ["stale_billing_link"]


EMAIL_ONLY = "u1,cus_1@example.com,cus_1,true\nu3,cus_3@example.com,,true\n"


def test_customers_not_expanded_while_accounts_need_email_matching_gives_a_hint(
    tmp_path: Path,
) -> None:
    subs = [
        subscription("sub_1", "cus_1", "active", expanded=False),
        subscription("sub_3", "cus_3", "canceled", expanded=False),
    ]
    report = check(tmp_path, subs, EMAIL_ONLY)
    (hint,) = hints(report)
    assert "no customer email (customers not expanded)" in hint and "1 account(s)" in hint
    assert "-e data.customer" in hint


def test_expanded_customers_give_no_hint_and_match_by_email(tmp_path: Path) -> None:
    subs = [
        subscription("sub_1", "cus_1", "active"),
        subscription("sub_3", "cus_3", "canceled"),
    ]
    report = check(tmp_path, subs, EMAIL_ONLY)
    assert hints(report) == []
    assert kinds(report) == ["unpaid_but_active"]


def test_bare_customer_ids_give_no_hint_when_every_account_is_linked_by_id(
    tmp_path: Path,
) -> None:
    subs = [subscription("sub_1", "cus_1", "active", expanded=False)]
    report = check(tmp_path, subs, APP.splitlines()[0] + "\n")
    assert hints(report) == []


def test_one_saved_page_of_a_longer_list_gives_a_hint(tmp_path: Path) -> None:
    billing = tmp_path / "page.json"
    page = {"object": "list", "has_more": True, "data": [subscription("sub_1", "cus_1", "active")]}
    billing.write_text(json.dumps(page))
    app = tmp_path / "users.csv"
    app.write_text("id,email,stripe_customer_id,has_paid_access\n" + APP.splitlines()[0] + "\n")
    result = CliRunner().invoke(
        cli.main, ["check", "--billing", str(billing), "--app", str(app), "--as-of", AS_OF]
    )
    text = " ".join(result.stdout.split())  # the text report wraps its notes
    assert "page.json is one page of a longer list (has_more is true)" in text
    assert "only 1 subscription(s) were saved" in text
    page["has_more"] = False
    billing.write_text(json.dumps(page))
    result = CliRunner().invoke(
        cli.main, ["check", "--billing", str(billing), "--app", str(app), "--as-of", AS_OF]
    )
    assert "has_more" not in result.stdout


def test_absent_customers_count_accounts_not_customers() -> None:
    """The hint's count comes from ``customer_keys``: every account whose stored id
    no subscription names, two accounts on one absent id counted twice, an account
    without an id not at all, as the anti-join over every account counted them."""
    accounts = [
        account("a1", "cus_gone"),
        account("a2", "cus_gone"),
        account("a3", "cus_lost"),
        account("a4", None),
        account("a5", "cus_1"),
        account("a6", "cus_1"),
    ]
    anti_join = """
SELECT count(*) FROM app_accounts a WHERE a.customer_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM billing_subscriptions s WHERE s.customer_id = a.customer_id)"""
    with workspace(
        inputs(billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2")), app(*accounts))
    ) as con:
        counted = con.sql(ABSENT_CUSTOMERS).fetchall()[0][0]
        assert counted == con.sql(anti_join).fetchall()[0][0] == 3
