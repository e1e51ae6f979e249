"""Delivering alerts: bounded retries with backoff, and a send loop that never raises.

Alerting is the last step of a run and the least important one: the report is
already written, the exit code already decided. So a failed delivery is
retried a few times (network errors, 5xx, 429 after its ``Retry-After``) and
then reported as a :class:`Delivery` with ``ok=False``; it never raises out of
:func:`send_all` and never changes what the run found. How retries are spaced
is the policy shared with provider requests (:mod:`billdrift.infra.retry`); a
server asking to wait more than a minute is not waited for: the delivery fails
with a clear error instead of holding a nightly job for an hour.

Error texts pass through the sink's :meth:`~AlertSink.scrub` before they leave,
so webhook URLs, HMAC secrets and SMTP passwords never reach a log or the output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from billdrift.infra.retry import RetryPolicy, retry_after
from billdrift.outputs.alerts.interface import Alert, AlertSink, Delivery

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Attempt",
    "RetryPolicy",  # the shared policy, re-exported: every sink takes one
    "deliver",
    "delivery_lines",
    "post",
    "retry_after",
    "send_all",
]

log = logging.getLogger("billdrift.outputs.alerts")


@dataclass(frozen=True)
class Attempt:
    """The outcome of one try, as a sink judged it."""

    ok: bool
    status: int | None = None
    error: str | None = None
    #: Worth trying again (a network error, a 5xx, a 429, an SMTP 4xx).
    retryable: bool = False
    #: The pause the server asked for (``Retry-After``), if any.
    wait: float | None = None


def deliver(
    sink: AlertSink, alert: Alert, attempt: Callable[[], Attempt], policy: RetryPolicy
) -> Delivery:
    """Run `attempt` until it succeeds, fails for good, or the retries are used up."""

    def once() -> Attempt:
        try:
            return attempt()
        except Exception as exc:  # a sink bug must not end the run; report it instead
            return Attempt(ok=False, error=f"unexpected {type(exc).__name__}: {exc}")

    def retrying(outcome: Attempt, wait: float) -> None:
        error = sink.scrub(outcome.error or "failed")
        log.info("alert %s to %s: %s; retrying in %.1f s", alert.tier, sink.target, error, wait)

    tried = policy.run(
        once,
        retryable=lambda outcome: not outcome.ok and outcome.retryable,
        asked=lambda outcome: outcome.wait,
        before_sleep=retrying,
    )
    outcome = tried.outcome
    if outcome.ok:
        return Delivery(sink.name, True, tried.attempts, outcome.status, outcome.error, alert.tier)
    error = outcome.error or "failed"
    if tried.gave_up == "retries":
        plural = "s" if tried.attempts > 1 else ""
        error = f"{error} (gave up after {tried.attempts} attempt{plural})"
    elif tried.gave_up == "wait":
        error = (
            f"{error} (the server asked to wait {tried.wait:.0f} s, more than the "
            f"{policy.max_wait:.0f} s billdrift waits)"
        )
    return Delivery(sink.name, False, tried.attempts, outcome.status, sink.scrub(error), alert.tier)


def post(
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    timeout: float,
    transport: httpx.BaseTransport | None = None,
) -> Attempt:
    """POST once and classify the answer: 2xx ok; 429/5xx/network retryable; else final.

    `timeout` bounds the whole attempt, connect to the last byte of the answer (see
    :mod:`billdrift.infra.http`): a receiver trickling its answer fails the attempt.
    Redirects are not followed: a webhook that moved should be reconfigured, and
    following one would resend a signed body to a host nobody configured.
    """
    import httpx  # here: a run that sends no alert does not pay for importing it

    from billdrift.infra.http import Client, DeadlineExceeded, deadline

    try:
        with (
            Client(timeout=timeout, follow_redirects=False, transport=transport) as client,
            deadline(timeout),
        ):
            response = client.post(url, content=content, headers=dict(headers))
    except httpx.InvalidURL:
        return Attempt(ok=False, error="invalid URL")
    except DeadlineExceeded as exc:
        return Attempt(ok=False, error=f"{exc}; alerts.timeout_seconds sets it", retryable=True)
    except httpx.HTTPError as exc:
        reason = str(exc) or "no detail"
        return Attempt(ok=False, error=f"{type(exc).__name__}: {reason}", retryable=True)
    status = response.status_code
    if 200 <= status < 300:
        return Attempt(ok=True, status=status)
    detail = " ".join(response.text[:200].split())
    error = f"HTTP {status}" + (f": {detail}" if detail else "")
    retryable = status in (408, 429) or status >= 500
    wait = retry_after(response.headers.get("retry-after")) if retryable else None
    return Attempt(ok=False, status=status, error=error, retryable=retryable, wait=wait)


def send_all(sinks: Sequence[AlertSink], alerts: Iterable[Alert]) -> list[Delivery]:
    """Send every alert (urgent first) to every sink that takes its tier. Never raises.

    Call it after the report is written: whatever happens here, the run's results
    are already safe.
    """
    deliveries: list[Delivery] = []
    for alert in alerts:
        for sink in sinks:
            if alert.tier not in sink.tiers:
                continue
            try:
                delivery = sink.send(alert)
            except Exception as exc:  # a sink must not break the run, even a buggy one
                delivery = Delivery(
                    sink.name,
                    False,
                    1,
                    error=sink.scrub(f"unexpected {type(exc).__name__}: {exc}"),
                    tier=alert.tier,
                )
            # Info, not warning: the caller prints delivery_lines(); a warning would also
            # reach stderr through logging's last-resort handler and say it twice.
            if delivery.ok:
                log.info("alert %s sent to %s", alert.tier, sink.target)
            else:
                log.info("alert %s to %s failed: %s", alert.tier, sink.target, delivery.error)
            deliveries.append(delivery)
    return deliveries


def delivery_lines(deliveries: Sequence[Delivery]) -> list[str]:
    """One line per delivery for the run's output (stderr): what was sent, what failed."""
    lines = []
    for d in deliveries:
        tries = f"{d.attempts} attempt{'s' if d.attempts != 1 else ''}"
        if d.ok:
            lines.append(f"alert {d.tier}: sent to {d.sink} ({tries})")
        else:
            lines.append(f"alert {d.tier}: NOT sent to {d.sink} ({tries}): {d.error}")
    return lines
