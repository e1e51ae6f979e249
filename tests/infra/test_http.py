"""Requests end by their deadline against a real server trickling one byte a second,
whether it trickles the status line and headers or only the body."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from billdrift.infra.http import Client, DeadlineExceeded, deadline
from tests.fakes.trickle import HEADERS_LENGTH, HTTP_REPLY, TrickleServer

#: Seconds allowed past a deadline on a loaded machine; without a deadline the server
#: holds a request 20 s, so every bound stays well under that.
SLACK = 4.0


@pytest.mark.parametrize("prompt", [0, HEADERS_LENGTH], ids=["headers", "body"])
def test_a_trickling_server_fails_the_request_at_its_deadline(prompt: int) -> None:
    with TrickleServer(prompt=prompt, limit=20) as server, Client(timeout=10) as client:
        started = time.monotonic()
        expected = r"no complete response within 1\.5 s"
        with pytest.raises(DeadlineExceeded, match=expected), deadline(1.5):
            client.get(server.url("/v1/subscriptions"))
        took = time.monotonic() - started
    assert 1.4 <= took < 1.5 + SLACK < 20, took
    assert server.connections == 1


def test_a_prompt_answer_within_the_deadline_is_read_whole() -> None:
    with (
        TrickleServer(prompt=len(HTTP_REPLY)) as server,
        Client(timeout=10) as client,
        deadline(5),
    ):
        response = client.get(server.url())
    assert response.status_code == 200 and response.json()["has_more"] is False


def test_a_per_read_timeout_still_applies_and_says_so() -> None:
    """A silent server times out on the read timeout, before the deadline: not a deadline."""
    with (
        TrickleServer(interval=5, limit=10) as server,
        Client(timeout=0.5) as client,
        pytest.raises(httpx.ReadTimeout) as raised,
        deadline(30),
    ):
        client.get(server.url())
    assert not isinstance(raised.value, DeadlineExceeded)


def test_threads_sharing_a_client_keep_their_own_deadlines() -> None:
    took: dict[float, float] = {}
    with TrickleServer(limit=20) as server, Client(timeout=10) as client:

        def fetch(seconds: float) -> None:
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded), deadline(seconds):
                client.get(server.url())
            took[seconds] = time.monotonic() - started

        threads = [threading.Thread(target=fetch, args=(s,)) for s in (1.0, 3.0)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # Each thread ends by its own deadline: the first not held to the second's 3 s, the
    # second not cut at the first's 1 s.
    assert 0.9 <= took[1.0] < 2.9 <= took[3.0] < 3.0 + SLACK, took


def test_without_a_deadline_block_a_request_is_only_bounded_by_its_timeouts() -> None:
    with TrickleServer(prompt=len(HTTP_REPLY)) as server, Client(timeout=10) as client:
        assert client.get(server.url()).status_code == 200
