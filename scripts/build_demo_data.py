"""Build the bundled demo data: a Stripe subscriptions snapshot and a SQLite app database.

Run `python scripts/build_demo_data.py` after changing the cases below; the files
under src/billdrift/demo_data/ are committed so the demo needs nothing else.
Every finding kind appears at least once; tests/test_demo.py holds the expected counts.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "src" / "billdrift" / "demo_data"

PRICES = {
    "price_basic_monthly": ("basic_monthly", "prod_basic", 1900, "usd", "month", 1),
    "price_pro_monthly": ("pro_monthly", "prod_pro", 4900, "usd", "month", 1),
    "price_pro_yearly": ("pro_yearly", "prod_pro", 49000, "usd", "year", 1),
    "price_team_monthly": ("team_monthly", "prod_team", 1500, "usd", "month", 1),
    "price_pro_jpy": ("pro_jpy", "prod_pro", 5000, "jpy", "month", 1),
    "price_pro_eur": ("pro_eur", "prod_pro", 4500, "eur", "month", 1),
}


def t(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())


def price(price_id: str) -> dict[str, Any]:
    lookup, product, amount, currency, interval, count = PRICES[price_id]
    return {
        "id": price_id,
        "object": "price",
        "lookup_key": lookup,
        "product": product,
        "unit_amount": amount,
        "currency": currency,
        "recurring": {"interval": interval, "interval_count": count, "usage_type": "licensed"},
    }


def subscription(
    sub_id: str,
    customer: str,
    status: str,
    price_id: str,
    start: str,
    end: str,
    *,
    email: str | None = None,
    quantity: int = 1,
    item_periods: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A Stripe subscription; item-level periods (API 2025-03-31+) or legacy top-level."""
    item: dict[str, Any] = {
        "id": f"si_{sub_id[4:]}",
        "object": "subscription_item",
        "price": price(price_id),
        "quantity": quantity,
    }
    body: dict[str, Any] = {
        "id": sub_id,
        "object": "subscription",
        "customer": {"id": customer, "object": "customer", "email": email} if email else customer,
        "status": status,
        "cancel_at_period_end": False,
        "cancel_at": None,
        "canceled_at": None,
        "ended_at": None,
        "trial_end": None,
        "created": t(start) - 86400 * 30,
        "currency": PRICES[price_id][3],
        "items": {"object": "list", "data": [item], "has_more": False},
    }
    periods = {"current_period_start": t(start), "current_period_end": t(end)}
    if item_periods:
        item.update(periods)
    else:
        body.update(periods)
    for key, value in extra.items():
        body[key] = t(value) if isinstance(value, str) else value
    return body


SUBSCRIPTIONS = [
    # in sync, with a 20% discount
    subscription(
        "sub_alice",
        "cus_alice",
        "active",
        "price_pro_monthly",
        "2026-11-10",
        "2026-12-10",
        email="alice@example.com",
        discounts=[
            {
                "id": "di_1",
                "object": "discount",
                "source": {"coupon": {"id": "SAVE20", "percent_off": 20.0, "amount_off": None}},
            }
        ],
    ),
    # paid but blocked
    subscription(
        "sub_bob",
        "cus_bob",
        "active",
        "price_basic_monthly",
        "2026-11-05",
        "2026-12-05",
        email="bob@example.com",
    ),
    # unpaid but active: canceled last month
    subscription(
        "sub_carol",
        "cus_carol",
        "canceled",
        "price_pro_monthly",
        "2026-09-01",
        "2026-10-01",
        email="carol@example.com",
        canceled_at="2026-09-20",
        ended_at="2026-10-01",
        item_periods=False,
    ),
    # past_due within the 7-day grace: still entitled, in sync
    subscription(
        "sub_dave",
        "cus_dave",
        "past_due",
        "price_pro_monthly",
        "2026-11-19",
        "2026-12-19",
        email="dave@example.com",
    ),
    # past_due beyond grace while the app grants: unpaid but active
    subscription(
        "sub_erin",
        "cus_erin",
        "past_due",
        "price_basic_monthly",
        "2026-11-01",
        "2026-12-01",
        email="erin@example.com",
    ),
    # cancel at period end, period not over yet, app already revoked: paid but blocked
    subscription(
        "sub_frank",
        "cus_frank",
        "active",
        "price_pro_monthly",
        "2026-11-05",
        "2026-12-05",
        email="frank@example.com",
        cancel_at_period_end=True,
        canceled_at="2026-11-15",
    ),
    # yearly pro, app says basic: plan drift
    subscription(
        "sub_grace",
        "cus_grace",
        "active",
        "price_pro_yearly",
        "2026-03-01",
        "2027-03-01",
        email="grace@example.com",
        item_periods=False,
    ),
    # nobody in the app: orphaned subscription (5 seats)
    subscription(
        "sub_heidi",
        "cus_heidi",
        "active",
        "price_team_monthly",
        "2026-11-12",
        "2026-12-12",
        email="heidi@example.org",
        quantity=5,
    ),
    # one customer, two accounts: duplicate customer link
    subscription(
        "sub_mallory",
        "cus_mallory",
        "active",
        "price_team_monthly",
        "2026-11-02",
        "2026-12-02",
        email="mallory@example.com",
        quantity=2,
    ),
    # app flag says yes, app status column says canceled: app fields disagree
    subscription(
        "sub_niaj",
        "cus_niaj",
        "active",
        "price_pro_monthly",
        "2026-11-08",
        "2026-12-08",
        email="niaj@example.com",
    ),
    # a status the Stripe policy does not know: ambiguous
    subscription(
        "sub_olivia",
        "cus_olivia",
        "inactive",
        "price_pro_monthly",
        "2026-11-03",
        "2026-12-03",
        email="olivia@example.com",
    ),
    # incomplete first payment, app denies: in sync
    subscription(
        "sub_peggy",
        "cus_peggy",
        "incomplete",
        "price_basic_monthly",
        "2026-11-21",
        "2026-12-21",
        email="peggy@example.com",
    ),
    # matched only by normalized email (+tag, Gmail dots): medium-severity paid but blocked
    subscription(
        "sub_trent",
        "cus_trent",
        "active",
        "price_pro_monthly",
        "2026-11-11",
        "2026-12-11",
        email="trentsmith@gmail.com",
    ),
    # yen, a zero-decimal currency: totals stay per currency
    subscription(
        "sub_victor",
        "cus_victor",
        "active",
        "price_pro_jpy",
        "2026-11-14",
        "2026-12-14",
        email="victor@example.jp",
    ),
    # cancel and resubscribe: the live subscription wins, in sync
    subscription(
        "sub_walter_old",
        "cus_walter",
        "canceled",
        "price_basic_monthly",
        "2026-08-01",
        "2026-09-01",
        email="walter@example.com",
        ended_at="2026-09-01",
    ),
    subscription(
        "sub_walter_new",
        "cus_walter",
        "active",
        "price_pro_monthly",
        "2026-11-01",
        "2026-12-01",
        email="walter@example.com",
    ),
    # paused, app grants: unpaid but active
    subscription(
        "sub_xavier",
        "cus_xavier",
        "paused",
        "price_pro_eur",
        "2026-10-15",
        "2026-11-15",
        email="xavier@example.de",
    ),
    # canceled but comped by a reviewed exception: suppressed
    subscription(
        "sub_zoe",
        "cus_zoe",
        "canceled",
        "price_pro_monthly",
        "2026-08-01",
        "2026-09-01",
        email="zoe@example.com",
        ended_at="2026-09-01",
    ),
]

# id, email, stripe_customer_id, has_paid_access, subscription_status, plan, role
USERS = [
    ("1", "alice@example.com", "cus_alice", 1, "active", "pro", "member"),
    ("2", "bob@example.com", "cus_bob", 0, "canceled", "free", "member"),
    ("3", "carol@example.com", "cus_carol", 1, "active", "pro", "member"),
    ("4", "dave@example.com", "cus_dave", 1, "past_due", "pro", "member"),
    ("5", "erin@example.com", "cus_erin", 1, "past_due", "basic", "member"),
    ("6", "frank@example.com", "cus_frank", 0, "canceled", "free", "member"),
    ("7", "grace@example.com", "cus_grace", 1, "active", "basic", "member"),
    ("9", "ivan@example.com", None, 1, "active", "pro", "member"),
    ("10", "judy@example.com", "cus_deleted_2024", 1, "active", "pro", "member"),
    ("11", "mallory@example.com", "cus_mallory", 1, "active", "team", "owner"),
    ("12", "mallory+ops@example.com", "cus_mallory", 1, "active", "team", "member"),
    ("13", "niaj@example.com", "cus_niaj", 1, "canceled", "pro", "member"),
    ("14", "olivia@example.com", "cus_olivia", 1, "active", "pro", "member"),
    ("15", "peggy@example.com", "cus_peggy", 0, None, "free", "member"),
    ("16", "rupert@billdrift.dev", None, 1, None, "pro", "admin"),
    ("17", "sybil@example.com", None, 0, None, "free", "member"),
    ("18", "Trent.Smith+app@gmail.com", None, 0, None, "free", "member"),
    ("19", "victor@example.jp", "cus_victor", 0, "active", "pro", "member"),
    ("20", "walter@example.com", "cus_walter", 1, "active", "pro", "member"),
    ("21", "xavier@example.de", "cus_xavier", 1, "active", "pro", "member"),
    ("22", "zoe@example.com", "cus_zoe", 1, "active", "pro", "member"),
]


def build_billing() -> None:
    body = {"object": "list", "url": "/v1/subscriptions", "has_more": False, "data": SUBSCRIPTIONS}
    (OUT / "stripe_subscriptions.json").write_text(json.dumps(body, indent=2) + "\n")


def build_app() -> None:
    path = OUT / "app.sqlite"
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as db:
        db.executescript(
            """
            CREATE TABLE users (
              id TEXT PRIMARY KEY, email TEXT, stripe_customer_id TEXT,
              has_paid_access INTEGER NOT NULL DEFAULT 0, subscription_status TEXT,
              plan TEXT, role TEXT);
            CREATE TABLE login_events (id INTEGER PRIMARY KEY, user_id TEXT, at TEXT);
            """
        )
        db.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)", USERS)
        db.execute("INSERT INTO login_events (user_id, at) VALUES ('1', '2026-11-21')")
    db.close()


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    build_billing()
    build_app()
