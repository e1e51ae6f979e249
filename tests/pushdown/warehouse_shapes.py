"""The warehouse layouts of issue 17 built on the real PostgreSQL test server, from their
documented shapes (../shared/domain.md: Fivetran's staging models, Airbyte's Stripe source,
Stripe Data Pipeline / Sigma tables, Stripe's hosted Postgres), and the same subscriptions
as a Stripe Dashboard CSV export, so one set of findings can be asked of each."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.sources.billing.test_stripe_mirror import Mirror

AS_OF = datetime(2026, 11, 22, tzinfo=UTC)
#: When each layout last synced in the identity tests: well within the 24 h bound.
SYNCED = AS_OF - timedelta(hours=2)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Price:
    id: str
    amount: int
    currency: str
    interval: str
    product: str


@dataclass(frozen=True)
class Sub:
    id: str
    customer: str
    status: str
    price: Price
    quantity: int
    start: datetime
    end: datetime
    created: datetime
    cancel_at_period_end: bool = False
    cancel_at: datetime | None = None
    canceled_at: datetime | None = None
    ended_at: datetime | None = None
    trial_end: datetime | None = None


PRO = Price("price_1ProMonthly", 2900, "usd", "month", "prod_Pro")
TEAM = Price("price_1TeamYearly", 19900, "usd", "year", "prod_Team")
STARTER = Price("price_1StarterEur", 4900, "eur", "month", "prod_Starter")

#: In sync (Alice), cancelling at period end but paid (Bob, blocked in the app), canceled
#: (Carol, still active in the app), trialing with no account (Dave: an orphan), past_due
#: within grace in euros (Erin, blocked in the app).
SUBS = [
    Sub("sub_1Alice", "cus_Alice", "active", PRO, 3, at("2026-11-01"), at("2026-12-01"),
        at("2026-01-15 09:30")),
    Sub("sub_2Bob", "cus_Bob", "active", TEAM, 1, at("2026-06-01"), at("2027-06-01"),
        at("2025-06-01"), cancel_at_period_end=True, cancel_at=at("2027-06-01"),
        canceled_at=at("2026-11-05 12:00")),
    Sub("sub_3Carol", "cus_Carol", "canceled", PRO, 1, at("2026-10-01"), at("2026-11-01"),
        at("2026-03-01"), canceled_at=at("2026-10-20 10:00"), ended_at=at("2026-10-20 10:00")),
    Sub("sub_4Dave", "cus_Dave", "trialing", PRO, 1, at("2026-11-17"), at("2026-12-01"),
        at("2026-11-17"), trial_end=at("2026-12-01")),
    Sub("sub_5Erin", "cus_Erin", "past_due", STARTER, 2, at("2026-11-18"), at("2026-12-18"),
        at("2026-02-18")),
]  # fmt: skip
EMAILS = {
    "cus_Alice": "alice@example.com",
    "cus_Bob": "bob@example.com",
    "cus_Carol": "carol@example.com",
    "cus_Erin": "erin@example.com",
}
#: A subscription its loader marks deleted: left out of the check, reported as a skip.
DELETED = Sub("sub_9Gone", "cus_Zed", "active", PRO, 1, at("2026-11-01"), at("2026-12-01"),
              at("2026-05-01"))  # fmt: skip


def _unix(value: datetime | None) -> int | None:
    return None if value is None else int(value.timestamp())


def _naive(value: datetime | None) -> datetime | None:
    """As Fivetran and Data Pipeline store times: timestamp without time zone, in UTC."""
    return None if value is None else value.replace(tzinfo=None)


def stripe_object(sub: Sub) -> dict[str, Any]:
    """The subscription as Stripe's API renders it (periods on the subscription and the
    item, as API versions around 2025-03-31 do)."""
    price = {
        "id": sub.price.id, "object": "price", "currency": sub.price.currency,
        "product": sub.price.product, "unit_amount": sub.price.amount, "lookup_key": None,
        "nickname": None, "recurring": {"interval": sub.price.interval, "interval_count": 1},
    }  # fmt: skip
    item = {
        "id": f"si_{sub.id[4:]}", "object": "subscription_item", "price": price,
        "quantity": sub.quantity, "current_period_start": _unix(sub.start),
        "current_period_end": _unix(sub.end),
    }  # fmt: skip
    return {
        "id": sub.id, "object": "subscription", "customer": sub.customer,
        "status": sub.status, "cancel_at_period_end": sub.cancel_at_period_end,
        "cancel_at": _unix(sub.cancel_at), "canceled_at": _unix(sub.canceled_at),
        "ended_at": _unix(sub.ended_at), "trial_end": _unix(sub.trial_end),
        "current_period_start": _unix(sub.start), "current_period_end": _unix(sub.end),
        "created": _unix(sub.created), "currency": sub.price.currency,
        "items": {"object": "list", "data": [item], "has_more": False, "total_count": 1},
    }  # fmt: skip


# ------------------------------------------------------------------------------ layouts


def _relational(
    mirror: Mirror,
    schema: str,
    names: tuple[str, str, str, str],
    sync: str,
    extra: str,
    subs: list[Sub],
) -> None:
    """Subscriptions, items, prices and customers as tables (Fivetran, Data Pipeline);
    `extra` adds the loader's own columns to each, `sync` its sync-time column."""
    subscriptions, items, prices, customers = names
    mirror.run(f"CREATE SCHEMA {schema}")
    times = ", ".join(
        f"{n} timestamp"
        for n in ("cancel_at", "canceled_at", "current_period_start", "current_period_end",
                  "ended_at", "trial_end", "created")
    )  # fmt: skip
    mirror.run(
        f"CREATE TABLE {schema}.{subscriptions} (id text, customer_id text, status text, "
        f"cancel_at_period_end boolean, {times}, livemode boolean, metadata jsonb{extra})"
    )
    mirror.run(
        f"CREATE TABLE {schema}.{items} (id text PRIMARY KEY, subscription_id text, "
        f"{'plan_id' if schema == 'stripe' else 'price_id'} text, quantity bigint, "
        f"current_period_start timestamp, current_period_end timestamp{extra})"
    )
    mirror.run(
        f"CREATE TABLE {schema}.{prices} (id text PRIMARY KEY, product_id text, "
        "unit_amount bigint, currency text, recurring_interval text, "
        f"recurring_interval_count bigint, lookup_key text, nickname text, active boolean{extra})"
    )
    mirror.run(f"CREATE TABLE {schema}.{customers} (id text PRIMARY KEY, email text{extra})")
    for price in (PRO, TEAM, STARTER):
        mirror.run(
            f"INSERT INTO {schema}.{prices} (id, product_id, unit_amount, currency, "
            "recurring_interval, recurring_interval_count, active) VALUES (%s, %s, %s, %s, %s, 1, "
            "true)",
            [price.id, price.product, price.amount, price.currency, price.interval],
        )
    for customer, email in EMAILS.items():
        mirror.run(
            f"INSERT INTO {schema}.{customers} (id, email) VALUES (%s, %s)", [customer, email]
        )
    for sub in subs:
        mirror.run(
            f"INSERT INTO {schema}.{subscriptions} (id, customer_id, status, "
            "cancel_at_period_end, cancel_at, canceled_at, current_period_start, "
            "current_period_end, ended_at, trial_end, created, livemode) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)",
            [sub.id, sub.customer, sub.status, sub.cancel_at_period_end, _naive(sub.cancel_at),
             _naive(sub.canceled_at), _naive(sub.start), _naive(sub.end), _naive(sub.ended_at),
             _naive(sub.trial_end), _naive(sub.created)],
        )  # fmt: skip
        link = "plan_id" if schema == "stripe" else "price_id"  # Fivetran: plan_id
        mirror.run(
            f"INSERT INTO {schema}.{items} (id, subscription_id, {link}, quantity, "
            "current_period_start, current_period_end) VALUES (%s, %s, %s, %s, %s, %s)",
            [f"si_{sub.id[4:]}", sub.id, sub.price.id, sub.quantity, _naive(sub.start),
             _naive(sub.end)],
        )  # fmt: skip
    for table in names:
        mirror.run(f"UPDATE {schema}.{table} SET {sync} = %s", [_naive(SYNCED)])


def fivetran(mirror: Mirror) -> None:
    extra = ", _fivetran_synced timestamp, _fivetran_deleted boolean DEFAULT false"
    names = ("subscription", "subscription_item", "price", "customer")
    _relational(mirror, "stripe", names, "_fivetran_synced", extra, [*SUBS, DELETED])
    mirror.run(
        "UPDATE stripe.subscription SET _fivetran_deleted = true WHERE id = %s", [DELETED.id]
    )


def fivetran_history(mirror: Mirror) -> None:
    """History mode: every version of a subscription kept, the current one
    ``_fivetran_active``; a subscription with no active version is gone."""
    extra = (
        ", _fivetran_synced timestamp, _fivetran_active boolean DEFAULT true, "
        "_fivetran_start timestamp, _fivetran_end timestamp"
    )
    names = ("subscription_history", "subscription_item", "price", "customer")
    _relational(mirror, "stripe", names, "_fivetran_synced", extra, [*SUBS, DELETED])
    # an older version of Alice's subscription (past_due then), no longer active
    mirror.run(
        "INSERT INTO stripe.subscription_history (id, customer_id, status, "
        "cancel_at_period_end, current_period_start, current_period_end, created, "
        "_fivetran_synced, _fivetran_active) VALUES ('sub_1Alice', 'cus_Alice', 'past_due', "
        "false, '2026-10-01', '2026-11-01', '2026-01-15 09:30', %s, false)",
        [_naive(SYNCED)],
    )
    mirror.run(
        "UPDATE stripe.subscription_history SET _fivetran_active = false WHERE id = %s",
        [DELETED.id],
    )


def data_pipeline(mirror: Mirror) -> None:
    extra = ", batch_timestamp timestamp"
    names = ("subscriptions", "subscription_items", "prices", "customers")
    _relational(mirror, "stripe_data", names, "batch_timestamp", extra, SUBS)


def _api_shaped(mirror: Mirror, schema: str, extra: str, subs: list[Sub]) -> None:
    """API-shaped tables (Airbyte, Stripe's hosted Postgres): one column per Stripe field,
    timestamps as unix seconds, ``items`` as the Stripe list."""
    mirror.run(f"CREATE SCHEMA {schema}")
    times = ", ".join(
        f"{n} bigint"
        for n in ("cancel_at", "canceled_at", "current_period_start", "current_period_end",
                  "ended_at", "trial_end", "created")
    )  # fmt: skip
    mirror.run(
        f"CREATE TABLE {schema}.subscriptions (id text PRIMARY KEY, object text, customer text, "
        f"status text, cancel_at_period_end boolean, {times}, currency text, items jsonb, "
        f"livemode boolean{extra})"
    )
    mirror.run(f"CREATE TABLE {schema}.customers (id text PRIMARY KEY, email text{extra})")
    for customer, email in EMAILS.items():
        mirror.run(f"INSERT INTO {schema}.customers (id, email) VALUES (%s, %s)", [customer, email])
    for sub in subs:
        obj = stripe_object(sub)
        mirror.run(
            f"INSERT INTO {schema}.subscriptions (id, object, customer, status, "
            "cancel_at_period_end, cancel_at, canceled_at, current_period_start, "
            "current_period_end, ended_at, trial_end, created, currency, items, livemode) "
            "VALUES (%s, 'subscription', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, false)",
            [obj["id"], obj["customer"], obj["status"], obj["cancel_at_period_end"],
             obj["cancel_at"], obj["canceled_at"], obj["current_period_start"],
             obj["current_period_end"], obj["ended_at"], obj["trial_end"], obj["created"],
             obj["currency"], json.dumps(obj["items"])],
        )  # fmt: skip


def airbyte(mirror: Mirror) -> None:
    extra = (
        ", is_deleted boolean, _airbyte_raw_id text, _airbyte_extracted_at timestamptz, "
        "_airbyte_meta jsonb"
    )
    _api_shaped(mirror, "airbyte_stripe", extra, [*SUBS, DELETED])
    mirror.run("UPDATE airbyte_stripe.subscriptions SET is_deleted = (id = %s)", [DELETED.id])
    for table in ("subscriptions", "customers"):
        mirror.run(
            f"UPDATE airbyte_stripe.{table} SET _airbyte_extracted_at = %s, "
            "_airbyte_raw_id = md5(id)",
            [SYNCED],
        )


def stripe_postgres(mirror: Mirror) -> None:
    extra = ", _account_id text, _updated_at timestamptz, _raw_data jsonb"
    _api_shaped(mirror, "stripe", extra, SUBS)
    for sub in SUBS:
        mirror.run(
            "UPDATE stripe.subscriptions SET _raw_data = %s WHERE id = %s",
            [json.dumps(stripe_object(sub)), sub.id],
        )
    for table in ("subscriptions", "customers"):
        mirror.run(
            f"UPDATE stripe.{table} SET _account_id = 'acct_1Test', _updated_at = %s", [SYNCED]
        )


Build = Callable[[Mirror], None]
#: layout -> (builder, the table and column freshness is read from)
LAYOUTS: dict[str, tuple[Build, str, str]] = {
    "fivetran": (fivetran, "stripe.subscription", "_fivetran_synced"),
    "fivetran-history": (fivetran_history, "stripe.subscription_history", "_fivetran_synced"),
    "airbyte": (airbyte, "airbyte_stripe.subscriptions", "_airbyte_extracted_at"),
    "data-pipeline": (data_pipeline, "stripe_data.subscriptions", "batch_timestamp"),
    "stripe-postgres": (stripe_postgres, "stripe.subscriptions", "_updated_at"),
}


def csv_export(path: Path) -> Path:
    """The same subscriptions as a Stripe Dashboard CSV export."""

    def when(value: datetime | None) -> str:
        return "" if value is None else value.strftime("%Y-%m-%d %H:%M")

    lines = [
        "id,Customer ID,Customer Email,Plan,Product,Quantity,Currency,Interval,Amount,Status,"
        "Created (UTC),Current Period Start (UTC),Current Period End (UTC),Trial End (UTC),"
        "Canceled At (UTC),Ended At (UTC),Cancel At (UTC),Cancel At Period End"
    ]
    for s in SUBS:
        lines.append(
            ",".join(
                [s.id, s.customer, EMAILS.get(s.customer, ""), s.price.id, s.price.product,
                 str(s.quantity), s.price.currency, s.price.interval,
                 f"{s.price.amount / 100:.2f}", s.status, when(s.created), when(s.start),
                 when(s.end), when(s.trial_end), when(s.canceled_at), when(s.ended_at),
                 when(s.cancel_at), str(s.cancel_at_period_end).lower()]
            )
        )  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
