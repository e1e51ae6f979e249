"""The documented provider limits and billdrift's defaults under them (one place)."""

from __future__ import annotations

import pytest

from billdrift.sources.billing.rate_limits import (
    JITTER_MARGIN,
    PADDLE,
    STRIPE_LIVE,
    STRIPE_TEST,
    Limits,
    pacer,
)


def test_the_documented_limits_are_those_of_the_provider_pages() -> None:
    assert (STRIPE_LIVE.account, STRIPE_LIVE.endpoint) == (100, 25)
    assert (STRIPE_TEST.account, STRIPE_TEST.endpoint) == (25, 25)
    assert PADDLE.account * 60 == pytest.approx(240)  # 240 a minute
    assert PADDLE.endpoint is None


@pytest.mark.parametrize("limits", [STRIPE_LIVE, STRIPE_TEST, PADDLE], ids=lambda x: x.scope)
def test_defaults_never_exceed_the_documented_limits(limits: Limits) -> None:
    paced, notes = pacer(limits, None, None, setting="billing.x")
    assert notes == []
    assert paced.account.per_second <= limits.account * JITTER_MARGIN
    walk = paced.rate("/v1/subscriptions")
    assert walk <= min(limits.account, limits.endpoint or limits.account) * JITTER_MARGIN


def test_stripe_live_walks_one_endpoint_at_20_per_second_not_the_account_rate() -> None:
    paced, _ = pacer(STRIPE_LIVE, None, None, setting="billing.stripe")
    assert paced.account.per_second == pytest.approx(60 * JITTER_MARGIN)
    assert paced.rate("/v1/subscriptions") == pytest.approx(20 * JITTER_MARGIN)
    assert paced.rate("/v1/customers/{id}") == pytest.approx(20 * JITTER_MARGIN)


@pytest.mark.parametrize(
    ("account", "endpoint", "noted"),
    [
        (100, 25, []),  # at the limits: silent
        (
            100.5,
            25,
            [
                "billing.stripe.max_requests_per_second = 100.5 is above Stripe's "
                "documented limit of 100 requests/s"
            ],
        ),
        (
            100,
            26,
            [
                "billing.stripe.max_requests_per_second_per_endpoint = 26 is above "
                "Stripe's documented limit of 25 requests/s (per endpoint, live mode)"
            ],
        ),
    ],
)
def test_a_setting_above_a_documented_limit_is_used_with_a_note_naming_it(
    account: float, endpoint: float, noted: list[str]
) -> None:
    paced, notes = pacer(STRIPE_LIVE, account, endpoint, setting="billing.stripe")
    assert len(notes) == len(noted)
    for note, start in zip(notes, noted, strict=True):
        assert note.startswith(start)
        assert "429" in note
    assert paced.account.per_second == pytest.approx(account * JITTER_MARGIN)  # used
    assert paced.rate("/v1/subscriptions") == pytest.approx(endpoint * JITTER_MARGIN)


def test_test_mode_limits_are_test_mode_ones() -> None:
    _, silent = pacer(STRIPE_TEST, 25, None, setting="billing.stripe")
    _, noted = pacer(STRIPE_TEST, 26, None, setting="billing.stripe")
    assert silent == []
    assert (
        "documented limit of 25 requests/s (per account, your app included, test mode)" in noted[0]
    )


def test_paddle_above_240_a_minute_is_noted() -> None:
    _, silent = pacer(PADDLE, 4, setting="billing.paddle")
    _, noted = pacer(PADDLE, 4.5, setting="billing.paddle")
    assert silent == []
    assert noted[0].startswith("billing.paddle.max_requests_per_second = 4.5 is above Paddle's")
    assert "per IP address: 240 a minute" in noted[0]
