"""The place a report shows for a reported row (issue 17: the readers give a line
number and the file's label, and the text is made for the reported rows only).

End to end through ``billdrift check``: the evidence's ``source`` must be the
physical line an editor shows, after quoted values spanning lines, blank lines and
skipped rows, exactly as when every row carried its text; JSON exports and SQLite
databases keep their own forms (``item``, ``rowid=``).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from billdrift.cli import app as cli

AS_OF = "2026-11-22T00:00:00Z"
_PERIOD = "2026-11-01 00:00,2026-12-01 00:00,false"

BILLING_CSV = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End,Description\n"
    # line 2, a description on two lines (2 and 3)
    f'sub_0,cus_0,zed@example.com,active,price_pro,1,usd,month,29.00,{_PERIOD},"two\n'
    'lines"\n'
    # line 4: not a date, skipped
    "sub_9,cus_9,x@example.com,active,price_pro,1,usd,month,29.00,"
    "someday,2026-12-01 00:00,false,\n"
    "\n"  # line 5, blank
    f"sub_1,cus_1,ann@example.com,active,price_pro,1,usd,month,29.00,{_PERIOD},\n"  # line 6
    f"sub_4,cus_4,orphan@example.com,active,price_pro,1,usd,month,29.00,{_PERIOD},\n"  # 7
)

APP_CSV = (
    "id,email,stripe_customer_id,has_paid_access,plan,notes\n"
    'u0,zed@example.com,cus_0,t,pro,"a note\n'  # lines 2 and 3
    'on two lines"\n'
    ",nobody@example.com,cus_8,t,pro,\n"  # line 4: no account id, skipped
    "u1,ann@example.com,cus_1,f,pro,\n"  # line 5: paid but blocked
)


def _check(tmp_path: Path, billing: Path, app: Path) -> dict[str, Any]:
    config = tmp_path / "billdrift.toml"
    config.write_text("[policy]\nmax_skipped_ratio = 0.5\n")
    result = CliRunner().invoke(
        cli.main,
        [
            "check",
            "--billing",
            str(billing),
            "--app",
            str(app),
            "--config",
            str(config),
            "--as-of",
            AS_OF,
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 1, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _sources(document: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    """Each finding's (kind, account or subscription) and its evidence's sources."""
    found = {}
    for finding in document["findings"]:
        evidence = finding["evidence"]
        found[(finding["kind"], finding["account_id"] or finding["subscription_id"])] = {
            side: evidence[side].get("source") for side in ("billing", "app") if side in evidence
        }
    return found


def test_csv_rows_are_reported_at_their_physical_lines(tmp_path: Path) -> None:
    billing, app = tmp_path / "subs.csv", tmp_path / "users.csv"
    billing.write_text(BILLING_CSV)
    app.write_text(APP_CSV)
    document = _check(tmp_path, billing, app)
    assert _sources(document) == {
        ("paid_but_blocked", "u1"): {"billing": "subs.csv:line 6", "app": "users.csv:line 5"},
        ("orphaned_subscription", "sub_4"): {"billing": "subs.csv:line 7"},
    }
    skipped = {(skip["source"], skip["location"]) for skip in document["skipped"]}
    assert skipped == {("subs.csv", "line 4"), ("users.csv", "line 4")}


def test_json_items_and_sqlite_rows_keep_their_own_places(tmp_path: Path) -> None:
    """A JSON export gives its places as text (``item``), a SQLite table as a rowid
    label and number: both reach the report as before."""
    record = {
        "object": "subscription",
        "status": "active",
        "current_period_start": 1761955200,  # 2025-11-01
        "current_period_end": 1798761600,  # 2027-01-01
        "items": {"data": [{"price": {"id": "price_pro", "unit_amount": 2900}}]},
    }
    records = [
        {**record, "id": "sub_0", "customer": "cus_0"},
        "not a subscription",  # skipped
        {**record, "id": "sub_1", "customer": "cus_1"},
    ]
    billing = tmp_path / "subs.json"
    billing.write_text(json.dumps({"data": records}))
    database = tmp_path / "app.db"
    with sqlite3.connect(database) as con:
        con.execute("CREATE TABLE users (id TEXT, stripe_customer_id TEXT, has_paid_access INT)")
        con.executemany(
            "INSERT INTO users (rowid, id, stripe_customer_id, has_paid_access) VALUES (?,?,?,?)",
            [(3, "u0", "cus_0", 1), (42, "u1", "cus_1", 0)],
        )
    document = _check(tmp_path, billing, database)
    assert _sources(document) == {
        ("paid_but_blocked", "u1"): {
            "billing": "subs.json:data[2]",
            "app": "app.db:users rowid=42",
        }
    }
