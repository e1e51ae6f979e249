"""The labelled rule tests, every one run twice: in-process and pushed down into a real
PostgreSQL, and the two reports must be identical (findings row for row: kind, ids,
severity, confidence, evidence, money, wording; and counts, notes, verdict).

The rule tests' own functions are collected here again, with their parameters; each
call they make to ``reconcile`` runs both ways and returns the in-process report, so
every assertion of the rule tests holds as well.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from billdrift.core.engine import Inputs, reconcile
from billdrift.core.report import Report
from tests.core import (
    test_boundaries_entitlement,
    test_boundaries_policy,
    test_collapse,
    test_money,
    test_rules,
)
from tests.pushdown.conftest import PushDown

CASES: tuple[ModuleType, ...] = (
    test_rules,
    test_boundaries_entitlement,
    test_boundaries_policy,
    test_collapse,
    test_money,
)

for _module in CASES:
    _short = _module.__name__.rsplit(".", 1)[1].removeprefix("test_")
    for _name, _case in vars(_module).items():
        if _name.startswith("test_") and callable(_case):
            globals()[f"test_{_short}__{_name.removeprefix('test_')}"] = _case


@pytest.fixture(autouse=True)
def both_ways(push_down: PushDown, monkeypatch: pytest.MonkeyPatch) -> list[Report]:
    """Every ``reconcile`` of the collected cases runs in-process and pushed down."""
    compared: list[Report] = []

    def reconcile_both(inputs: Inputs) -> Report:
        expected = reconcile(inputs)
        pushed = push_down(inputs)
        assert pushed.findings == expected.findings
        assert pushed == expected
        compared.append(expected)
        return expected

    for module in CASES:
        monkeypatch.setattr(module, "reconcile", reconcile_both)
    return compared
