"""A pushed-down run refuses billing rows that repeat a subscription id (issue 17).

In-process the engine keeps the first copy and names the conflicting ones; a target's
answer only counts them, so every engine (PostgreSQL, Spark, the warehouses) refuses
through :func:`billdrift.core.plan.refuse_repeats`, each in its own words.
"""

from __future__ import annotations

from typing import Any

import pytest

from billdrift.core import engine
from billdrift.core.plan import refuse_repeats
from billdrift.errors import SourceError


class _Repeating:
    """Answers whose billing rows repeated `n` subscription ids; nothing else is asked."""

    def __init__(self, n: int) -> None:
        self.n = n

    def ask(self, query: str) -> list[tuple[Any, ...]]:
        assert query == engine.REPEATS, f"asked {query!r} before refusing"
        return [(self.n,)]

    def rows(self, rule: str) -> list[dict[str, Any]]:
        raise AssertionError("refuse_repeats reads no rule's rows")


def test_repeated_subscription_ids_are_refused_in_the_engines_words() -> None:
    with pytest.raises(SourceError, match=r"^3 rows repeat; say so$"):
        refuse_repeats(_Repeating(3), "{} rows repeat; say so".format)


def test_no_repeats_is_no_refusal() -> None:
    refuse_repeats(_Repeating(0), "{} rows repeat; say so".format)
