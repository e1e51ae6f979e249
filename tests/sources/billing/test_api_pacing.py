"""Pacing against a fake that enforces Stripe's documented limits: 100 requests/s for
the account live (25/s in test mode) and 25/s per endpoint, with Stripe's 429."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

import pytest

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.sources.registry import open_billing
from tests.fakes.stripe_fake import ENDPOINT_LIMIT, FakeStripe

NOW = int(time.time())


def read(
    server: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str, **stripe: Any
) -> BillingData:
    monkeypatch.setenv("STRIPE_API_KEY", key)
    settings = {"api_base": server.url, "snapshot_dir": str(tmp_path), **stripe}
    return open_billing("stripe", BillingConfig.model_validate({"stripe": settings})).read()


@pytest.mark.parametrize("live", [True, False], ids=["live", "test"])
def test_a_walk_at_default_settings_gets_no_429(
    live: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Live, billdrift used to pace the subscription walk at 57/s: over Stripe's 25/s
    per endpoint within the first second."""
    with FakeStripe.with_stripe_limits(live=live, latency=0.01) as fake:
        fake.populate(3_000, seed=5, now=NOW)
        key = FakeStripe.LIVE_KEY if live else FakeStripe.DEFAULT_KEY
        data = read(fake, tmp_path, monkeypatch, key, incremental=False)
        stats = fake.stats()
    assert data.subscriptions.num_rows == 3_000
    assert stats.requests > ENDPOINT_LIMIT  # enough to cross the limit if paced above it
    assert stats.rate_limited == 0
    assert "rate-limited" not in data.description
    assert not any("documented limit" in note for note in data.notes)


def test_a_walk_paced_above_the_endpoint_limit_is_refused_retried_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paced at 30/s (above Stripe's 25, so noted) against a fake allowing 4/s per
    endpoint: far enough apart that even a loaded machine sends over the limit."""
    with FakeStripe.with_stripe_limits(live=True) as fake:
        fake.endpoint_rate_limit = 4
        fake.populate(1_000, seed=6, now=NOW)
        data = read(
            fake,
            tmp_path,
            monkeypatch,
            FakeStripe.LIVE_KEY,
            incremental=False,
            concurrency=2,
            max_requests_per_second_per_endpoint=30,
        )
        stats = fake.stats()
    assert data.subscriptions.num_rows == 1_000  # every 429 retried until answered
    assert stats.rate_limited > 0
    assert f"{stats.rate_limited} rate-limited and retried" in data.description
    assert stats.max_admitted_per_second_by_endpoint["/v1/subscriptions"] <= 4
    assert any(
        note.startswith("billing.stripe.max_requests_per_second_per_endpoint = 30 is above")
        for note in data.notes
    )


def test_a_429_is_retried_after_the_wait_retry_after_asks_for(
    fake_stripe: FakeStripe, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_stripe.populate(400, seed=8, now=NOW)
    fake_stripe.retry_after = 0.6  # the backoff alone would wait at most 0.25 s
    fake_stripe.inject("429", times=1, path="/v1/subscriptions")
    data = read(
        fake_stripe,
        tmp_path,
        monkeypatch,
        FakeStripe.DEFAULT_KEY,
        incremental=False,
        concurrency=1,
    )
    assert data.subscriptions.num_rows == 400
    log = fake_stripe.requests
    refused = [i for i, record in enumerate(log) if record.status == 429]
    assert len(refused) == 1
    gaps = [b.at - a.at for a, b in itertools.pairwise(log)]
    assert gaps[refused[0]] >= 0.6 - 0.02  # the next request waited as asked


pytest_plugins = ["tests.fakes.fixtures"]
