"""CLI fixtures: the review commands run against both history backends, as the store
tests do (the fixtures live with the history tests)."""

from tests.history.conftest import pg, store, store_location  # noqa: F401  (re-exported fixtures)
