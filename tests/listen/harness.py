"""Shared set-up for the listener's tests and the load benchmark: the app table, the
config file, signed event bodies, and the listener run in a thread."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from billdrift.config import Config, load_config
from billdrift.errors import BilldriftError
from billdrift.infra.event_queue import Batch
from billdrift.listen.server import Settings, serve
from billdrift.sources.billing.webhook_events import Provider
from billdrift.usecases.targeted import TargetedOutcome
from tests.dbservers import free_port

WEBHOOK_SECRET = "whsec_listen_test_secret"
ALERT_SECRET = "alert-hmac-secret-for-tests"

USERS = (
    "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, stripe_customer_id TEXT, "
    "has_access BOOLEAN NOT NULL)",
    "CREATE INDEX users_customer ON users (stripe_customer_id)",
    "CREATE INDEX users_email ON users (email)",
)


def write_config(path: Path, app_url: str, api_base: str, history: Path, alert_url: str) -> Path:
    path.write_text(
        f"""
[app]
source = "{app_url}"
table = "users"
access_fields = ["has_access"]
[app.columns]
account_id = "id"
customer_id = "stripe_customer_id"
email = "email"

[billing.stripe]
api_base = "{api_base}"
incremental = false

[history]
location = "{history}"

[alerts]
alert_on = "new"
[alerts.webhook]
url = "{alert_url}"
secret_env = "LISTEN_TEST_ALERT_SECRET"
""",
        encoding="utf-8",
    )
    return path


def stripe_event(event_id: str, kind: str, customer: str, at: int | None = None) -> bytes:
    obj = {"id": f"sub_{customer}", "object": "subscription", "customer": customer}
    if kind.startswith("customer.") and not kind.startswith("customer.subscription."):
        obj = {"id": customer, "object": "customer"}
    return orjson.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": kind,
            "created": at or int(time.time()),
            "data": {"object": obj},
        }
    )


def stripe_signature(body: bytes, at: int | None = None, secret: str = WEBHOOK_SECRET) -> str:
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Finished:
    """Every check the listener finished, by customer, in order."""

    outcomes: list[tuple[Batch, TargetedOutcome | BilldriftError, float]] = field(
        default_factory=list
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: The receiving processes' ids (they run apart from the checks).
    receivers: list[int] = field(default_factory=list)

    def __call__(self, batch: Batch, result: TargetedOutcome | BilldriftError) -> None:
        with self.lock:
            self.outcomes.append((batch, result, time.time()))

    def wait(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.outcomes) >= count:
                    return
            time.sleep(0.02)
        raise AssertionError(f"{len(self.outcomes)} checks finished, expected {count}")


@contextlib.contextmanager
def listening(
    config: Config | Path,
    queue: Path,
    window: float = 0.2,
    threads: int = 4,
    batch: int = 50,
    secrets: dict[Provider, tuple[str, ...]] | None = None,
    receivers: int = 1,
) -> Iterator[tuple[str, Finished]]:
    """The listener's checks in a thread (its receiver in a process of its own); yields
    its base URL and the finished checks."""
    settings = Settings(
        queue=queue,
        port=free_port(),
        window=window,
        threads=threads,
        batch=batch,
        grace=10,
        receivers=receivers,
    )
    loaded = config if isinstance(config, Config) else load_config(config)
    finished = Finished()
    ready = threading.Event()
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            serve(
                loaded,
                settings,
                secrets or {"stripe": (WEBHOOK_SECRET,)},
                on_finished=finished,
                on_ready=lambda _: ready.set(),
                on_receivers=finished.receivers.extend,
                stop=stop,
            )
        except BaseException as error:
            failure.append(error)
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(30) and not failure, failure
    try:
        yield f"http://127.0.0.1:{settings.port}", finished
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()


def post(
    base: str, body: bytes, signature: str | None, path: str = "/webhooks/stripe"
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["stripe-signature"] = signature
    return httpx.post(base + path, content=body, headers=headers, timeout=10)
