"""Fixtures for the alert tests: local receivers and a retry policy that records its sleeps."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from billdrift.outputs.alerts.delivery import RetryPolicy
from tests.outputs.alerts.receivers import HttpReceiver, MailHandler, start_smtp

SECRET = "whsec_test_5up3r_s3cr3t_value"


class Sleeps(list[float]):
    """Records the waits instead of waiting: retry tests stay fast and exact."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def retry(sleeps: Sleeps) -> RetryPolicy:
    return RetryPolicy(retries=3, backoff=0.5, sleep=sleeps)


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def signed_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver(secret=SECRET) as server:
        yield server


@pytest.fixture
def mail() -> Iterator[MailHandler]:
    handler = MailHandler()
    controller = start_smtp(handler)
    handler.port = controller.port
    try:
        yield handler
    finally:
        controller.stop()
