"""Build canonical relations from short Python literals, so rule tests read like tables."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import duckdb
import pyarrow as pa

from billdrift.config import Config, parse_config
from billdrift.core.engine import Inputs
from billdrift.core.found import Found, Tracked
from billdrift.core.model import (
    APP_ACCESS_SIGNALS,
    APP_ACCOUNTS,
    BILLING_ITEMS,
    BILLING_SUBSCRIPTIONS,
    AppData,
    BillingData,
)
from billdrift.core.policy import from_config
from billdrift.core.refs import ref_text
from billdrift.core.sql import sql

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def sub(
    subscription_id: str,
    customer_id: str | None,
    status: str = "active",
    *,
    provider: str = "stripe",
    email: str | None = None,
    price: str = "price_pro",
    amount: int | None = 2900,
    currency: str = "usd",
    interval: str = "month",
    interval_count: int = 1,
    quantity: int = 1,
    **fields: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One subscription row and its single item."""
    for key, value in list(fields.items()):
        if isinstance(value, str) and key not in ("source_ref",):
            fields[key] = ts(value)
    row = {
        "provider": provider,
        "subscription_id": subscription_id,
        "customer_id": customer_id,
        "customer_email": email,
        "status": status,
        "source_ref": f"test:{subscription_id}",
        **fields,
    }
    item = {
        "subscription_id": subscription_id,
        "price_id": price,
        "unit_amount_minor": amount,
        "currency": currency,
        "quantity": quantity,
        "interval": interval,
        "interval_count": interval_count,
    }
    return row, item


def billing(*subs: tuple[dict[str, Any], dict[str, Any]]) -> BillingData:
    return BillingData(
        subscriptions=pa.Table.from_pylist([s for s, _ in subs], schema=BILLING_SUBSCRIPTIONS),
        items=pa.Table.from_pylist([i for _, i in subs], schema=BILLING_ITEMS),
        description=f"test billing: {len(subs)} subscriptions",
    )


def account(
    account_id: str,
    customer_id: str | None = None,
    *,
    access: bool | None = True,
    email: str | None = None,
    plan: str | None = None,
    role: str | None = None,
    subscription_id: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "customer_id": customer_id,
        "subscription_id": subscription_id,
        "email": email,
        "plan": plan,
        "role": role,
        "access": access,
        "status": status,
    }


def _status_signal(account: dict[str, Any], primary: bool) -> dict[str, Any]:
    return {
        "account_id": account["account_id"],
        "field": "subscription_status",
        "kind": "status",
        "raw": account["status"],
        "flag": None,
        "is_primary": primary,
    }


def app(
    *accounts: dict[str, Any],
    with_status: bool = False,
    plan_column: bool = True,
    status_only: bool = False,
) -> AppData:
    """Accounts with a primary `has_paid_access` flag and optional `subscription_status`;
    with `status_only`, `subscription_status` alone decides access."""
    rows = [
        {k: a[k] for k in ("account_id", "customer_id", "subscription_id", "email", "plan", "role")}
        | {"source_ref": f"test:{a['account_id']}"}
        for a in accounts
    ]
    signals = []
    for a in accounts:
        if status_only:
            signals.append(_status_signal(a, primary=True))
            continue
        flag = a["access"]
        signals.append(
            {
                "account_id": a["account_id"],
                "field": "has_paid_access",
                "kind": "flag",
                "raw": None if flag is None else str(flag).lower(),
                "flag": flag,
                "is_primary": True,
            }
        )
        if with_status:
            signals.append(_status_signal(a, primary=False))
    mapping = {"account_id": "id", "plan": "plan" if plan_column else None}
    return AppData(
        accounts=pa.Table.from_pylist(rows, schema=APP_ACCOUNTS),
        signals=pa.Table.from_pylist(signals, schema=APP_ACCESS_SIGNALS),
        description=f"test app: {len(accounts)} accounts",
        mapping=mapping,
    )


def inputs(
    billing_data: BillingData | list[BillingData],
    app_data: AppData,
    config: Config | dict[str, Any] | None = None,
    as_of: datetime = NOW,
) -> Inputs:
    if isinstance(config, dict):
        config = parse_config(config)
    return Inputs(
        billing=billing_data if isinstance(billing_data, list) else [billing_data],
        app=app_data,
        policy=from_config(config or Config()),
        as_of=as_of,
    )


def as_text(table: pa.Table) -> pa.Table:
    """`table` with each row's place as a report shows it (billdrift.core.refs's SQL,
    run in DuckDB) in ``source_ref`` and ``source_number`` null: the text form, which
    readers gave for every row before the locator. Tests that pin down places as text
    hold for either form through it."""
    con = duckdb.connect()
    try:
        con.register("placed", table)
        query = sql("SELECT {text} AS text FROM placed p", text=ref_text("p"))
        text = con.sql(query).to_arrow_table().column("text")
    finally:
        con.close()
    index = table.schema.get_field_index("source_ref")
    table = table.set_column(index, pa.field("source_ref", pa.string()), text)
    if "source_number" in table.column_names:
        index = table.schema.get_field_index("source_number")
        table = table.set_column(index, "source_number", pa.nulls(table.num_rows, pa.int64()))
    return table


def tracked_as_new(found: Found, notes: Mapping[int, list[dict[str, Any]]]) -> Found:
    """`found` as a first recorded run has it: every finding new, with review `notes`
    (position -> notes) shown in its evidence."""
    size = len(found)
    return found.tracked(
        Tracked(
            status=["new"] * size,
            fingerprint=[f"f{i}" for i in range(size)],
            first_seen=[NOW] * size,
            review=[None] * size,
            review_until=[None] * size,
            notes=notes,
        )
    )
