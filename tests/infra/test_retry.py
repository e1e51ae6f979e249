"""The shared retry policy: retries counted, Retry-After honoured, backoff jittered and capped."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billdrift.infra.retry import RetryPolicy, Tried


class Script:
    """Outcomes to hand out in order: (retryable, asked wait)."""

    def __init__(self, *outcomes: tuple[bool, float | None]) -> None:
        self._outcomes: Iterator[tuple[bool, float | None]] = iter(outcomes)
        self.calls = 0

    def __call__(self) -> tuple[bool, float | None]:
        self.calls += 1
        return next(self._outcomes)


def run(policy: RetryPolicy, script: Script) -> Tried[tuple[bool, float | None]]:
    return policy.run(script, retryable=lambda o: o[0], asked=lambda o: o[1])


def test_a_final_outcome_is_returned_at_once() -> None:
    sleeps: list[float] = []
    tried = run(RetryPolicy(sleep=sleeps.append), Script((False, None)))
    assert tried == Tried((False, None), 1, None, 0.0)
    assert sleeps == []


def test_retries_count_retries_not_attempts() -> None:
    sleeps: list[float] = []
    script = Script(*[(True, None)] * 10)
    tried = run(RetryPolicy(retries=3, sleep=sleeps.append), script)
    assert (tried.attempts, tried.gave_up, script.calls, len(sleeps)) == (4, "retries", 4, 3)
    assert run(RetryPolicy(retries=0, sleep=sleeps.append), Script((True, None))).attempts == 1


def test_backoff_doubles_with_equal_jitter_and_is_capped() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(retries=6, backoff=1.0, max_backoff=5.0, sleep=sleeps.append)
    run(policy, Script(*[(True, None)] * 6, (False, None)))
    for wait, full in zip(sleeps, [1, 2, 4, 5, 5, 5], strict=True):
        assert full / 2 <= wait <= full


def test_a_wait_the_server_asked_for_is_honoured() -> None:
    sleeps: list[float] = []
    tried = run(RetryPolicy(sleep=sleeps.append), Script((True, 7.0), (True, 0.0), (False, None)))
    assert sleeps == [7.0, 0.0] and tried.attempts == 3 and tried.gave_up is None


def test_a_longer_wait_gives_up_or_is_capped() -> None:
    sleeps: list[float] = []
    tried = run(RetryPolicy(max_wait=60, sleep=sleeps.append), Script((True, 3600.0)))
    assert (tried.attempts, tried.gave_up, tried.wait, sleeps) == (1, "wait", 3600.0, [])
    capped = RetryPolicy(max_wait=60, longer_wait="cap", sleep=sleeps.append)
    tried = run(capped, Script((True, 3600.0), (False, None)))
    assert (tried.attempts, tried.gave_up, sleeps) == (2, None, [60.0])


def test_before_sleep_sees_each_retry_and_its_wait() -> None:
    seen: list[tuple[tuple[bool, float | None], float]] = []
    RetryPolicy(sleep=lambda _s: None).run(
        Script((True, 2.0), (False, None)),
        retryable=lambda o: o[0],
        asked=lambda o: o[1],
        before_sleep=lambda outcome, wait: seen.append((outcome, wait)),
    )
    assert seen == [((True, 2.0), 2.0)]


def test_an_exception_from_an_attempt_is_not_swallowed() -> None:
    def broken() -> bool:
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError, match="bug"):
        RetryPolicy(sleep=lambda _s: None).run(broken, retryable=lambda _o: True)
