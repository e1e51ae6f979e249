"""The labelled rule cases (the rule, boundary, collapse and money tests), for the tests
that run every one of them again another way: evidence checked in SQL against Python
(tests/core/test_columnar_evidence.py), pushed down into PostgreSQL
(tests/pushdown/test_identity.py) and onto Spark (tests/pushdown/test_spark_identity.py).
One list and one way of collecting them, so the three cannot drift apart."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tests.core import (
    test_boundaries_entitlement,
    test_boundaries_policy,
    test_collapse,
    test_money,
    test_rules,
)

CASES: tuple[ModuleType, ...] = (
    test_rules,
    test_boundaries_entitlement,
    test_boundaries_policy,
    test_collapse,
    test_money,
)


def collect(namespace: dict[str, Any]) -> None:
    """Every case of :data:`CASES` as a test of the module whose `namespace` (its
    ``globals()``) this is, named ``test_<module>__<case>`` (``test_rules__...``): pytest
    runs it again there, with that module's fixtures (its autouse ones included) and the
    case's own parameters."""
    for module in CASES:
        short = module.__name__.rsplit(".", 1)[1].removeprefix("test_")
        for name, case in vars(module).items():
            if name.startswith("test_") and callable(case):
                namespace[f"test_{short}__{name.removeprefix('test_')}"] = case
