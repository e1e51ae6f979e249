"""Generic HTTP webhook: a versioned JSON body, HMAC-SHA256 signed like Stripe's.

Body (``schema: "billdrift.alert/v1"``; fields are only ever added within v1)::

    {
      "schema": "billdrift.alert/v1",
      "delivery_id": "5f0c…",                           # 32 hex digits, unique per alert
      "tier": "urgent" | "review",
      "headline": "3 paying customers locked out",
      "verdict": "PASS" | "WARN" | "FAIL" | "ERROR",
      "as_of": "2026-11-22T12:00:00Z",
      "counts": {"paid_but_blocked": {"new": 2, "reopened": 1}},
      "total": 3,
      "exposure": {"USD": "58.00", "EUR": "19.00"},     # per currency, never summed
      "findings": [                                     # up to max_findings, urgent first
        {"kind": "paid_but_blocked", "severity": "high",
         "status": "new" | "reopened" | "ongoing" | "current",
         "account_id": "2", "customer_id": "cus_N3x8Q2", "subscription_id": "sub_1" | null,
         "fingerprint": "3f9a…",                        # 64 hex digits, of the real ids
         "dashboard_url": "https://dashboard.stripe.com/customers/cus_N3x8Q2" | null,
         "amount": "29.00" | null, "currency": "USD" | null,   # monthly
         "emails": ["j***@e***.com"], "message": "...", "fix": "...",
         "exposure": {"monthly_amount": "29.00", "currency": "USD"} | null}
      ],
      "report_link": "https://..." | "/path/to/report.json" | null
    }

:data:`ALERT_SCHEMA_V1` is the same shape as a JSON Schema. ``alerts.mask`` says
what is masked (default: emails; with ``all`` ids too, and ``dashboard_url`` is
null); the raw evidence is not sent (the full report has it). ``status`` is
``ongoing`` only with ``alert_on = "all"`` and a history store (``current``:
``all`` without one).

``delivery_id`` is a random id, the same on every retry of one alert: delivery
is at-least-once, so receivers deduplicate on it. It is inside the body, so the
signature covers it; the ``Billdrift-Delivery`` header repeats it unsigned, for
logs (trust the body's).

Headers: ``Content-Type: application/json``, ``Billdrift-Delivery`` and
``Billdrift-Signature: t=<unix time>,v1=<hex>``, where ``<hex>`` is HMAC-SHA256
of ``"<t>.<raw body>"`` keyed with the shared secret (the env var named by
``alerts.webhook.secret_env``). Each attempt is signed afresh, so a retry
carries a current timestamp.

To verify as a receiver (or call :func:`verify_signature`):

1. Take the raw request body bytes, before any JSON parsing.
2. Split the header on ``,``; take ``t`` and every ``v1`` value.
3. Compute ``hmac_sha256(secret, f"{t}.".encode() + body).hexdigest()`` and
   compare it with each ``v1`` in constant time (``hmac.compare_digest``).
4. Reject if ``|now - t|`` exceeds your tolerance (300 s): an old capture
   cannot be replayed later.
5. Reject a ``delivery_id`` already processed (keep ids for the tolerance, at
   least): a capture replayed within the tolerance is then refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import orjson

from billdrift._version import __version__
from billdrift.infra.retry import RetryPolicy
from billdrift.outputs.alerts.delivery import Attempt, deliver, post
from billdrift.outputs.alerts.interface import (
    Alert,
    AlertFinding,
    AlertSink,
    Delivery,
    check_http_url,
    secret_from_env,
)
from billdrift.outputs.alerts.settings import TIERS, AlertSettings, Tier

if TYPE_CHECKING:
    import httpx

SCHEMA = "billdrift.alert/v1"
SIGNATURE_HEADER = "Billdrift-Signature"
DELIVERY_HEADER = "Billdrift-Delivery"
#: Receivers should reject signatures older (or newer) than this many seconds.
DEFAULT_TOLERANCE = 300


class WebhookSink(AlertSink):
    name = "webhook"

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 10.0,
        tiers: tuple[Tier, ...] = TIERS,
        url_is_secret: bool = False,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._url = url
        self._secret = secret
        self._url_is_secret = url_is_secret
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self.tiers = tiers
        self._transport = transport
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: AlertSettings, environ: Mapping[str, str]) -> Self:
        hook = settings.webhook
        if hook is None:
            raise ValueError("alerts.webhook is not configured")
        if hook.url_env is not None:
            url = secret_from_env(environ, hook.url_env, "alerts.webhook.url_env")
            check_http_url(url, f"alerts.webhook.url_env ({hook.url_env})")
        else:
            assert hook.url is not None  # from_mapping requires exactly one of the two
            url = hook.url
        return cls(
            url,
            secret_from_env(environ, hook.secret_env, "alerts.webhook.secret_env"),
            retry=RetryPolicy(retries=settings.retries, backoff=settings.backoff_seconds),
            timeout=settings.timeout_seconds,
            tiers=hook.tiers,
            url_is_secret=hook.url_env is not None,
        )

    @property
    def target(self) -> str:
        parts = urlsplit(self._url)
        if self._url_is_secret:
            return f"webhook ({parts.hostname})"
        return f"webhook ({parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path})"

    def secrets(self) -> tuple[str, ...]:
        found = [self._secret]
        parts = urlsplit(self._url)
        if parts.password:
            found.append(parts.password)
        if parts.query:
            found.append(parts.query)
        if self._url_is_secret:
            found += [self._url, parts.path]
        return tuple(s for s in found if len(s) > 1)

    def send(self, alert: Alert) -> Delivery:
        delivery_id = uuid.uuid4().hex
        body = orjson.dumps(webhook_payload(alert, delivery_id))

        def attempt() -> Attempt:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": f"billdrift/{__version__}",
                DELIVERY_HEADER: delivery_id,
                SIGNATURE_HEADER: sign(self._secret, body, int(self._clock())),
            }
            return post(self._url, body, headers, self.timeout, self._transport)

        return deliver(self, alert, attempt, self.retry)


def webhook_payload(alert: Alert, delivery_id: str) -> dict[str, Any]:
    """The v1 body (see the module docstring and :data:`ALERT_SCHEMA_V1`)."""
    return {
        "schema": SCHEMA,
        "delivery_id": delivery_id,
        "tier": alert.tier,
        "headline": alert.headline,
        "verdict": alert.verdict.value,
        "as_of": alert.as_of_text,
        "counts": alert.counts,
        "total": alert.total,
        "exposure": alert.exposure,
        "findings": [_finding(f) for f in alert.findings],
        "report_link": alert.report_link,
    }


def _finding(finding: AlertFinding) -> dict[str, Any]:
    return {
        "kind": finding.kind.value,
        "severity": finding.severity.label,
        "status": finding.status,
        "account_id": finding.account_id,
        "customer_id": finding.customer_id,
        "subscription_id": finding.subscription_id,
        "fingerprint": finding.fingerprint,
        "dashboard_url": finding.dashboard_url,
        "amount": None if finding.exposure is None else finding.exposure.monthly_amount,
        "currency": None if finding.exposure is None else finding.exposure.currency,
        "emails": list(finding.emails),
        "message": finding.message,
        "fix": finding.fix,
        "exposure": None
        if finding.exposure is None
        else {
            "monthly_amount": finding.exposure.monthly_amount,
            "currency": finding.exposure.currency,
        },
    }


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``Billdrift-Signature`` header value for `body` sent at `timestamp`."""
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(
    secret: str,
    header: str | None,
    body: bytes | str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
    seen: Callable[[str], bool] | None = None,
) -> bool:
    """True when `header` signs exactly `body` with `secret`, within `tolerance` seconds,
    and (with `seen`) the delivery is not a replay.

    For receivers (and tests): any ``v1`` entry may match, so a sender can sign with
    an old and a new secret while rotating them.

    `seen` is called, once the signature and its timestamp check out, with the
    ``delivery_id`` signed in the body; it returns True for an id already processed,
    and the request is then refused (as is a body without an id). Remember an id
    once its delivery is processed, for `tolerance` seconds at least (an older
    capture fails the timestamp check anyway). A retry carries the same id, but
    billdrift retries only what failed; a receiver that wants to answer a repeat
    with 2xx calls this without `seen` and looks the id up itself.
    """
    if not header or not secret:
        return False
    raw = body.encode("utf-8") if isinstance(body, str) else body
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return False
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        return False
    expected = _digest(secret, timestamp, raw)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        return False
    return seen is None or _fresh(raw, seen)


def _fresh(body: bytes, seen: Callable[[str], bool]) -> bool:
    """True when `body` names a delivery id that `seen` has not seen."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    delivery_id = payload.get("delivery_id") if isinstance(payload, dict) else None
    return isinstance(delivery_id, str) and bool(delivery_id) and not seen(delivery_id)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


_NULLABLE_STRING: dict[str, Any] = {"type": ["string", "null"]}
_COUNTS: dict[str, Any] = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "propertyNames": {"enum": ["new", "reopened", "ongoing", "current"]},
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
}

#: The v1 body as a JSON Schema (draft 2020-12), for receivers and tests.
ALERT_SCHEMA_V1: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "billdrift alert",
    "type": "object",
    "required": [
        "schema",
        "delivery_id",
        "tier",
        "headline",
        "verdict",
        "as_of",
        "counts",
        "total",
        "exposure",
        "findings",
        "report_link",
    ],
    "properties": {
        "schema": {"const": SCHEMA},
        "delivery_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
        "tier": {"enum": ["urgent", "review"]},
        "headline": {"type": "string"},
        "verdict": {"enum": ["PASS", "WARN", "FAIL", "ERROR"]},
        "as_of": {"type": "string"},
        "counts": _COUNTS,
        "total": {"type": "integer", "minimum": 1},
        "exposure": {
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"},
        },
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "kind",
                    "severity",
                    "status",
                    "account_id",
                    "customer_id",
                    "subscription_id",
                    "fingerprint",
                    "dashboard_url",
                    "amount",
                    "currency",
                    "emails",
                    "message",
                    "fix",
                    "exposure",
                ],
                "properties": {
                    "kind": {"type": "string"},
                    "severity": {"enum": ["high", "medium", "low"]},
                    "status": {"enum": ["new", "reopened", "ongoing", "current"]},
                    "account_id": _NULLABLE_STRING,
                    "customer_id": _NULLABLE_STRING,
                    "subscription_id": _NULLABLE_STRING,
                    "fingerprint": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "dashboard_url": _NULLABLE_STRING,
                    "amount": {"type": ["string", "null"], "pattern": r"^-?\d+(\.\d+)?$"},
                    "currency": _NULLABLE_STRING,
                    "emails": {"type": "array", "items": {"type": "string"}},
                    "message": {"type": "string"},
                    "fix": {"type": "string"},
                    "exposure": {
                        "oneOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "required": ["monthly_amount", "currency"],
                                "properties": {
                                    "monthly_amount": {"type": "string"},
                                    "currency": {"type": "string"},
                                },
                            },
                        ]
                    },
                },
            },
        },
        "report_link": _NULLABLE_STRING,
    },
}
