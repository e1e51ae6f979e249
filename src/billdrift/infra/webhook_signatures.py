"""Checking that a webhook came from the provider: HMAC-SHA256 over the raw body.

* Stripe: ``Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX...]``, the HMAC of
  ``"{t}.{raw body}"`` with the endpoint's ``whsec_`` secret; any ``v1`` may match
  (Stripe sends two while a secret is being rolled).
* Paddle Billing: ``Paddle-Signature: ts=TIMESTAMP;h1=HEX[;h1=HEX...]``, the HMAC of
  ``"{ts}:{raw body}"`` with the notification destination's secret key.

Both are checked on the bytes as received (a parsed and re-serialized body would
not match), compared in constant time, and refused when the timestamp is further
than `tolerance` seconds from now either way, so a captured request cannot be
replayed later. Why not the providers' SDKs: they are large, each does only its
own provider, and this is the standard library's ``hmac`` in a few lines.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

#: Seconds a signed timestamp may be away from now (Stripe's and Paddle's default).
DEFAULT_TOLERANCE = 300.0


class SignatureError(Exception):
    """The request is not provably from the provider; the message says why (no secret)."""


def verify_stripe(
    body: bytes, header: str | None, secrets: Sequence[str], now: float, tolerance: float
) -> None:
    """Raise SignatureError unless `header` signs `body` with one of `secrets`."""
    parts = _parts(header, ",", "Stripe-Signature")
    _verify(body, parts, "t", "v1", b".", secrets, now, tolerance)


def verify_paddle(
    body: bytes, header: str | None, secrets: Sequence[str], now: float, tolerance: float
) -> None:
    """Raise SignatureError unless `header` signs `body` with one of `secrets`."""
    parts = _parts(header, ";", "Paddle-Signature")
    _verify(body, parts, "ts", "h1", b":", secrets, now, tolerance)


def sign(body: bytes, secret: str, timestamp: int, separator: bytes) -> str:
    """The hex HMAC-SHA256 of ``timestamp + separator + body`` (what both providers send)."""
    message = str(timestamp).encode() + separator + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _parts(header: str | None, separator: str, name: str) -> list[tuple[str, str]]:
    if not header:
        raise SignatureError(f"no {name} header")
    parts = []
    for piece in header.split(separator):
        key, equals, value = piece.strip().partition("=")
        if equals:
            parts.append((key.strip(), value.strip()))
    return parts


def _verify(
    body: bytes,
    parts: list[tuple[str, str]],
    time_key: str,
    signature_key: str,
    separator: bytes,
    secrets: Sequence[str],
    now: float,
    tolerance: float,
) -> None:
    stamps = [value for key, value in parts if key == time_key]
    signatures = [value for key, value in parts if key == signature_key]
    if len(stamps) != 1 or not stamps[0].isdigit():
        raise SignatureError(f"the signature header has no single {time_key}=TIMESTAMP")
    if not signatures:
        raise SignatureError(f"the signature header has no {signature_key}= signature")
    timestamp = int(stamps[0])
    if abs(now - timestamp) > tolerance:
        raise SignatureError(
            f"the signed timestamp is {abs(now - timestamp):.0f} s from now "
            f"(tolerance {tolerance:g} s): a replay, or a clock out of sync"
        )
    for secret in secrets:
        expected = sign(body, secret, timestamp, separator)
        if any(hmac.compare_digest(expected, given) for given in signatures):
            return
    raise SignatureError("no signature matches the body with the configured secret")
