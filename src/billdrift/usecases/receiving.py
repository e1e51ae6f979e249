"""The receiving half of the listener: a webhook request in, a stored event or a
refusal out (see :mod:`billdrift.usecases.listening` for both halves).

A module of its own so that the receiving process (:mod:`billdrift.listen.receiver`)
imports only what accepting an event needs (signatures, the event parser, the
queue): importing the checking half pulls in the whole check (DuckDB, Arrow, every
source), about 75 MB per receiving process for code it never runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from billdrift.errors import ConfigError
from billdrift.infra.event_queue import EventQueue
from billdrift.infra.webhook_signatures import SignatureError, verify_paddle, verify_stripe
from billdrift.sources.billing.webhook_events import EventError, Provider, parse_event

log = logging.getLogger("billdrift.listen")


#: The header each provider signs with.
SIGNATURE_HEADERS: Mapping[Provider, str] = {
    "stripe": "stripe-signature",
    "paddle": "paddle-signature",
}


#: Where each provider's webhook signing secret is read (several, comma-separated,
#: while a secret is being rolled).
SECRET_ENV: Mapping[Provider, str] = {
    "stripe": "STRIPE_WEBHOOK_SECRET",
    "paddle": "PADDLE_WEBHOOK_SECRET",
}


def webhook_secrets(environ: Mapping[str, str]) -> dict[Provider, tuple[str, ...]]:
    """The signing secrets set in the environment, by provider; ConfigError if none.
    A provider without a secret gets no endpoint (its webhooks answer 404)."""
    found: dict[Provider, tuple[str, ...]] = {}
    for provider, name in SECRET_ENV.items():
        values = tuple(part.strip() for part in environ.get(name, "").split(",") if part.strip())
        if values:
            found[provider] = values
    if not found:
        raise ConfigError(
            f"no webhook signing secret: set {' or '.join(SECRET_ENV.values())} (Stripe: "
            "the endpoint's whsec_... secret; Paddle: the notification destination's key)"
        )
    return found


@dataclass(frozen=True)
class Answer:
    """What to answer the provider: an HTTP status and a short text (never a secret)."""

    status: int
    text: str


class Receiver:
    """Turns a webhook request into a stored event, or a refusal."""

    def __init__(
        self,
        secrets: Mapping[Provider, Sequence[str]],
        queue: EventQueue,
        tolerance: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secrets = secrets
        self.queue = queue
        self.tolerance = tolerance
        self.clock = clock

    def receive(self, provider: Provider, body: bytes, headers: Mapping[str, str]) -> Answer:
        """`headers` with lower-case names (as ASGI servers give them)."""
        secrets = self.secrets.get(provider)
        if not secrets:
            return Answer(404, f"{provider} webhooks are not configured here")
        verify = verify_stripe if provider == "stripe" else verify_paddle
        try:
            verify(
                body,
                headers.get(SIGNATURE_HEADERS[provider]),
                secrets,
                self.clock(),
                self.tolerance,
            )
            event = parse_event(provider, body)
        except (SignatureError, EventError) as error:
            log.info("%s webhook refused: %s", provider, error)
            return Answer(400, str(error))
        if event.customer is None:
            return Answer(200, f"ignored: {event.type} does not trigger a check")
        stored = self.queue.put(provider, event.id, event.customer, event.type)
        if stored == "full":
            log.warning("queue full (%d events waiting): %s refused", self.queue.waiting, event.id)
            return Answer(503, "the queue is full; retry later")
        return Answer(200, stored)
