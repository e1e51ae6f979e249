"""The listener's tests: a fake provider API, a real PostgreSQL app database, a real
alert receiver, and the listener itself serving on 127.0.0.1."""

from __future__ import annotations

from tests.fakes.fixtures import fake_stripe  # noqa: F401  (a fixture)
from tests.infra.db.conftest import pg  # noqa: F401  (a fixture)
