"""fix plan: what each kind becomes, guards, quoting, determinism (SQLite runs the SQL)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from billdrift.core.model import Kind
from billdrift.errors import ConfigError
from billdrift.usecases import fix
from billdrift.usecases.fix.decide import decide, spelled
from billdrift.usecases.fix.script import PLAN_MARKER, PlanFileError, load, render
from tests.usecases.fix.helpers import config, finding, selected

GRANTING = ("active", "trialing", "past_due", "paid", "pro")


def _plan(*items: fix.decide.Selected, dialect: fix.Dialect = "sqlite") -> fix.FixPlan:
    columns = fix.columns_from_config(config())
    statements, refused = decide(items, columns, GRANTING)
    return fix.FixPlan(dialect, ("users",), "test", statements, refused)


def _users(rows: list[tuple[object, ...]]) -> sqlite3.Connection:
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE TABLE users (id TEXT PRIMARY KEY, stripe_customer_id TEXT, plan TEXT, "
        "has_paid_access INTEGER, subscription_status TEXT)"
    )
    con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", rows)
    con.commit()
    return con


def _run(con: sqlite3.Connection, plan: fix.FixPlan) -> None:
    con.executescript(render(plan))


def test_paid_but_blocked_grants_access_guarded_by_what_was_seen() -> None:
    plan = _plan(selected(finding(Kind.PAID_BUT_BLOCKED, "2", flag="0")))
    (statement,) = plan.statements
    assert [(c.column, c.before, c.after) for c in statement.changes] == [
        ("has_paid_access", "0", "1")
    ]
    con = _users([("2", "cus_1", "pro", 0, "active"), ("3", "cus_1", "pro", 0, "active")])
    _run(con, plan)
    assert con.execute("SELECT id, has_paid_access FROM users ORDER BY id").fetchall() == [
        ("2", 1),
        ("3", 0),
    ]


@pytest.mark.parametrize(
    ("column", "value"),
    [("has_paid_access", 1), ("plan", "basic"), ("stripe_customer_id", "cus_other")],
)
def test_a_row_changed_since_the_check_is_left_alone(column: str, value: object) -> None:
    plan = _plan(selected(finding(Kind.PAID_BUT_BLOCKED, "2", flag="0")))
    con = _users([("2", "cus_1", "pro", 0, "active")])
    con.execute(f"UPDATE users SET {column} = ?", (value,))
    before = con.execute("SELECT * FROM users").fetchall()
    _run(con, plan)
    assert con.execute("SELECT * FROM users").fetchall() == before


def test_status_guard_compares_as_billdrift_read_it() -> None:
    """Statuses are read trimmed and lower-cased: ' Active ' is what was seen as 'active'."""
    plan = _plan(selected(finding(Kind.PAID_BUT_BLOCKED, "2", flag="0", status="active")))
    con = _users([("2", "cus_1", "pro", 0, " Active ")])
    _run(con, plan)
    assert con.execute("SELECT has_paid_access FROM users").fetchone() == (1,)


def test_unpaid_but_active_only_when_selected_explicitly() -> None:
    item = finding(Kind.UNPAID_BUT_ACTIVE, "3", flag="1", billing_status="canceled")
    left = _plan(selected(item))
    assert not left.statements
    assert "review" in left.not_fixable[0].reason
    taken = _plan(selected(item, explicit=True))
    assert [(c.column, c.after) for c in taken.statements[0].changes] == [("has_paid_access", "0")]


def test_plan_drift_sets_the_one_mapped_plan_and_refuses_a_choice() -> None:
    one = _plan(
        selected(finding(Kind.PLAN_DRIFT, "7", flag="1", plan="basic", expected_plans=["pro"]))
    )
    assert [(c.column, c.before, c.after) for c in one.statements[0].changes] == [
        ("plan", "basic", "pro")
    ]
    two = _plan(
        selected(finding(Kind.PLAN_DRIFT, "7", flag="1", plan="x", expected_plans=["pro", "team"]))
    )
    assert not two.statements and "several plans" in two.not_fixable[0].reason


def test_app_fields_disagree_follows_billing() -> None:
    grant = _plan(selected(finding(Kind.APP_FIELDS_DISAGREE, "19", flag="0", entitles=True)))
    assert grant.statements[0].changes[0].after == "1"
    status_only = _plan(
        selected(finding(Kind.APP_FIELDS_DISAGREE, "13", flag="1", status="canceled"))
    )
    assert not status_only.statements and "status" in status_only.not_fixable[0].reason
    unknown = _plan(selected(finding(Kind.APP_FIELDS_DISAGREE, "13", flag="1", entitles=None)))
    assert not unknown.statements


@pytest.mark.parametrize(
    "kind",
    [
        Kind.ORPHANED_SUBSCRIPTION,
        Kind.MISSING_BILLING_LINK,
        Kind.STALE_BILLING_LINK,
        Kind.DUPLICATE_CUSTOMER,
        Kind.AMBIGUOUS,
    ],
)
def test_kinds_an_update_cannot_fix_are_listed_with_what_to_do(kind: Kind) -> None:
    plan = _plan(selected(finding(kind, "9"), explicit=True))
    assert not plan.statements
    (item,) = plan.not_fixable
    assert item.reason and item.instead and item.finding.kind == kind.value


@pytest.mark.parametrize(("confidence", "fixed"), [(0.7, False), (0.9, True), (1.0, True)])
def test_only_a_sure_match_is_written(confidence: float, fixed: bool) -> None:
    plan = _plan(selected(finding(Kind.PAID_BUT_BLOCKED, "18", confidence=confidence)))
    assert bool(plan.statements) is fixed


def test_findings_of_one_account_make_one_statement() -> None:
    plan = _plan(
        selected(finding(Kind.PAID_BUT_BLOCKED, "19", flag="0")),
        selected(finding(Kind.APP_FIELDS_DISAGREE, "19", flag="0")),
    )
    (statement,) = plan.statements
    assert [f.kind for f in statement.findings] == ["paid_but_blocked", "app_fields_disagree"]


@pytest.mark.parametrize(
    ("observed", "want", "written"),
    [
        ("0", True, "1"),
        ("false", True, "true"),
        ("F", True, "T"),
        ("No", True, "Yes"),
        ("yes", False, "no"),
        (None, True, "1"),
        ("1", False, "0"),
    ],
)
def test_a_flag_is_written_the_way_the_app_spells_it(
    observed: str | None, want: bool, written: str
) -> None:
    assert spelled(want, observed) == written


HOSTILE = [
    "O'Brien",
    '=HYPERLINK("http://x","y")',
    "a\\'; DROP TABLE users; --",
    "line\nDROP TABLE users;\n--",
    "uni\u2028code",
]


@pytest.mark.parametrize("account", HOSTILE)
def test_ids_and_values_are_data_never_sql(account: str) -> None:
    plan = _plan(selected(finding(Kind.PAID_BUT_BLOCKED, account, customer=account, plan=account)))
    con = _users([(account, account, account, 0, "active"), ("other", "c", "pro", 0, "active")])
    _run(con, plan)
    assert con.execute("SELECT id, has_paid_access FROM users ORDER BY id").fetchall() == sorted(
        [(account, 1), ("other", 0)]
    )
    # a line break in a value stays inside its quoted literal; in comments it is escaped
    text = render(plan)
    assert f"-- [1] account {json.dumps(account)}\n" in text
    assert all("\u2028" not in line for line in text.split("\n") if line.startswith("--"))


def test_same_input_same_bytes_and_a_round_trip(tmp_path: Path) -> None:
    items = [selected(finding(Kind.PAID_BUT_BLOCKED, str(n))) for n in (10, 2, 1)]
    first, second = render(_plan(*items)), render(_plan(*reversed(items)))
    assert first == second
    assert [s.account_id for s in _plan(*items).statements] == ["1", "2", "10"]
    assert load(first, "p.sql") == _plan(*items)


def test_an_edited_script_is_refused() -> None:
    text = render(_plan(selected(finding(Kind.PAID_BUT_BLOCKED, "2"))))
    with pytest.raises(PlanFileError, match="changed after"):
        load(text.replace("'1'", "'1', plan = 'enterprise'"), "p.sql")
    with pytest.raises(PlanFileError, match="not a plan"):
        load("UPDATE users SET x = 1;\n", "p.sql")
    assert text.splitlines()[-1].startswith(PLAN_MARKER)
    json.loads(text.splitlines()[-1][len(PLAN_MARKER) :])


@pytest.mark.parametrize(
    ("dialect", "begin", "quoted"),
    [
        ("postgresql", "BEGIN;", '"users"'),
        ("mysql", "START TRANSACTION;", "`users`"),
        ("sqlite", "BEGIN IMMEDIATE;", '"users"'),
    ],
)
def test_dialects(dialect: fix.Dialect, begin: str, quoted: str) -> None:
    text = render(_plan(selected(finding(Kind.PAID_BUT_BLOCKED, "2")), dialect=dialect))
    assert begin in text.splitlines() and f"UPDATE {quoted} SET" in text


def test_mysql_escapes_backslashes() -> None:
    text = render(_plan(selected(finding(Kind.PAID_BUT_BLOCKED, "a\\'b")), dialect="mysql"))
    assert "`id` = 'a\\\\''b'" in text


def test_the_plan_writes_only_configured_columns() -> None:
    with pytest.raises(ConfigError, match=r"app\.columns\.account_id"):
        fix.columns_from_config(config(columns={}))
    with pytest.raises(ConfigError, match=r"app\.access_fields"):
        fix.columns_from_config(config(access_fields=None, status_fields=None))


@pytest.mark.parametrize(
    ("given", "source", "dialect"),
    [
        (None, "postgresql://u@h/db", "postgresql"),
        (None, "mysql://u@h/db", "mysql"),
        (None, "app.sqlite", "sqlite"),
        ("mariadb", "users.csv", "mysql"),
    ],
)
def test_dialect_from_the_app_source(given: str | None, source: str, dialect: str) -> None:
    assert fix.dialect_of(given, source) == dialect


def test_a_csv_app_needs_a_dialect() -> None:
    with pytest.raises(ConfigError, match="--dialect"):
        fix.dialect_of(None, "users.csv")
