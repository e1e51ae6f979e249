"""The listener's tests: a fake provider API, a real PostgreSQL app database, a real
alert receiver, and the listener itself serving on 127.0.0.1."""

from __future__ import annotations

from tests.fakes.fixtures import fake_paddle, fake_stripe  # noqa: F401  (fixtures)
from tests.infra.db.conftest import maria, pg  # noqa: F401  (fixtures)
