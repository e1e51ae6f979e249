"""StripeMirrorSource against a real PostgreSQL (and MariaDB): both mirror layouts, found by
introspection, read into exactly the rows a Stripe JSON export of the same account gives.

Every test builds its mirror in a fresh database and reads it as a non-superuser that may
only SELECT, with a password that must never surface in any message.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import BillingConfig
from billdrift.core.model import BILLING_ITEMS, BILLING_SUBSCRIPTIONS, BillingData
from billdrift.errors import ConfigError, SourceError
from billdrift.sources.billing.stripe_mirror import StripeMirrorSource
from billdrift.sources.registry import open_billing
from tests.dbservers import MariaDBServer, PostgresServer

from .helpers import item_row, skips, sub_row, utc

READER = "mirror_reader"
PASSWORD = "Zq7-s3cret-mirror"  # distinctive, so a leak in any message is caught
SYNC = "stripe.subscriptions"
DJ = "public.djstripe_subscription"


def ts(text: str) -> int:
    """Unix seconds of a UTC date/time, as Stripe sends timestamps."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def price(
    ident: str,
    amount: int | None,
    currency: str = "usd",
    interval: str = "month",
    *,
    product: str,
    lookup_key: str | None = None,
    nickname: str | None = None,
    count: int = 1,
) -> dict[str, Any]:
    return {
        "id": ident,
        "object": "price",
        "active": True,
        "currency": currency,
        "lookup_key": lookup_key,
        "nickname": nickname,
        "product": product,
        "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
        "type": "recurring",
        "unit_amount": amount,
    }


def item(
    ident: str, item_price: dict[str, Any], quantity: object = 1, **periods: int
) -> dict[str, Any]:
    base = {"id": ident, "object": "subscription_item", "price": item_price, "quantity": quantity}
    return base | periods


def subscription(
    ident: str, customer: str, status: str, items: list[Any], **rest: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": ident,
        "object": "subscription",
        "customer": customer,
        "status": status,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "trial_end": None,
        "current_period_start": None,
        "current_period_end": None,
        "discount": None,
        "currency": None,
        "livemode": False,
        "metadata": {"app_user": ident.lower()},
        "items": {
            "object": "list",
            "data": items,
            "has_more": False,
            "total_count": len(items),
            "url": f"/v1/subscription_items?subscription={ident}",
        },
    }
    base["currency"] = items[0]["price"]["currency"] if items else None
    return base | rest


PRO = price(
    "price_1ProMonthly",
    2900,
    product="prod_Pro",
    lookup_key="pro_monthly",
    nickname="Pro monthly",
)
ADDON = price("price_1Addon", 500, product="prod_Addon")
TEAM_YEARLY = price("price_1TeamYearly", 19900, interval="year", product="prod_Team")
STARTER_EUR = price("price_1StarterEur", 4900, "eur", product="prod_Starter")

SUBSCRIPTIONS = [
    # API 2025-03-31+: periods only on the items (two items, two periods); 20 % coupon.
    subscription(
        "sub_1Basil",
        "cus_Alice",
        "active",
        [
            item(
                "si_1",
                PRO,
                3,
                current_period_start=ts("2026-11-01"),
                current_period_end=ts("2026-12-01"),
            ),
            item(
                "si_2",
                ADDON,
                current_period_start=ts("2026-11-10"),
                current_period_end=ts("2026-12-10"),
            ),
        ],
        created=ts("2026-01-15 09:30"),
        discount={
            "id": "di_1",
            "object": "discount",
            "coupon": {"id": "SAVE20", "percent_off": 20, "amount_off": None},
        },
    ),
    # Older API: periods on the subscription; cancelled at period end, still paid for.
    subscription(
        "sub_2Cancelling",
        "cus_Bob",
        "active",
        [item("si_3", TEAM_YEARLY)],
        cancel_at_period_end=True,
        cancel_at=ts("2027-06-01"),
        canceled_at=ts("2026-11-05 12:00"),
        current_period_start=ts("2026-06-01"),
        current_period_end=ts("2027-06-01"),
        created=ts("2025-06-01"),
    ),
    # Canceled, with a $5 amount-off coupon from its paying days.
    subscription(
        "sub_3Canceled",
        "cus_Carol",
        "canceled",
        [item("si_4", PRO)],
        canceled_at=ts("2026-10-20 10:00"),
        ended_at=ts("2026-10-20 10:00"),
        current_period_start=ts("2026-10-01"),
        current_period_end=ts("2026-11-01"),
        created=ts("2026-03-01"),
        discount={
            "id": "di_3",
            "object": "discount",
            "coupon": {"id": "FIVEOFF", "amount_off": 500, "currency": "usd", "percent_off": None},
        },
    ),
    # Trialing; its customer has no row in the customers table (email stays unknown).
    subscription(
        "sub_4Trial",
        "cus_Dave",
        "trialing",
        [
            item(
                "si_5",
                PRO,
                current_period_start=ts("2026-11-17"),
                current_period_end=ts("2026-12-01"),
            )
        ],
        trial_end=ts("2026-12-01"),
        created=ts("2026-11-17"),
    ),
    # Payment failed four days before the run; two seats in euros.
    subscription(
        "sub_5PastDue",
        "cus_Erin",
        "past_due",
        [item("si_6", STARTER_EUR, 2)],
        current_period_start=ts("2026-11-18"),
        current_period_end=ts("2026-12-18"),
        created=ts("2026-02-18"),
    ),
]
CUSTOMERS = {
    "cus_Alice": "alice@example.com",
    "cus_Bob": "bob@example.com",
    "cus_Carol": "carol@example.com",
    "cus_Erin": "erin@example.com",
}


def expected_subscriptions(table: str) -> list[dict[str, Any]]:
    """The canonical rows every layout must give, `table` naming the source in source_ref."""
    return [
        sub_row(
            "sub_1Basil",
            f"{table}:sub_1Basil",
            customer_id="cus_Alice",
            customer_email="alice@example.com",
            status="active",
            cancel_at_period_end=False,
            # Earliest item start, latest item end: access is owed until the last one.
            current_period_start=utc("2026-11-01"),
            current_period_end=utc("2026-12-10"),
            created=utc("2026-01-15 09:30"),
            discount_percent_off=20.0,
        ),
        sub_row(
            "sub_2Cancelling",
            f"{table}:sub_2Cancelling",
            customer_id="cus_Bob",
            customer_email="bob@example.com",
            status="active",
            cancel_at_period_end=True,
            cancel_at=utc("2027-06-01"),
            current_period_start=utc("2026-06-01"),
            current_period_end=utc("2027-06-01"),
            canceled_at=utc("2026-11-05 12:00"),
            created=utc("2025-06-01"),
        ),
        sub_row(
            "sub_3Canceled",
            f"{table}:sub_3Canceled",
            customer_id="cus_Carol",
            customer_email="carol@example.com",
            status="canceled",
            cancel_at_period_end=False,
            current_period_start=utc("2026-10-01"),
            current_period_end=utc("2026-11-01"),
            canceled_at=utc("2026-10-20 10:00"),
            ended_at=utc("2026-10-20 10:00"),
            created=utc("2026-03-01"),
            discount_amount_off_minor=500,
        ),
        sub_row(
            "sub_4Trial",
            f"{table}:sub_4Trial",
            customer_id="cus_Dave",
            status="trialing",
            cancel_at_period_end=False,
            current_period_start=utc("2026-11-17"),
            current_period_end=utc("2026-12-01"),
            trial_end=utc("2026-12-01"),
            created=utc("2026-11-17"),
        ),
        sub_row(
            "sub_5PastDue",
            f"{table}:sub_5PastDue",
            customer_id="cus_Erin",
            customer_email="erin@example.com",
            status="past_due",
            cancel_at_period_end=False,
            current_period_start=utc("2026-11-18"),
            current_period_end=utc("2026-12-18"),
            created=utc("2026-02-18"),
        ),
    ]


EXPECTED_ITEMS = [
    item_row(
        "sub_1Basil",
        price_id="price_1ProMonthly",
        lookup_key="pro_monthly",
        product_id="prod_Pro",
        plan_name="Pro monthly",
        unit_amount_minor=2900,
        currency="usd",
        quantity=3,
        interval="month",
    ),
    item_row(
        "sub_1Basil",
        price_id="price_1Addon",
        product_id="prod_Addon",
        unit_amount_minor=500,
        currency="usd",
        interval="month",
    ),
    item_row(
        "sub_2Cancelling",
        price_id="price_1TeamYearly",
        product_id="prod_Team",
        unit_amount_minor=19900,
        currency="usd",
        interval="year",
    ),
    item_row(
        "sub_3Canceled",
        price_id="price_1ProMonthly",
        lookup_key="pro_monthly",
        product_id="prod_Pro",
        plan_name="Pro monthly",
        unit_amount_minor=2900,
        currency="usd",
        interval="month",
    ),
    item_row(
        "sub_4Trial",
        price_id="price_1ProMonthly",
        lookup_key="pro_monthly",
        product_id="prod_Pro",
        plan_name="Pro monthly",
        unit_amount_minor=2900,
        currency="usd",
        interval="month",
    ),
    item_row(
        "sub_5PastDue",
        price_id="price_1StarterEur",
        product_id="prod_Starter",
        unit_amount_minor=4900,
        currency="eur",
        quantity=2,
        interval="month",
    ),
]


# ---------------------------------------------------------------------- mirror builders


class Mirror:
    """A fresh database on the shared server, set up as admin, read as a SELECT-only user."""

    def __init__(self, server: PostgresServer) -> None:
        self.server = server
        self.database = f"mirror_{uuid.uuid4().hex[:12]}"
        server.execute(f"CREATE DATABASE {self.database}")

    def run(self, sql: str, params: list[Any] | None = None) -> None:
        self.server.execute(sql, params, database=self.database)

    @property
    def url(self) -> str:
        """The reader's URL; the grants are refreshed so it sees every table made so far."""
        rows = self.server.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
            "AND nspname <> 'information_schema'",
            database=self.database,
        )
        for (schema,) in rows:
            self.run(f'GRANT USAGE ON SCHEMA "{schema}" TO {READER}')
            self.run(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {READER}')
        return self.server.url_for(READER, PASSWORD, database=self.database)

    def read(self, **config: Any) -> BillingData:
        data = StripeMirrorSource(self.url, BillingConfig(**config)).read()
        assert data.subscriptions.schema.equals(BILLING_SUBSCRIPTIONS)
        assert data.items.schema.equals(BILLING_ITEMS)
        return data


@pytest.fixture(scope="module")
def reader(postgres_server: PostgresServer) -> PostgresServer:
    """The server, with a login role that is not a superuser and owns nothing."""
    exists = postgres_server.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [READER])
    if not exists:
        postgres_server.execute(f"CREATE ROLE {READER} LOGIN PASSWORD '{PASSWORD}'")
    return postgres_server


@pytest.fixture
def mirror(reader: PostgresServer) -> Mirror:
    return Mirror(reader)


def sync_engine(mirror: Mirror, subscriptions: list[dict[str, Any]] = SUBSCRIPTIONS) -> None:
    """stripe sync-engine's tables, typed as its migrations make them: an enum status,
    integer timestamps, jsonb items/discount and (as shipped) a jsonb trial_end."""
    mirror.run("CREATE SCHEMA stripe")
    mirror.run(
        "CREATE TYPE stripe.subscription_status AS ENUM ('trialing', 'active', 'canceled', "
        "'incomplete', 'incomplete_expired', 'past_due', 'unpaid', 'paused')"
    )
    mirror.run(
        "CREATE TABLE stripe.subscriptions (id text PRIMARY KEY, object text, "
        "cancel_at_period_end boolean, current_period_end integer, "
        "current_period_start integer, default_payment_method text, items jsonb, "
        "metadata jsonb, status stripe.subscription_status, cancel_at integer, "
        "canceled_at integer, collection_method text, created integer, discount jsonb, "
        "ended_at integer, livemode boolean, trial_end jsonb, trial_start jsonb, "
        "customer text, latest_invoice text, updated_at timestamptz DEFAULT now())"
    )
    mirror.run(
        "CREATE TABLE stripe.customers (id text PRIMARY KEY, object text, email text, "
        "name text, created integer, deleted boolean DEFAULT false)"
    )
    for sub in subscriptions:
        mirror.run(
            "INSERT INTO stripe.subscriptions (id, object, cancel_at_period_end, "
            "current_period_end, current_period_start, items, metadata, status, cancel_at, "
            "canceled_at, collection_method, created, discount, ended_at, livemode, "
            "trial_end, customer) VALUES (%s, 'subscription', %s, %s, %s, %s, %s, %s, %s, "
            "%s, 'charge_automatically', %s, %s, %s, false, %s, %s)",
            [
                sub["id"],
                sub["cancel_at_period_end"],
                sub["current_period_end"],
                sub["current_period_start"],
                json.dumps(sub["items"]),
                json.dumps(sub["metadata"]),
                sub["status"],
                sub["cancel_at"],
                sub["canceled_at"],
                sub["created"],
                json.dumps(sub["discount"]) if sub["discount"] else None,
                sub["ended_at"],
                json.dumps(sub["trial_end"]) if sub["trial_end"] else None,
                sub["customer"],
            ],
        )
    for ident, email in CUSTOMERS.items():
        mirror.run(
            "INSERT INTO stripe.customers (id, object, email, name, created) "
            "VALUES (%s, 'customer', %s, %s, %s)",
            [ident, email, ident[4:], ts("2025-01-01")],
        )


def dj_stripe(
    mirror: Mirror,
    subscriptions: list[Any] = SUBSCRIPTIONS,
    data_type: str = "jsonb",
) -> None:
    """dj-stripe 2.10's tables: the Stripe object in `stripe_data`, the customer foreign key
    holding the Stripe id (DJSTRIPE_FOREIGN_KEY_TO_FIELD = "id"), emails only in JSON."""
    mirror.run(
        "CREATE TABLE djstripe_customer (djstripe_id bigserial PRIMARY KEY, "
        "id varchar(255) UNIQUE NOT NULL, livemode boolean, created timestamptz, "
        "djstripe_created timestamptz DEFAULT now(), djstripe_updated timestamptz "
        "DEFAULT now(), stripe_data jsonb NOT NULL DEFAULT '{}')"
    )
    mirror.run(
        "CREATE TABLE djstripe_subscription (djstripe_id bigserial PRIMARY KEY, "
        "id varchar(255) UNIQUE NOT NULL, livemode boolean, created timestamptz, "
        "djstripe_created timestamptz DEFAULT now(), djstripe_updated timestamptz "
        f"DEFAULT now(), stripe_data {data_type}, "
        "customer_id varchar(255) REFERENCES djstripe_customer (id))"
    )
    customers = {sub[1] if isinstance(sub, tuple) else sub["customer"] for sub in subscriptions}
    customers.discard(None)
    for ident in sorted(customers | set(CUSTOMERS)):
        data = {"id": ident, "object": "customer", "email": CUSTOMERS.get(ident)}
        mirror.run(
            "INSERT INTO djstripe_customer (id, livemode, created, stripe_data) "
            "VALUES (%s, false, now(), %s)",
            [ident, json.dumps(data)],
        )
    for sub in subscriptions:
        ident, customer, text = (
            sub if isinstance(sub, tuple) else (sub["id"], sub["customer"], json.dumps(sub))
        )
        mirror.run(
            "INSERT INTO djstripe_subscription (id, livemode, created, stripe_data, "
            "customer_id) VALUES (%s, false, now(), %s, %s)",
            [ident, text, customer],
        )


def messages(*errors: pytest.ExceptionInfo[Exception]) -> Iterator[str]:
    for error in errors:
        yield str(error.value)


# ---------------------------------------------------------------------------- layouts


def test_sync_engine_layout_is_detected_and_read_as_canonical_rows(mirror: Mirror) -> None:
    sync_engine(mirror)
    data = mirror.read()

    assert data.subscriptions.to_pylist() == expected_subscriptions(SYNC)
    assert data.items.to_pylist() == EXPECTED_ITEMS
    assert data.skips == ()
    host = f"{mirror.server.host}:{mirror.server.port}"
    assert data.description == (
        f"stripe-mirror {SYNC} in postgresql://{READER}:***@{host}/{mirror.database}: "
        "5 subscriptions (test mode)"  # the mirrored objects' livemode: dashboard links
    )
    assert data.notes == ()


def test_dj_stripe_layout_is_detected_and_read_like_the_sync_engine(mirror: Mirror) -> None:
    dj_stripe(mirror)
    data = mirror.read()

    assert data.subscriptions.to_pylist() == expected_subscriptions(DJ)
    assert data.items.to_pylist() == EXPECTED_ITEMS
    assert data.skips == ()
    assert data.description.startswith(f"stripe-mirror {DJ} in postgresql://{READER}:***@")
    assert data.description.endswith(": 5 subscriptions (test mode)")
    assert data.notes == ()


def test_newer_sync_engine_with_raw_data_and_timestamptz_columns(mirror: Mirror) -> None:
    """Newer sync-engine versions keep the whole object in `_raw_data` (it wins over the
    columns, which may also be timestamptz); a row without it falls back to the columns;
    customers may carry their email only in their own `_raw_data`. The server renders dates
    European-style here, which must not matter: timestamps are read as epoch seconds."""
    mirror.run(f"ALTER DATABASE {mirror.database} SET DateStyle = 'SQL, DMY'")
    mirror.run("CREATE SCHEMA stripe")
    mirror.run(
        "CREATE TABLE stripe.subscriptions (_raw_data jsonb, id text PRIMARY KEY, "
        "customer text, status text, cancel_at_period_end boolean, "
        "current_period_end timestamptz, created timestamptz, items jsonb)"
    )
    mirror.run("CREATE TABLE stripe.customers (_raw_data jsonb, id text PRIMARY KEY)")
    basil, cancelling = SUBSCRIPTIONS[0], SUBSCRIPTIONS[1]
    mirror.run(
        "INSERT INTO stripe.subscriptions VALUES (%s, %s, %s, %s, false, NULL, NULL, NULL)",
        [json.dumps(basil), basil["id"], basil["customer"], "stale-status-ignored"],
    )
    mirror.run(
        "INSERT INTO stripe.subscriptions VALUES (NULL, %s, %s, 'active', true, "
        "'2027-06-01 02:00:00+02', '2025-06-01 00:00:00.25+00', %s)",
        [cancelling["id"], cancelling["customer"], json.dumps(cancelling["items"])],
    )
    for ident in ("cus_Alice", "cus_Bob"):
        raw = {"id": ident, "object": "customer", "email": CUSTOMERS[ident]}
        mirror.run("INSERT INTO stripe.customers VALUES (%s, %s)", [json.dumps(raw), ident])

    data = mirror.read()

    assert data.subscriptions.to_pylist() == [
        expected_subscriptions(SYNC)[0],  # all from _raw_data: the stale status is ignored
        sub_row(
            "sub_2Cancelling",
            f"{SYNC}:sub_2Cancelling",
            customer_id="cus_Bob",
            customer_email="bob@example.com",
            status="active",
            cancel_at_period_end=True,
            current_period_end=utc("2027-06-01"),
            created=datetime(2025, 6, 1, 0, 0, 0, 250000, tzinfo=UTC),
        ),
    ]
    assert data.items.to_pylist() == EXPECTED_ITEMS[:3]
    assert data.skips == ()


def test_missing_optional_sync_engine_columns_are_noted_not_fatal(mirror: Mirror) -> None:
    mirror.run("CREATE SCHEMA stripe")
    mirror.run("CREATE TABLE stripe.subscriptions (id text, customer text, status text)")
    mirror.run("INSERT INTO stripe.subscriptions VALUES ('sub_9', 'cus_9', 'Active')")

    data = mirror.read()

    assert data.subscriptions.to_pylist() == [
        sub_row("sub_9", f"{SYNC}:sub_9", customer_id="cus_9", status="active")
    ]
    assert data.items.num_rows == 0
    assert data.notes == (
        f"{SYNC}: no items, cancel_at_period_end, cancel_at, canceled_at, "
        "current_period_start, current_period_end, ended_at, trial_end, created, discount "
        "column(s), so those fields are read as empty",
        f"{SYNC}: no customers table beside it, so customer emails are left empty unless "
        "the subscriptions embed them",
        f"{SYNC}: no sync-time column found (looked for _fivetran_synced, "
        "_airbyte_extracted_at, _updated_at, batch_timestamp, djstripe_updated, updated_at), "
        "so how old this copy is cannot be told",
    )


def test_dj_stripe_on_mariadb_reads_json_stored_as_longtext(
    mariadb_server: MariaDBServer,
) -> None:
    database = f"mirror_{uuid.uuid4().hex[:12]}"
    mariadb_server.execute(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")

    def run(sql: str, params: list[Any] | None = None) -> None:
        mariadb_server.execute(sql, params, database=database)

    # MariaDB's JSON is LONGTEXT; the customer email lives only inside its stripe_data.
    run(
        "CREATE TABLE djstripe_customer (djstripe_id bigint AUTO_INCREMENT PRIMARY KEY, "
        "id varchar(255) UNIQUE NOT NULL, stripe_data json NOT NULL)"
    )
    run(
        "CREATE TABLE djstripe_subscription (djstripe_id bigint AUTO_INCREMENT PRIMARY KEY, "
        "id varchar(255) UNIQUE NOT NULL, stripe_data longtext, customer_id varchar(255))"
    )
    for ident, email in CUSTOMERS.items():
        customer = {"id": ident, "object": "customer", "email": email, "name": "Zoë ✓"}
        run(
            "INSERT INTO djstripe_customer (id, stripe_data) VALUES (%s, %s)",
            [ident, json.dumps(customer, ensure_ascii=False)],
        )
    for sub in SUBSCRIPTIONS:
        run(
            "INSERT INTO djstripe_subscription (id, stripe_data, customer_id) VALUES (%s, %s, %s)",
            [sub["id"], json.dumps(sub), sub["customer"]],
        )

    url = mariadb_server.url_for("admin", "adminpw", database)
    data = open_billing(url, BillingConfig()).read()

    table = f"{database}.djstripe_subscription"
    assert data.subscriptions.to_pylist() == expected_subscriptions(table)
    assert data.items.to_pylist() == EXPECTED_ITEMS
    assert data.skips == ()
    assert data.description.startswith(f"stripe-mirror {table} in mysql://admin:***@")


# ------------------------------------------------------------------------- selection


def test_both_layouts_present_is_a_config_error_unless_billing_mirror_chooses(
    mirror: Mirror,
) -> None:
    sync_engine(mirror, SUBSCRIPTIONS[:2])
    dj_stripe(mirror, SUBSCRIPTIONS[2:])

    with pytest.raises(ConfigError) as error:
        mirror.read()
    message = str(error.value)
    assert "holds both a stripe sync-engine mirror (stripe.subscriptions)" in message
    assert "a dj-stripe mirror (public.djstripe_subscription)" in message
    assert 'billing.mirror = "sync-engine" or "dj-stripe"' in message
    assert PASSWORD not in message

    forced_sync = mirror.read(mirror="sync-engine")
    assert forced_sync.subscriptions.column("subscription_id").to_pylist() == [
        "sub_1Basil",
        "sub_2Cancelling",
    ]
    assert forced_sync.subscriptions.to_pylist() == expected_subscriptions(SYNC)[:2]
    forced_dj = mirror.read(mirror="dj-stripe")
    assert forced_dj.subscriptions.to_pylist() == expected_subscriptions(DJ)[2:]
    assert forced_dj.items.to_pylist() == EXPECTED_ITEMS[3:]


def test_no_mirror_is_a_source_error_naming_what_was_looked_for_and_found(
    mirror: Mirror,
) -> None:
    mirror.run("CREATE TABLE users (id int, email text, stripe_customer_id text)")
    mirror.run("CREATE TABLE subscriptions (id text, status text)")  # public, not stripe.

    with pytest.raises(SourceError) as error:
        mirror.read()
    message = str(error.value)
    assert message.startswith(f"no Stripe mirror found in postgresql://{READER}:***@")
    assert (
        "looked for subscriptions with _airbyte_extracted_at (Airbyte), subscription or "
        "subscription_history with _fivetran_synced (Fivetran), subscriptions with "
        "_account_id and _updated_at (Stripe's hosted Postgres), subscriptions with "
        "customer_id (Stripe Data Pipeline / Sigma), stripe.subscriptions (stripe "
        "sync-engine) and djstripe_subscription in any schema (dj-stripe); tables found: "
        "public.subscriptions, public.users"
    ) in message
    assert PASSWORD not in message


def test_a_forced_layout_that_is_absent_is_a_source_error(mirror: Mirror) -> None:
    dj_stripe(mirror)
    with pytest.raises(SourceError) as error:
        mirror.read(mirror="sync-engine")
    message = str(error.value)
    assert 'billing.mirror = "sync-engine" but postgresql://' in message
    assert "has no stripe.subscriptions (stripe sync-engine); tables found: " in message
    assert "tables found: public.djstripe_customer, " in (message)


def test_invalid_billing_mirror_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="sync-engine"):
        BillingConfig(mirror="supabase")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "column", "table"),
    [
        ("sync-engine", "status", SYNC),
        ("dj-stripe", "stripe_data", DJ),
    ],
)
def test_a_missing_required_column_is_a_source_error_naming_it(
    mirror: Mirror, build: str, column: str, table: str
) -> None:
    if build == "sync-engine":
        mirror.run("CREATE SCHEMA stripe")
        mirror.run("CREATE TABLE stripe.subscriptions (id text, customer text, items jsonb)")
    else:
        mirror.run("CREATE TABLE djstripe_subscription (djstripe_id bigint, id text)")

    with pytest.raises(SourceError) as error:
        mirror.read()
    message = str(error.value)
    assert message.startswith(f"{table} in postgresql://{READER}:***@")
    assert f"has no {column} column, which " in message
    assert "columns found: " in message
    assert PASSWORD not in message


# ----------------------------------------------------------------------------- skips


def test_unreadable_rows_are_skips_with_their_location_and_the_rest_is_read(
    mirror: Mirror,
) -> None:
    bad_quantity = subscription(
        "sub_7BadQuantity",
        "cus_Gina",
        "active",
        [item("si_7", PRO, quantity="three")],
    )
    rows: list[Any] = [
        SUBSCRIPTIONS[0],
        ("sub_6Broken", "cus_Finn", '{"id": "sub_6Broken", "customer": "cus_Finn", "status'),
        bad_quantity,
        ("sub_8Array", None, '["not", "an", "object"]'),
        ("sub_9Null", "cus_Ivy", None),
        SUBSCRIPTIONS[4],
    ]
    # Stored as text (as by old dj-stripe versions), so the database lets broken JSON in.
    dj_stripe(mirror, rows, data_type="text")

    data = mirror.read()

    assert data.subscriptions.column("subscription_id").to_pylist() == [
        "sub_1Basil",
        "sub_5PastDue",
    ]
    assert skips(data) == [
        (f"{DJ} id=sub_6Broken", "stripe_data"),
        (f"{DJ} id=sub_7BadQuantity", "items.data[0].quantity"),
        (f"{DJ} id=sub_8Array", "stripe_data"),
        (f"{DJ} id=sub_9Null", "stripe_data"),
    ]
    broken, quantity, array, null = data.skips
    assert broken.reason.startswith("stripe_data is not valid JSON (")
    assert quantity.reason == "expected a whole number (minor units), got 'three'"
    assert array.reason == "stripe_data holds a JSON array, not an object"
    assert null.reason == "stripe_data is empty (NULL)"
    # The customer is named whenever it can be told, so the rules hold back on it.
    assert [skip.customer_id for skip in data.skips] == ["cus_Finn", "cus_Gina", None, "cus_Ivy"]
    assert {skip.side for skip in data.skips} == {"billing"}
    host = f"{mirror.server.host}:{mirror.server.port}"
    shown = f"postgresql://{READER}:***@{host}/{mirror.database}"
    assert {skip.source for skip in data.skips} == {shown}
    assert data.description.endswith(": 2 subscriptions, 4 skipped (test mode)")


def test_a_sync_engine_row_with_a_bad_field_is_a_skip(mirror: Mirror) -> None:
    bad_discount = dict(
        SUBSCRIPTIONS[1], discount={"id": "di_x", "coupon": {"percent_off": "lots"}}
    )
    sync_engine(mirror, [SUBSCRIPTIONS[0], bad_discount])

    data = mirror.read()

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_1Basil"]
    assert [(s.location, s.field, s.customer_id, s.reason) for s in data.skips] == [
        (
            f"{SYNC} id=sub_2Cancelling",
            "coupon.percent_off",
            "cus_Bob",
            "percent_off is 'lots', not a number",
        )
    ]


def test_infinite_and_out_of_range_mirror_values_are_skips_naming_the_field(
    mirror: Mirror,
) -> None:
    """PostgreSQL stores 'infinity' timestamps and numerics beyond any integer: a row
    holding one is a Skip naming its column, never a subscription paid until infinity
    nor an internal error."""
    mirror.run("CREATE SCHEMA stripe")
    mirror.run(
        "CREATE TABLE stripe.subscriptions (id text PRIMARY KEY, customer text, status text, "
        "cancel_at_period_end boolean, current_period_end timestamptz, created timestamp, "
        "items jsonb)"
    )
    huge = [{"price": {"id": "price_x", "unit_amount": 100}, "quantity": 2**63}]
    rows = [
        ("sub_a", "cus_a", "'infinity'", "'2026-01-01'", "[]"),
        ("sub_b", "cus_b", "'2026-12-01'", "'-infinity'", "[]"),
        ("sub_c", "cus_c", "'2026-12-01'", "'1960-01-01'", "[]"),
        ("sub_d", "cus_d", "'2026-12-01'", "'2026-01-01'", json.dumps(huge)),
        ("sub_ok", "cus_ok", "'2026-12-01'", "'2026-01-01'", "[]"),
    ]
    for ident, customer, end, created, items in rows:
        mirror.run(
            f"INSERT INTO stripe.subscriptions VALUES ('{ident}', '{customer}', 'active', true, "
            f"{end}, {created}, '{items}')"
        )

    data = mirror.read()

    assert data.subscriptions.column("subscription_id").to_pylist() == ["sub_ok"]
    assert [(s.location, s.field, s.customer_id) for s in data.skips] == [
        (f"{SYNC} id=sub_a", "current_period_end", "cus_a"),
        (f"{SYNC} id=sub_b", "created", "cus_b"),
        (f"{SYNC} id=sub_c", "created", "cus_c"),
        (f"{SYNC} id=sub_d", "items.data[0].quantity", "cus_d"),
    ]


# ---------------------------------------------------------------- URLs and credentials


def test_the_password_never_appears_in_any_error(mirror: Mirror) -> None:
    server = mirror.server
    wrong = server.url_for(READER, PASSWORD + "-wrong", database=mirror.database)
    empty = Mirror(server)
    with pytest.raises(SourceError) as bad_login:
        StripeMirrorSource(wrong, BillingConfig()).read()
    with pytest.raises(SourceError) as nothing:
        empty.read()
    sync_engine(mirror)
    dj_stripe(mirror)
    with pytest.raises(ConfigError) as both:
        mirror.read()
    missing_db = server.url_for(READER, PASSWORD, database="no_such_db")
    with pytest.raises(SourceError) as no_database:
        StripeMirrorSource(missing_db, BillingConfig()).read()

    texts = list(messages(bad_login, nothing, both, no_database))
    assert "password authentication failed" in texts[0]
    assert "no_such_db" in texts[3]
    for text in texts:
        assert PASSWORD not in text
        assert f"{READER}:***@" in text


def test_env_url_and_explicit_kind_are_routed_to_the_mirror(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync_engine(mirror, SUBSCRIPTIONS[:1])
    monkeypatch.setenv("BILLDRIFT_TEST_MIRROR_URL", mirror.url)

    from_env = open_billing("env:BILLDRIFT_TEST_MIRROR_URL", BillingConfig())
    explicit = open_billing(f"stripe-mirror:{mirror.url}", BillingConfig())
    assert type(from_env) is StripeMirrorSource and type(explicit) is StripeMirrorSource

    data = from_env.read()
    assert data.subscriptions.to_pylist() == expected_subscriptions(SYNC)[:1]
    assert data.description.startswith(
        f"stripe-mirror {SYNC} in env:BILLDRIFT_TEST_MIRROR_URL (postgresql://{READER}:***@"
    )
    assert PASSWORD not in data.description
    assert explicit.read().subscriptions.to_pylist() == expected_subscriptions(SYNC)[:1]


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("env:BILLDRIFT_TEST_UNSET_VARIABLE", ConfigError, "BILLDRIFT_TEST_UNSET_VARIABLE"),
        ("sqlite:///app.db", SourceError, "not from sqlite"),
        ("stripe-mirror:subscriptions.json", ConfigError, "expected a URL"),
    ],
)
def test_unusable_database_specs_fail_when_opened(
    spec: str, error: type[Exception], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BILLDRIFT_TEST_UNSET_VARIABLE", raising=False)
    with pytest.raises(error, match=message):
        open_billing(spec, BillingConfig())


def test_an_unrecognised_billing_file_mentions_database_urls(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("name,age\nAnn,31\n")
    with pytest.raises(SourceError) as error:
        open_billing(str(path), BillingConfig())
    assert "a database URL holding a Stripe mirror (postgresql://..., env:NAME)" in str(error.value)
    assert "stripe-mirror" in str(error.value)


# ----------------------------------------------------------------------- end to end

APP_CSV = """\
id,email,stripe_customer_id,has_paid_access,plan
u_alice,alice@example.com,cus_Alice,t,pro
u_bob,bob@example.com,cus_Bob,t,team
u_carol,carol@example.com,cus_Carol,t,pro
u_dave,dave@example.com,cus_Dave,t,pro
u_erin,erin@example.com,cus_Erin,t,starter
"""


def test_check_against_a_mirror_reports_the_injected_drift(mirror: Mirror, tmp_path: Path) -> None:
    """Carol's subscription was canceled in Stripe but the app still grants access; every
    other account matches (Bob is cancelling but paid up, Erin is within dunning grace)."""
    sync_engine(mirror)
    app = tmp_path / "users.csv"
    app.write_text(APP_CSV)
    args = ["check", "--billing", mirror.url, "--app", str(app), "--format", "json"]
    result = CliRunner().invoke(cli.main, [*args, "--as-of", "2026-11-22T00:00:00Z"])

    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "FAIL"
    assert report["summary"]["by_kind"] == {"unpaid_but_active": 1}
    (finding,) = report["findings"]
    assert (finding["account_id"], finding["customer_id"], finding["subscription_id"]) == (
        "u_carol",
        "cus_Carol",
        "sub_3Canceled",
    )
    assert PASSWORD not in result.stdout + result.stderr
    assert f"stripe-mirror {SYNC} in postgresql://{READER}:***@" in result.stdout
