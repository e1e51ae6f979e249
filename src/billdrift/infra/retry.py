"""One retry policy for everything billdrift sends over a network.

Provider API requests (:mod:`billdrift.infra.api.client`) and alert deliveries
(:mod:`billdrift.outputs.alerts.delivery`) retry the same way, so they share one
:class:`RetryPolicy`, built on tenacity:

* ``retries`` counts the retries: ``retries=3`` is 4 attempts at most.
* A wait the server asked for (``Retry-After``) is honoured; otherwise the wait
  is an exponential backoff with jitter: ``backoff`` seconds doubled at each
  retry, capped at ``max_backoff``, then scaled by a random 0.5 to 1 so retries
  from many threads or runs spread out instead of arriving together.
* A server asking for more than ``max_wait`` seconds is either not waited for at
  all (``longer_wait="give_up"``: an alert must not hold a nightly job for an
  hour) or waited ``max_wait`` for (``"cap"``: a provider fetch, hours of work,
  would rather carry on).
* The caller judges each outcome (worth retrying? a wait asked for?) and sees
  each retry before its sleep (to count it, log it, or slow a shared pacer).

Attempts return outcomes rather than raise: a failure is data the caller
classifies, and the policy hands back the last outcome with how many attempts
it took and why it stopped, instead of an exception.

tenacity rather than stamina (its opinionated wrapper): the sleep is injected
per policy (tests record the waits instead of waiting), retries are decided on
returned outcomes and not only on exceptions, and the wait can come from the
outcome itself (``Retry-After``) while stamina's waits come from its own schedule.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Generic, Literal, TypeVar

import tenacity

#: The longest pause taken between two attempts, asked for or not.
MAX_WAIT_SECONDS = 60.0

T = TypeVar("T")

#: Why retrying stopped on an outcome still worth retrying.
GaveUp = Literal["retries", "wait"]


@dataclass(frozen=True)
class Tried(Generic[T]):
    """The last outcome, how many attempts it took, and why retrying stopped."""

    outcome: T
    attempts: int
    #: None when the outcome was final (a success, or a failure not worth retrying);
    #: "retries" when they were used up; "wait" when the server asked for a pause
    #: longer than the policy waits (``longer_wait="give_up"``).
    gave_up: GaveUp | None = None
    #: When it gave up: the wait that would have come next (what the server asked for).
    wait: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard a caller tries. ``retries=3`` means 4 attempts at most."""

    retries: int = 3
    #: First backoff in seconds; doubled on each retry, capped, with jitter (0.5x to 1x).
    backoff: float = 1.0
    max_backoff: float = MAX_WAIT_SECONDS
    #: The longest pause a server may ask for (``Retry-After``) and get.
    max_wait: float = MAX_WAIT_SECONDS
    #: What a longer asked-for pause does: stop retrying, or wait ``max_wait``.
    longer_wait: Literal["give_up", "cap"] = "give_up"
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def with_retries(self, retries: int) -> RetryPolicy:
        return replace(self, retries=retries)

    def run(
        self,
        attempt: Callable[[], T],
        *,
        retryable: Callable[[T], bool],
        asked: Callable[[T], float | None] = lambda _outcome: None,
        before_sleep: Callable[[T, float], None] | None = None,
    ) -> Tried[T]:
        """Call `attempt` until its outcome is not `retryable` or the policy stops.

        `asked` reads the wait an outcome asks for (None: back off); `before_sleep`
        sees each retryable outcome and the wait before it is slept. Exceptions
        raised by `attempt` are not caught: catch what is expected and return it.
        """
        attempts = 0
        gave_up: GaveUp | None = None
        last_wait = 0.0

        def counted() -> T:
            nonlocal attempts
            attempts += 1
            return attempt()

        def outcome(state: tenacity.RetryCallState) -> T:
            assert state.outcome is not None  # tenacity calls the hooks after an attempt
            value: T = state.outcome.result()
            return value

        # Half fixed plus half random: the capped exponential times 0.5 to 1 ("equal
        # jitter"), so a wait is never much shorter than the schedule says.
        half = self.backoff / 2, self.max_backoff / 2
        backoff = tenacity.wait_exponential(*half) + tenacity.wait_random_exponential(*half)

        def wait(state: tenacity.RetryCallState) -> float:
            wanted = asked(outcome(state))
            if wanted is None:
                return float(backoff(state))
            return min(wanted, self.max_wait) if self.longer_wait == "cap" else wanted

        used_up = tenacity.stop_after_attempt(self.retries + 1)

        def stop(state: tenacity.RetryCallState) -> bool:
            return used_up(state) or state.upcoming_sleep > self.max_wait

        def stopped(state: tenacity.RetryCallState) -> T:
            nonlocal gave_up, last_wait
            gave_up = "retries" if attempts > self.retries else "wait"
            last_wait = state.upcoming_sleep
            return outcome(state)

        def announce(state: tenacity.RetryCallState) -> None:
            if before_sleep is not None:
                before_sleep(outcome(state), state.upcoming_sleep)

        retrying = tenacity.Retrying(
            sleep=self.sleep,
            stop=stop,
            wait=wait,
            retry=tenacity.retry_if_result(retryable),
            before_sleep=announce,
            retry_error_callback=stopped,
        )
        last: T = retrying(counted)
        return Tried(last, attempts, gave_up, last_wait)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if value is None or not value.strip():
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
