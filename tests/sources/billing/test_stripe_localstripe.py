"""`--billing stripe` against localstripe, a third-party fake Stripe server.

localstripe has no ``created`` filter (it answers 500), lists oldest first and
supports only legacy plans: the source must notice that the parallel walk is not
possible and read everything with one cursor walk, still completely.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from billdrift.config import BillingConfig
from billdrift.sources.registry import open_billing
from tests.fakes.localstripe_server import LocalStripe

pytest_plugins = ["tests.fakes.fixtures"]


def test_every_status_every_page_and_cancel_and_resubscribe(
    localstripe: LocalStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded = localstripe.seed(per_status=14, seed=5)  # 8 buckets x 14 > one page of 100
    monkeypatch.setenv("STRIPE_API_KEY", LocalStripe.API_KEY)
    options = BillingConfig.model_validate(
        {
            "stripe": {
                "api_base": localstripe.url,
                "snapshot_dir": str(tmp_path),
                "max_requests_per_second": 200,
                "max_requests_per_second_per_endpoint": 200,
                "incremental": False,
                "retries": 1,
            }
        }
    )
    data = open_billing("stripe", options).read()

    rows = {row["subscription_id"]: row for row in data.subscriptions.to_pylist()}
    assert sorted(rows) == sorted(seeded.all_subscriptions)
    assert data.skips == ()
    statuses = {rows[ident]["status"] for ident in seeded.subscriptions["canceled"]}
    assert statuses == {"canceled"}
    for ident in seeded.subscriptions["trialing"]:
        assert rows[ident]["status"] == "trialing" and rows[ident]["trial_end"] is not None
    for ident in seeded.subscriptions["cancel_at_period_end"]:
        assert rows[ident]["cancel_at_period_end"] is True
    for ident in seeded.subscriptions["resubscribed_active"]:
        assert rows[ident]["status"] == "active"
    emails = {row["customer_id"]: row["customer_email"] for row in rows.values()}
    assert all(emails[customer] == email for customer, email in seeded.emails.items())
    items = data.items.to_pylist()
    assert {item["price_id"] for item in items} == set(seeded.plans)  # legacy plans read
    assert all(item["unit_amount_minor"] for item in items)
