"""Webhook signatures (Stripe, Paddle): made here with hmac from the documented
scheme, independently of billdrift's signer, then verified by billdrift."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from billdrift.infra.webhook_signatures import SignatureError, verify_paddle, verify_stripe

BODY = b'{"id": "evt_1", "type": "customer.subscription.updated"}'
SECRET = "whsec_test_secret"
NOW = 1_800_000_000


def _mac(message: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def stripe_header(t: int = NOW, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"t={t},v1={_mac(f'{t}.'.encode() + body, secret)}"


def paddle_header(ts: int = NOW, body: bytes = BODY, secret: str = SECRET) -> str:
    return f"ts={ts};h1={_mac(f'{ts}:'.encode() + body, secret)}"


def test_a_correct_stripe_signature_passes_and_any_v1_may_match() -> None:
    verify_stripe(BODY, stripe_header(), [SECRET], NOW, 300)
    rolled = f"t={NOW},v1={'0' * 64},v1={_mac(f'{NOW}.'.encode() + BODY)}"
    verify_stripe(BODY, rolled, [SECRET], NOW, 300)
    verify_stripe(BODY, stripe_header(secret="whsec_old"), ["whsec_new", "whsec_old"], NOW, 300)


def test_a_correct_paddle_signature_passes() -> None:
    verify_paddle(BODY, paddle_header(), [SECRET], NOW, 300)


@pytest.mark.parametrize(
    ("header", "body", "reason"),
    [
        (stripe_header(secret="whsec_other"), BODY, "no signature matches"),
        (stripe_header(), BODY + b" ", "no signature matches"),  # the raw bytes are signed
        (paddle_header(), BODY, "no single t="),  # Paddle's header is not Stripe's
        (f"t={NOW}", BODY, "no v1="),
        (None, BODY, "no Stripe-Signature header"),
    ],
)
def test_stripe_refusals(header: str | None, body: bytes, reason: str) -> None:
    with pytest.raises(SignatureError, match=reason):
        verify_stripe(body, header, [SECRET], NOW, 300)


def test_paddle_refuses_a_body_signed_the_stripe_way() -> None:
    stripe_style = f"ts={NOW};h1={_mac(f'{NOW}.'.encode() + BODY)}"
    with pytest.raises(SignatureError, match="no signature matches"):
        verify_paddle(BODY, stripe_style, [SECRET], NOW, 300)


@pytest.mark.parametrize("verify", [verify_stripe, verify_paddle])
def test_the_timestamp_tolerance_on_both_sides_of_both_boundaries(verify: object) -> None:
    header = stripe_header if verify is verify_stripe else paddle_header
    check = verify_stripe if verify is verify_stripe else verify_paddle
    for signed in (NOW - 300, NOW + 300):  # exactly at the tolerance: accepted
        check(BODY, header(signed), [SECRET], NOW, 300)
    for signed in (NOW - 301, NOW + 301):  # one second over: a replay or a bad clock
        with pytest.raises(SignatureError, match="from now"):
            check(BODY, header(signed), [SECRET], NOW, 300)
