"""Rows' places in either form (issue 17): a label and a number, or the text.

Loading accepts both, alone or mixed, and the rules report the same places as
when every row carried its text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from billdrift.core.engine import Inputs, reconcile
from billdrift.core.load import load
from billdrift.core.model import BILLING_SUBSCRIPTIONS, AppData, BillingData
from billdrift.core.refs import LABEL, located, ref_text
from billdrift.core.sql import sql
from tests.builders import account, app, billing, inputs, sub


def _texts(table: pa.Table) -> list[str | None]:
    con = duckdb.connect()
    con.register("placed", table)
    query = sql("SELECT {text} FROM placed p", text=ref_text("p"))
    return [row[0] for row in con.execute(query).fetchall()]


def test_the_text_of_each_form() -> None:
    placed = pa.table(
        {
            "source_ref": ["subs.csv:line ", "data.json:data[12]", "app.db:users rowid=", None],
            "source_number": pa.array([198, None, -3, None], pa.int64()),
        }
    )
    assert _texts(placed) == [
        "subs.csv:line 198",
        "data.json:data[12]",
        "app.db:users rowid=-3",
        None,
    ]


def test_a_locator_holds_its_label_once() -> None:
    columns = located("subs.csv:line ", pa.array([2, 3, 7], pa.int64()))
    assert columns["source_ref"].type == LABEL
    assert columns["source_ref"].dictionary.to_pylist() == ["subs.csv:line "]
    assert _texts(pa.table(columns)) == ["subs.csv:line 2", "subs.csv:line 3", "subs.csv:line 7"]


def _as_lines(table: pa.Table, label: str, numbers: list[int]) -> pa.Table:
    """`table` with its places as a CSV reader gives them: `label` and a line each."""
    columns = located(label, pa.array(numbers, pa.int64()))
    table = table.drop_columns([name for name in columns if name in table.column_names])
    for name, column in columns.items():
        table = table.append_column(name, column)
    return table


def _as_text(table: pa.Table, label: str, numbers: list[int]) -> pa.Table:
    """The same places as the whole text, with no ``source_number`` column at all."""
    texts = pa.array([f"{label}{number}" for number in numbers], pa.string())
    table = table.drop_columns([n for n in ("source_number",) if n in table.column_names])
    return table.set_column(table.schema.get_field_index("source_ref"), "source_ref", texts)


def _case() -> Inputs:
    subs = billing(
        sub("sub_1", "cus_1", "active"),  # paid but blocked
        sub("sub_2", "cus_2", "canceled"),  # unpaid but active
        sub("sub_3", "cus_3", "active"),  # orphaned: no account
    )
    accounts = app(
        account("a1", "cus_1", access=False),
        account("a2", "cus_2", access=True),
    )
    return inputs(subs, accounts)


def _places(case: Inputs) -> list[tuple[str, str | None, dict[str, Any]]]:
    report = reconcile(case)
    return [
        (
            finding.kind.value,
            finding.account_id or finding.subscription_id,
            {
                side: finding.evidence[side].get("source")
                for side in ("billing", "app")
                if side in finding.evidence
            },
        )
        for finding in report.findings
    ]


def _with(case: Inputs, subscriptions: pa.Table, accounts: pa.Table) -> Inputs:
    return replace(
        case,
        billing=[replace(case.billing[0], subscriptions=subscriptions)],
        app=replace(case.app, accounts=accounts),
    )


EXPECTED = [
    ("paid_but_blocked", "a1", {"billing": "subs.csv:line 2", "app": "users.csv:line 5"}),
    ("unpaid_but_active", "a2", {"billing": "subs.csv:line 3", "app": "users.csv:line 6"}),
    ("orphaned_subscription", "sub_3", {"billing": "subs.csv:line 7"}),
]


@pytest.mark.parametrize("billing_form", [_as_lines, _as_text])
@pytest.mark.parametrize("app_form", [_as_lines, _as_text])
def test_either_form_on_either_side_reports_the_same_places(
    billing_form: Any, app_form: Any
) -> None:
    case = _case()
    subscriptions = billing_form(case.billing[0].subscriptions, "subs.csv:line ", [2, 3, 7])
    accounts = app_form(case.app.accounts, "users.csv:line ", [5, 6])
    assert sorted(_places(_with(case, subscriptions, accounts))) == sorted(EXPECTED)


def test_two_exports_one_in_each_form_are_read_as_one() -> None:
    case = _case()
    subs = case.billing[0].subscriptions
    first = _as_lines(subs.slice(0, 2), "subs.csv:line ", [2, 3])
    second = _as_text(subs.slice(2), "subs.csv:line ", [7])
    both = replace(
        case,
        billing=[
            replace(case.billing[0], subscriptions=first),
            BillingData(second, case.billing[0].items.slice(0, 0)),
        ],
        app=replace(case.app, accounts=_as_lines(case.app.accounts, "users.csv:line ", [5, 6])),
    )
    assert sorted(_places(both)) == sorted(EXPECTED)


def test_conflicting_copies_are_skipped_at_each_copys_line() -> None:
    """Copies that disagree name where each was read, whichever form gave it."""
    active = billing(sub("sub_1", "cus_1", "active"))
    canceled = billing(sub("sub_1", "cus_1", "canceled"))
    first = _as_lines(active.subscriptions, "a.csv:line ", [4])
    second = canceled.subscriptions.drop_columns(["source_number"])  # the text form
    second = second.set_column(
        second.schema.get_field_index("source_ref"), "source_ref", pa.array(["b.json:data[0]"])
    )
    case = inputs(
        [replace(active, subscriptions=first), replace(canceled, subscriptions=second)],
        app(account("a1", "cus_1", access=True)),
    )
    con = duckdb.connect()
    loaded = load(con, case.billing, case.app, case.policy, case.as_of)
    assert [(skip.source, skip.location) for skip in loaded.skips] == [
        ("a.csv", "line 4"),
        ("b.json", "data[0]"),
    ]
    assert "'active' at a.csv:line 4, 'canceled' at b.json:data[0]" in loaded.skips[0].reason


def test_a_relation_without_places_is_refused_and_one_without_numbers_is_text() -> None:
    case = _case()
    subs = case.billing[0].subscriptions
    assert "source_number" in BILLING_SUBSCRIPTIONS.names
    con = duckdb.connect()
    texts = replace(case.billing[0], subscriptions=subs.drop_columns(["source_number"]))
    load(con, [texts], case.app, case.policy, case.as_of)
    numbers = con.sql("SELECT count(source_number), count(*) FROM billing_subscriptions")
    assert numbers.fetchall() == [(0, 3)]
    placeless = replace(case.billing[0], subscriptions=subs.drop_columns(["source_ref"]))
    with pytest.raises(
        ValueError, match=r"billing subscriptions lacks canonical columns \['source_ref'\]"
    ):
        load(duckdb.connect(), [placeless], case.app, case.policy, case.as_of)
    bare = AppData(case.app.accounts.drop_columns(["source_ref"]), case.app.signals)
    with pytest.raises(ValueError, match="app accounts lacks canonical columns"):
        load(duckdb.connect(), case.billing, bare, case.policy, case.as_of)
