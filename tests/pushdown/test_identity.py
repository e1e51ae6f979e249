"""The labelled rule tests, every one run twice: in-process and pushed down into a real
PostgreSQL, and the two reports must be identical (findings row for row: kind, ids,
severity, confidence, evidence, money, wording; and counts, notes, verdict).

The rule tests' own functions are collected here again, with their parameters; each
call they make to ``reconcile`` runs both ways and returns the in-process report, so
every assertion of the rule tests holds as well.
"""

from __future__ import annotations

import pytest

from billdrift.core.engine import Inputs, reconcile
from billdrift.core.report import Report
from tests.core.labelled import CASES, collect
from tests.pushdown.conftest import PushDown

collect(globals())


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
