"""The signed webhook against a local receiver that verifies signatures like a real one."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import jsonschema
import orjson
import pytest

from billdrift.history.fingerprint import fingerprint
from billdrift.outputs.alerts import compose_alerts, verify_signature
from billdrift.outputs.alerts.delivery import RetryPolicy
from billdrift.outputs.alerts.interface import Alert
from billdrift.outputs.alerts.webhook import (
    ALERT_SCHEMA_V1,
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    WebhookSink,
    sign,
    webhook_payload,
)
from tests.outputs.alerts.conftest import SECRET, Sleeps
from tests.outputs.alerts.receivers import HttpReceiver, Reply, free_port
from tests.outputs.alerts.samples import (
    ORPHAN,
    PAID_JANE,
    PAID_OPS,
    PLAN_DRIFT,
    RAW_EMAILS,
    UNPAID_BOB,
    report,
)

LINK = "https://ci.example.com/billdrift/42/report.html"


def alerts() -> list[Alert]:
    return compose_alerts(
        report(), [PAID_JANE, UNPAID_BOB, PLAN_DRIFT], [PAID_OPS, ORPHAN], "new", LINK
    )


def test_a_signed_alert_is_accepted_and_matches_the_v1_schema(
    signed_receiver: HttpReceiver, retry: RetryPolicy
) -> None:
    sink = WebhookSink(signed_receiver.url(), SECRET, retry=retry)
    for alert in alerts():
        delivery = sink.send(alert)
        assert delivery.ok and delivery.attempts == 1 and delivery.status == 200
    assert len(signed_receiver.accepted) == 2 and not signed_receiver.rejected
    urgent, review = (r.json() for r in signed_receiver.accepted)
    for body in (urgent, review):
        jsonschema.validate(body, ALERT_SCHEMA_V1)
        assert body["schema"] == "billdrift.alert/v1" and body["report_link"] == LINK
        assert body["verdict"] == "FAIL" and body["as_of"] == "2026-11-22T12:00:00Z"
        assert all(f["fix"] for f in body["findings"])
    assert urgent["tier"] == "urgent" and review["tier"] == "review"
    assert urgent["counts"] == {"paid_but_blocked": {"new": 1, "reopened": 1}}
    assert urgent["exposure"] == {"EUR": "19.00", "USD": "29.00"}
    assert review["exposure"] == {"JPY": "5000", "USD": "148.00"}
    assert urgent["findings"][0]["emails"] == ["j***@e***.com"]
    assert urgent["findings"][0]["exposure"] == {"monthly_amount": "29.00", "currency": "USD"}
    assert [f["kind"] for f in review["findings"]] == [
        "unpaid_but_active",
        "plan_drift",
        "orphaned_subscription",
    ]
    jane = urgent["findings"][0]
    assert jane["account_id"] == "acct_7f3a99c1d2" and jane["customer_id"] == "cus_N3x8Q2abc"
    assert jane["fingerprint"] == fingerprint(PAID_JANE) and jane["status"] == "new"
    assert jane["dashboard_url"] == "https://dashboard.stripe.com/customers/cus_N3x8Q2abc"
    assert (jane["amount"], jane["currency"]) == ("29.00", "USD")
    for request in signed_receiver.accepted:
        for raw in RAW_EMAILS:  # ids are shown by default (alerts.mask = "emails")
            assert raw.encode() not in request.body, raw
        assert request.headers["Content-Type"] == "application/json"


def test_the_receiver_rejects_a_tampered_body(signed_receiver: HttpReceiver) -> None:
    assert WebhookSink(signed_receiver.url(), SECRET).send(alerts()[0]).ok
    (original,) = signed_receiver.accepted
    tampered = original.body.replace(b'"FAIL"', b'"PASS"')
    assert tampered != original.body
    headers = {SIGNATURE_HEADER: original.headers[SIGNATURE_HEADER]}
    response = httpx.post(signed_receiver.url(), content=tampered, headers=headers)
    assert response.status_code == 400 and len(signed_receiver.rejected) == 1
    assert not signed_receiver.replayed


def test_a_captured_delivery_replayed_within_the_tolerance_is_refused(
    signed_receiver: HttpReceiver,
) -> None:
    """The signature still verifies seconds later; the signed delivery id gives it away."""
    assert WebhookSink(signed_receiver.url(), SECRET).send(alerts()[0]).ok
    (original,) = signed_receiver.accepted
    headers = {SIGNATURE_HEADER: original.headers[SIGNATURE_HEADER]}
    response = httpx.post(signed_receiver.url(), content=original.body, headers=headers)
    assert response.status_code == 400 and signed_receiver.replayed
    assert len(signed_receiver.accepted) == 1


def test_the_delivery_id_is_in_the_signed_body_and_cannot_be_swapped(
    signed_receiver: HttpReceiver,
) -> None:
    assert WebhookSink(signed_receiver.url(), SECRET).send(alerts()[0]).ok
    (original,) = signed_receiver.accepted
    delivery_id = original.json()["delivery_id"]
    assert delivery_id == original.headers[DELIVERY_HEADER] and len(delivery_id) == 32
    fresh = original.body.replace(delivery_id.encode(), b"0" * 32)
    headers = {SIGNATURE_HEADER: original.headers[SIGNATURE_HEADER]}
    response = httpx.post(signed_receiver.url(), content=fresh, headers=headers)
    assert response.status_code == 400 and not signed_receiver.replayed  # a bad signature


def test_a_wrong_secret_is_rejected_and_not_retried(
    signed_receiver: HttpReceiver, retry: RetryPolicy
) -> None:
    wrong = "whsec_not_the_right_one_123"
    delivery = WebhookSink(signed_receiver.url(), wrong, retry=retry).send(alerts()[0])
    assert not delivery.ok and delivery.attempts == 1 and delivery.status == 400
    assert delivery.error == "HTTP 400: signature verification failed"
    assert len(signed_receiver.rejected) == 1
    assert wrong not in (delivery.error or "") and SECRET not in (delivery.error or "")


def test_an_old_timestamp_is_rejected(signed_receiver: HttpReceiver) -> None:
    sink = WebhookSink(signed_receiver.url(), SECRET, clock=lambda: time.time() - 3600)
    delivery = sink.send(alerts()[0])
    assert not delivery.ok and delivery.status == 400 and len(signed_receiver.rejected) == 1


def test_retries_reuse_the_delivery_id_and_sign_afresh(
    signed_receiver: HttpReceiver, retry: RetryPolicy, sleeps: Sleeps
) -> None:
    signed_receiver.script = [Reply(500), Reply(503, headers={"Retry-After": "2"})]
    clock = iter([1_900_000_000.0, 1_900_000_100.0, 1_900_000_200.0])
    now = {"t": 0.0}

    def tick() -> float:
        now["t"] = next(clock)
        return now["t"]

    # The receiver checks against the real time: give it a matching tolerance.
    signed_receiver.tolerance = 10**10
    sink = WebhookSink(signed_receiver.url(), SECRET, retry=retry, clock=tick)
    delivery = sink.send(alerts()[0])
    assert delivery.ok and delivery.attempts == 3
    ids = {r.headers[DELIVERY_HEADER] for r in signed_receiver.requests}
    ids |= {r.json()["delivery_id"] for r in signed_receiver.requests}
    assert len(ids) == 1 and len(ids.pop()) == 32
    stamps = [r.headers[SIGNATURE_HEADER].split(",")[0] for r in signed_receiver.requests]
    assert stamps == ["t=1900000000", "t=1900000100", "t=1900000200"]
    assert sleeps[1] == 2.0  # a 503's Retry-After is honoured too


def test_a_permanent_failure_names_no_secret(signed_receiver: HttpReceiver, sleeps: Sleeps) -> None:
    signed_receiver.script = [Reply(500, SECRET.encode())] * 5
    sink = WebhookSink(signed_receiver.url(), SECRET, retry=RetryPolicy(retries=1, sleep=sleeps))
    delivery = sink.send(alerts()[0])
    assert not delivery.ok and delivery.attempts == 2
    assert delivery.error == "HTTP 500: *** (gave up after 2 attempts)"


def test_a_url_from_the_environment_is_kept_out_of_errors(sleeps: Sleeps) -> None:
    url = f"http://127.0.0.1:{free_port()}/hooks/abc?token=tok_ZZZsecretZZZ"
    sink = WebhookSink(url, SECRET, retry=RetryPolicy(retries=1, sleep=sleeps), url_is_secret=True)
    delivery = sink.send(alerts()[0])
    assert not delivery.ok and delivery.attempts == 2
    assert "tok_ZZZsecretZZZ" not in (delivery.error or "")
    assert sink.target == "webhook (127.0.0.1)"


def test_a_plain_url_shows_without_credentials_or_query() -> None:
    sink = WebhookSink("https://user:pw123@ops.example.com/hooks/billdrift?k=v1secret", SECRET)
    assert sink.target == "webhook (https://ops.example.com/hooks/billdrift)"
    assert "pw123" in sink.secrets() and "k=v1secret" in sink.secrets()


def test_verify_signature() -> None:
    body = b'{"schema":"billdrift.alert/v1"}'
    now = 1_900_000_000
    header = sign(SECRET, body, now)
    assert verify_signature(SECRET, header, body, now=now)
    assert verify_signature(SECRET, header, body.decode(), now=now + 300)
    assert not verify_signature(SECRET, header, body, now=now + 301)  # too old
    assert not verify_signature(SECRET, header, body, now=now - 301)  # from the future
    assert not verify_signature("whsec_other", header, body, now=now)
    assert not verify_signature(SECRET, header, body + b" ", now=now)
    assert not verify_signature(SECRET, None, body, now=now)
    assert not verify_signature("", header, body, now=now)
    assert not verify_signature(SECRET, "t=abc,v1=00", body, now=now)
    assert not verify_signature(SECRET, f"t={now}", body, now=now)
    # Rotation: either of two v1 signatures may match.
    rotated = f"{sign('whsec_old', body, now)},v1={header.split('v1=')[1]}"
    assert verify_signature(SECRET, rotated, body, now=now)


def test_verify_signature_refuses_a_delivery_id_seen_before() -> None:
    delivery_id = "4f" * 16
    body = orjson.dumps({"schema": "billdrift.alert/v1", "delivery_id": delivery_id})
    now = 1_900_000_000
    header = sign(SECRET, body, now)
    processed: set[str] = set()
    assert verify_signature(SECRET, header, body, now=now, seen=processed.__contains__)
    processed.add(delivery_id)  # the receiver handled it
    assert not verify_signature(SECRET, header, body, now=now + 5, seen=processed.__contains__)
    assert verify_signature(SECRET, header, body, now=now + 5)  # without `seen`: authentic
    # A body without a delivery id cannot be checked for replays, so it is refused.
    bare = b'{"schema":"billdrift.alert/v1"}'
    assert not verify_signature(
        SECRET, sign(SECRET, bare, now), bare, now=now, seen=lambda _: False
    )
    # `seen` is asked only about authentic deliveries.
    asked: list[str] = []
    forged = sign("whsec_other", body, now)
    assert not verify_signature(
        SECRET, forged, body, now=now, seen=lambda i: asked.append(i) or False
    )
    assert asked == []


def test_verify_signature_refuses_malformed_headers_and_bodies_rather_than_raising() -> None:
    """A receiver passes whatever arrived: a header missing a part, or an authentic body
    that is not the JSON object it should be, is refused with False, never an exception."""
    body = b'{"schema":"billdrift.alert/v1"}'
    now = 1_900_000_000
    digest = sign(SECRET, body, now).split("v1=")[1]
    assert not verify_signature(SECRET, f"v1={digest}", body, now=now)  # no timestamp
    assert not verify_signature(SECRET, f"t={now},v2={digest}", body, now=now)  # no v1
    for odd in (b"not json", b"[1, 2]", b'{"delivery_id": 7}', b'{"delivery_id": ""}'):
        header = sign(SECRET, odd, now)
        assert verify_signature(SECRET, header, odd, now=now)  # authentic
        assert not verify_signature(SECRET, header, odd, now=now, seen=lambda _: False)


def test_verify_signature_skips_unknown_parts_and_uses_the_clock() -> None:
    """Elements a later scheme may add (without ``=`` or with an unknown key) are skipped,
    wherever they stand; without `now` the receiver's clock judges the timestamp."""
    body = b'{"schema":"billdrift.alert/v1"}'
    header = sign(SECRET, body, int(time.time()))
    assert verify_signature(SECRET, f"scheme-2, {header}, v0=abc", body)
    assert verify_signature(SECRET, header, body)
    stale = sign(SECRET, body, int(time.time()) - 3600)
    assert not verify_signature(SECRET, stale, body)


def test_the_signature_matches_a_fixed_vector_computed_by_the_standard_library() -> None:
    """The documented scheme, independently: v1 = HMAC-SHA256(secret, "{t}.{raw body}")."""
    secret = "whsec_fixed_vector_3f9a"
    timestamp = 1_700_000_000
    body = b'{"schema":"billdrift.alert/v1","delivery_id":"0123456789abcdef0123456789abcdef"}'
    expected = hmac.new(secret.encode("utf-8"), b"1700000000." + body, hashlib.sha256).hexdigest()
    # The same digest from `openssl dgst -sha256 -hmac`, pinned: the scheme must not drift.
    assert expected == "f0b0dce2efa6095815430af01e01f6933d9605b1e2024668d171c97140789386"
    assert sign(secret, body, timestamp) == f"t=1700000000,v1={expected}"
    assert verify_signature(secret, f"t=1700000000,v1={expected}", body, now=timestamp)


@pytest.mark.parametrize("tier", [0, 1])
def test_payload_is_the_documented_shape(tier: int) -> None:
    payload = webhook_payload(alerts()[tier], "ab" * 16)
    assert list(payload) == [
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
    ]
    jsonschema.validate(payload, ALERT_SCHEMA_V1)
