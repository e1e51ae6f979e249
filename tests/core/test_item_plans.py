"""Plan drift without a per-item join (issue 17): the relations registered from the
columns of one-item-per-subscription input equal the plan stages' rows, the
boundary between that way and the stages' join, and the same findings either way."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from billdrift.core import load as load_module
from billdrift.core.engine import reconcile, workspace
from billdrift.core.item_plans import aligned_plans
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, BillingData
from billdrift.core.report import Report
from billdrift.core.rules.plan_stages import MAPPED_PLANS
from tests.builders import account, app, billing, inputs, sub

PLANS = (
    ("price_pro", "Pro"),
    ("prod_pro", "pro"),
    ("prod_addon", "addon"),
    ("lk_team", "team"),
    ("lk_unicode", "ΣΑΣ İ ǅ"),  # lower-cased by Arrow here as DuckDB does in the stage
)


def _item(subscription_id: str, **keys: str | None) -> dict[str, Any]:
    """An item of `subscription_id` carrying only the given plan map keys."""
    _, item = sub(subscription_id, None)
    empty = dict.fromkeys(("price_id", "lookup_key", "product_id", "plan_name"))
    return {**item, **empty, **keys}


def _tables(*items: dict[str, Any]) -> tuple[pa.Table, pa.Table]:
    """Subscription rows (one per distinct id, in order) and `items`."""
    ids = list(dict.fromkeys(item["subscription_id"] for item in items))
    subscriptions = [sub(sid, f"cus_{sid}")[0] for sid in ids]
    return (
        pa.Table.from_pylist(subscriptions, schema=BILLING_SUBSCRIPTIONS),
        pa.Table.from_pylist(list(items), schema=BILLING_ITEMS),
    )


def _by_stages(items: pa.Table) -> set[tuple[str, str]]:
    """Each subscription's plans by the stage's join (the general way)."""
    con = duckdb.connect()
    con.register("billing_items", items)
    con.register(
        "plan_map",
        pa.table({"key": [k for k, _ in PLANS], "plan": [p for _, p in PLANS]}),
    )
    return set(con.execute(MAPPED_PLANS.query).fetchall())


def _carried(relations: dict[str, pa.Table]) -> set[tuple[str, str]]:
    """Each subscription's plans as the registered relations give them."""
    planned = relations["planned_subscriptions"].select(["subscription_id", "mapped_plan"])
    pairs = relations["mapped_plans"].select(["subscription_id", "plan"])
    rows = [
        *planned.to_pylist(),
        *pairs.rename_columns(["subscription_id", "mapped_plan"]).to_pylist(),
    ]
    return {(r["subscription_id"], r["mapped_plan"]) for r in rows if r["mapped_plan"] is not None}


@pytest.mark.parametrize(
    "items",
    [
        pytest.param([_item("s1", price_id="price_pro")], id="price"),
        pytest.param([_item("s1", lookup_key="lk_team")], id="lookup-key"),
        pytest.param([_item("s1", lookup_key="lk_unicode")], id="unicode"),
        pytest.param([_item("s1", plan_name="prod_addon")], id="plan-name"),
        pytest.param([_item("s1", price_id="price_x")], id="unmapped"),
        pytest.param([_item("s1")], id="no-keys"),
        # price and product map to the same plan, once lower-cased ("Pro", "pro")
        pytest.param([_item("s1", price_id="price_pro", product_id="prod_pro")], id="same"),
        pytest.param(
            [_item("s1", price_id="price_pro"), _item("s2", price_id="price_x")], id="mixed"
        ),
    ],
)
def test_one_item_per_subscription_is_resolved_without_the_join(
    items: list[dict[str, Any]],
) -> None:
    subscriptions, item_rows = _tables(*items)
    relations = aligned_plans(subscriptions, item_rows, PLANS)
    assert relations is not None
    assert _carried(relations) == _by_stages(item_rows)
    assert relations["mapped_plans"].num_rows == 0  # every row carries its plan
    # the subscription rows are scanned in place, with one column appended
    assert relations["planned_subscriptions"].column("provider").chunks[0].buffers() == (
        subscriptions.column("provider").chunks[0].buffers()
    )


@pytest.mark.parametrize(
    "items",
    [
        # one item whose price and product map to two plans
        pytest.param([_item("s1", price_id="price_pro", product_id="prod_addon")], id="two-plans"),
        # two items of one subscription
        pytest.param(
            [_item("s1", price_id="price_pro"), _item("s1", lookup_key="lk_team")],
            id="two-items",
        ),
        pytest.param(
            [_item("s1", price_id="price_pro"), _item("s1", price_id="price_pro")],
            id="two-items-one-plan",
        ),
    ],
)
def test_several_plans_or_items_are_left_to_the_stages(items: list[dict[str, Any]]) -> None:
    subscriptions, item_rows = _tables(*items)
    assert aligned_plans(subscriptions, item_rows, PLANS) is None


def test_items_in_another_order_are_left_to_the_stages() -> None:
    subscriptions, item_rows = _tables(
        _item("s1", price_id="price_pro"), _item("s2", price_id="prod_addon")
    )
    assert aligned_plans(subscriptions, item_rows, PLANS) is not None
    assert aligned_plans(subscriptions, item_rows.take([1, 0]), PLANS) is None


# --- the engine: same findings either way --------------------------------------------


@pytest.fixture
def stages_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    """Calling it makes loading leave every plan relation to the stages' join."""

    def disable() -> None:
        monkeypatch.setattr(load_module, "aligned_plans", lambda *args: None)

    yield disable


def _findings(report: Report) -> list[tuple[Any, ...]]:
    return [
        (f.kind.value, f.account_id, f.message, f.evidence.get("expected_plans"))
        for f in report.findings
    ]


CONFIG = {"plans": {"price_pro": "Pro", "prod_addon": "addon", "price_basic": "basic"}}


def _book_one_item() -> BillingData:
    return billing(
        sub("sub_1", "cus_1", price="price_pro"),
        sub("sub_2", "cus_2", price="price_basic"),
        sub("sub_3", "cus_3", price="price_unmapped"),
        sub("sub_4", "cus_4", price="price_pro"),
    )


def _book_several_items() -> BillingData:
    """sub_1 has two items mapping to two plans; sub_2 two items of one plan."""
    one = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2"))
    items = [
        _item("sub_1", price_id="price_pro"),
        _item("sub_1", product_id="prod_addon"),
        _item("sub_2", price_id="price_basic"),
        _item("sub_2", price_id="price_basic"),
    ]
    return BillingData(
        subscriptions=one.subscriptions,
        items=pa.Table.from_pylist(items, schema=BILLING_ITEMS),
        description="two items each",
    )


ACCOUNTS = [
    account("a1", "cus_1", plan="basic"),  # drift: pays Pro (and addon, several items)
    account("a2", "cus_2", plan=" Basic "),  # in sync: case and spaces do not count
    account("a3", "cus_3", plan="pro"),  # unmapped price: never plan drift
    account("a4", "cus_4", plan="addon"),  # drift in the one-item book
]


@pytest.mark.parametrize("book", [_book_one_item, _book_several_items])
def test_plan_drift_is_the_same_with_and_without_the_join(
    book: Callable[[], BillingData], stages_only: Callable[[], None]
) -> None:
    data = inputs(book(), app(*ACCOUNTS), CONFIG)
    with workspace(data) as con:
        counts = con.execute("SELECT count(*) FROM planned_subscriptions").fetchall()
        assert counts == [(len(data.billing[0].subscriptions),)]
    fast = reconcile(data)
    stages_only()
    assert _findings(reconcile(data)) == _findings(fast)
    expected = {
        _book_one_item: [("a1", ["pro"]), ("a4", ["pro"])],
        _book_several_items: [("a1", ["addon", "pro"])],
    }[book]
    drift = [f for f in fast.findings if f.kind.value == "plan_drift"]
    assert [(f.account_id, f.evidence["expected_plans"]) for f in drift] == expected


def test_the_one_item_book_takes_the_columns_and_several_items_the_join() -> None:
    """Which way each book goes: the stage's join shows as the mapped_plans table,
    the carried plans as the mapped_plan column of the accounts."""

    def tables(book: BillingData) -> set[str]:
        with workspace(inputs(book, app(*ACCOUNTS), CONFIG)) as con:
            rows = con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
            return {name for (name,) in rows}

    assert "mapped_plans" not in tables(_book_one_item())
    assert "mapped_plans" in tables(_book_several_items())

    def carried(book: BillingData) -> list[tuple[str, str | None]]:
        with workspace(inputs(book, app(*ACCOUNTS), CONFIG)) as con:
            query = "SELECT account_id, mapped_plan FROM account_state ORDER BY 1"
            return [(a, p) for a, p in con.execute(query).fetchall()]

    assert carried(_book_one_item()) == [
        ("a1", "pro"),
        ("a2", "basic"),
        ("a3", None),
        ("a4", "pro"),
    ]
    assert carried(_book_several_items()) == [(a, None) for a in ("a1", "a2", "a3", "a4")]


def test_without_a_plan_map_the_rows_carry_no_plan_and_no_stage_runs() -> None:
    """No plan map (or no plan column): nothing to resolve, yet the relations are still
    registered, so a small check runs no statement for them."""
    subscriptions, item_rows = _tables(_item("s1", price_id="price_pro"))
    relations = aligned_plans(subscriptions, item_rows, ())
    assert relations is not None
    assert relations["planned_subscriptions"].column("mapped_plan").to_pylist() == [None]
    assert relations["mapped_plans"].num_rows == 0
    data = inputs(_book_one_item(), app(*ACCOUNTS))
    loaded = load_module.load(duckdb.connect(), data.billing, data.app, data.policy, data.as_of)
    assert {"mapped_plans", "planned_subscriptions"} <= loaded.relations
