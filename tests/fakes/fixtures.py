"""pytest fixtures for the provider fakes; import the ones a test module needs::

    from tests.fakes.fixtures import fake_stripe  # noqa: F401  (a fixture)

Each fixture gives a running server, fresh per test: starting one takes
milliseconds, and a fresh store and fresh counters keep tests independent
(request counts and rate-limit peaks are what many assertions check).
``localstripe`` is imported only when its fixture runs, so the other two work
without the ``localstripe``/``stripe`` packages.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.fakes.paddle_fake import FakePaddle
from tests.fakes.stripe_fake import FakeStripe

if TYPE_CHECKING:
    from tests.fakes.localstripe_server import LocalStripe


@pytest.fixture
def fake_stripe() -> Iterator[FakeStripe]:
    """An empty :class:`FakeStripe` (key ``FakeStripe.DEFAULT_KEY``); fill ``.store`` or
    call ``.populate(n, seed)``."""
    with FakeStripe() as server:
        yield server


@pytest.fixture
def fake_paddle() -> Iterator[FakePaddle]:
    """An empty :class:`FakePaddle` (key ``FakePaddle.DEFAULT_KEY``)."""
    with FakePaddle() as server:
        yield server


@pytest.fixture
def localstripe() -> Iterator[LocalStripe]:
    """localstripe in-process, empty (seed with ``.seed()`` or the helpers; key
    ``LocalStripe.API_KEY``). One per process at a time: its store is global."""
    from tests.fakes.localstripe_server import LocalStripe

    # localstripe registers plain (non-async) handlers; aiohttp warns on every request.
    warnings.filterwarnings("ignore", "Bare functions are deprecated", DeprecationWarning)
    with LocalStripe() as server:
        yield server
