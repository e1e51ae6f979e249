"""fix apply against real PostgreSQL, MariaDB and SQLite: the whole loop through the CLI.

check (read-only, with history) -> fix plan -> fix apply (write URL) -> check again:
the planned rows are fixed and nothing else; a row changed after the check makes the
plan refused and rolled back; applying twice changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli.app import main
from billdrift.errors import SourceError
from billdrift.history import open_store
from billdrift.infra.db.writable import transaction, writable_url
from tests.infra.db.conftest import Database, maria, pg  # noqa: F401  (fixtures)

ROWS = [
    # id, customer, plan, has_paid_access, subscription_status
    ("1", "cus_ok", "pro", True, "active"),  # in sync
    ("2", "cus_bob", "free", False, "canceled"),  # paid_but_blocked
    ("3", "cus_carol", "pro", True, "active"),  # unpaid_but_active (left to review)
    ("4", "cus_dave", "basic", True, "active"),  # plan_drift -> pro
    ("O'Brien", "cus_ob", "pro", False, "active"),  # paid_but_blocked, hostile id
    ('=HYPERLINK("x")', "cus_hl", "pro", False, "active"),  # paid_but_blocked
]
SUBSCRIPTIONS = [
    ("cus_ok", "active", "price_pro"),
    ("cus_bob", "active", "price_pro"),
    ("cus_carol", "canceled", "price_pro"),
    ("cus_dave", "active", "price_pro"),
    ("cus_ob", "active", "price_pro"),
    ("cus_hl", "active", "price_pro"),
]
FIXED = {"2", "4", "O'Brien", '=HYPERLINK("x")'}


@dataclass
class App:
    """One app database: its URL, how to run SQL in it, and its dialect."""

    url: str
    dialect: str
    run: Callable[[str], list[tuple[Any, ...]]]

    def rows(self) -> dict[str, tuple[Any, ...]]:
        got = self.run("SELECT id, plan, has_paid_access FROM users")
        return {str(r[0]): (r[1], bool(r[2])) for r in got}


def _billing(path: Path) -> None:
    data = [
        {
            "id": f"sub_{customer}",
            "object": "subscription",
            "customer": customer,
            "status": status,
            "current_period_start": 1763942400,
            "current_period_end": 1766534400,
            "items": {
                "data": [
                    {
                        "price": {
                            "id": price,
                            "unit_amount": 1900,
                            "currency": "usd",
                            "recurring": {"interval": "month"},
                        },
                        "quantity": 1,
                    }
                ]
            },
        }
        for customer, status, price in SUBSCRIPTIONS
    ]
    path.write_text(json.dumps({"object": "list", "data": data}))


def _config(path: Path, source: str) -> None:
    path.write_text(
        '[plans]\nprice_pro = "pro"\n[app]\n'
        f'source = {json.dumps(source)}\ntable = "users"\n'
        'access_fields = ["has_paid_access"]\nstatus_fields = ["subscription_status"]\n'
        '[app.columns]\naccount_id = "id"\ncustomer_id = "stripe_customer_id"\n'
        'plan = "plan"\n'
    )


def _create(run: Callable[[str], Any], boolean: str) -> None:
    run(
        "CREATE TABLE users (id VARCHAR(64) PRIMARY KEY, stripe_customer_id VARCHAR(64), "
        f"plan VARCHAR(32), has_paid_access {boolean}, subscription_status VARCHAR(32))"
    )


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> App:
    if request.param == "sqlite":
        path = tmp_path / "app.sqlite"

        def run(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as con:
                return con.execute(sql).fetchall()

        _create(run, "INTEGER")
        with sqlite3.connect(path) as con:
            con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", ROWS)
        return App(f"sqlite:///{path}", "sqlite", run)
    db: Database = request.getfixturevalue("pg" if request.param == "postgresql" else "maria")
    _create(db.execute, "BOOLEAN")
    for row in ROWS:
        db.execute("INSERT INTO users VALUES (%s, %s, %s, %s, %s)", row)
    return App(db.url, request.param, db.execute)


@dataclass
class Loop:
    tmp: Path
    app: App
    monkeypatch: pytest.MonkeyPatch

    def cli(self, *args: str, stdin: str | None = None) -> Any:
        self.monkeypatch.chdir(self.tmp)
        return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)

    def check(self) -> Any:
        return self.cli(
            "check",
            "--config",
            "billdrift.toml",
            "--billing",
            "subs.json",
            "--as-of",
            "2025-12-01",
            "--history",
            "h.sqlite",
            "--format",
            "json",
            "--output",
            "r.json",
        )

    def findings(self) -> set[tuple[str, str]]:
        report = json.loads((self.tmp / "r.json").read_text())
        return {(f["kind"], f["account_id"]) for f in report["findings"]}


@pytest.fixture
def loop(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Loop:
    # The config reads the app through the same URL (read-only there); apply gets it
    # explicitly. A real setup would give a read-only role to check and a writer to apply.
    _config(tmp_path / "billdrift.toml", app.url)
    _billing(tmp_path / "subs.json")
    loop = Loop(tmp_path, app, monkeypatch)
    assert loop.check().exit_code == 1
    return loop


def test_a_plan_applied_fixes_exactly_the_planned_rows(loop: Loop) -> None:
    before = loop.app.rows()
    assert loop.findings() >= {("paid_but_blocked", "2"), ("plan_drift", "4")}
    made = loop.cli(
        "fix", "plan", "--config", "billdrift.toml", "--history", "h.sqlite", "--output", "p.sql"
    )
    assert made.exit_code == 0, made.output
    declined = loop.cli("fix", "apply", "p.sql", "--app-url", loop.app.url, stdin="n\n")
    assert declined.exit_code == 2 and loop.app.rows() == before
    done = loop.cli(
        "fix", "apply", "p.sql", "--app-url", loop.app.url, "--history", "h.sqlite", stdin="y\n"
    )
    assert done.exit_code == 0, done.output
    after = loop.app.rows()
    assert {k for k in after if after[k] != before[k]} == FIXED
    assert after["2"] == ("free", True) and after["4"] == ("pro", True)
    assert after["3"] == before["3"]  # unpaid_but_active: left to review
    loop.check()
    planned = {("paid_but_blocked", a) for a in FIXED - {"4"}} | {("plan_drift", "4")}
    assert not planned & loop.findings()
    assert ("unpaid_but_active", "3") in loop.findings()
    again = loop.cli(
        "fix", "apply", "p.sql", "--app-url", loop.app.url, "--yes", "--history", "h.sqlite"
    )
    assert again.exit_code == 0 and "nothing to do" in again.output
    assert loop.app.rows() == after
    with open_store(loop.tmp / "h.sqlite") as store:
        outcomes = [(r.outcome, r.rows_changed) for r in store.fix_applications()]
    assert outcomes == [("applied", len(FIXED)), ("nothing_to_do", 0)]


def test_a_plan_applied_after_the_data_changed_is_refused_and_changes_nothing(
    loop: Loop,
) -> None:
    loop.cli(
        "fix", "plan", "--config", "billdrift.toml", "--history", "h.sqlite", "--output", "p.sql"
    )
    loop.app.run("UPDATE users SET plan = 'team' WHERE id = '2'")
    before = loop.app.rows()
    refused = loop.cli(
        "fix", "apply", "p.sql", "--app-url", loop.app.url, "--yes", "--history", "h.sqlite"
    )
    assert refused.exit_code == 2
    assert "REFUSED: the row changed since the check" in refused.output
    assert loop.app.rows() == before  # rolled back: the unchanged rows are not fixed either
    with open_store(loop.tmp / "h.sqlite") as store:
        assert [r.outcome for r in store.fix_applications()] == ["refused"]


def test_revoking_is_planned_only_when_asked_for(loop: Loop) -> None:
    made = loop.cli(
        "fix",
        "plan",
        "--config",
        "billdrift.toml",
        "--history",
        "h.sqlite",
        "--kind",
        "unpaid_but_active",
        "--output",
        "p.sql",
    )
    assert made.exit_code == 0
    assert loop.cli("fix", "apply", "p.sql", "--app-url", loop.app.url, "--yes").exit_code == 0
    assert loop.app.rows()["3"] == ("pro", False)


def test_a_statement_blocked_past_the_statement_timeout_fails_cleanly(loop: Loop) -> None:
    """A row another transaction holds (SQLite: the whole file) makes a statement wait;
    past --statement-timeout it fails at the server, everything is rolled back, exit 2."""
    loop.cli(
        "fix", "plan", "--config", "billdrift.toml", "--history", "h.sqlite", "--output", "p.sql"
    )
    before = loop.app.rows()
    with transaction(writable_url(loop.app.url)) as holder:
        holder.execute("UPDATE users SET plan = plan WHERE id = '2'")  # held until the end
        started = time.monotonic()
        blocked = loop.cli(
            "fix", "apply", "p.sql", "--app-url", loop.app.url, "--yes", "--statement-timeout", "1"
        )
        took = time.monotonic() - started
    assert blocked.exit_code == 2, blocked.output
    assert "longer than 1 s (--statement-timeout changes it)" in blocked.output
    assert "everything was rolled back" in blocked.output
    assert took < 20, took  # the default limit would have waited 30 s
    assert loop.app.rows() == before


def test_a_long_sqlite_statement_is_interrupted_at_the_statement_timeout(tmp_path: Path) -> None:
    path = tmp_path / "app.sqlite"
    sqlite3.connect(path).close()
    endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c"
    started = time.monotonic()
    with (
        pytest.raises(SourceError, match=r"longer than 0\.5 s"),
        transaction(writable_url(str(path)), statement_seconds=0.5) as session,
    ):
        session.execute(endless)
    assert time.monotonic() - started < 10
