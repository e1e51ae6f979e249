"""The labelled rule tests, every one run twice: in-process and on Spark (local mode,
the canonical relations as Parquet files), and the two reports must be identical
(findings row for row: kind, ids, severity, confidence, evidence, money, wording;
counts, notes, verdict). See test_identity.py for the PostgreSQL twin.

In ``make test`` a fixed representative subset runs (:data:`REPRESENTATIVE`: interval
arithmetic and the ordered evidence lists, the two places the Spark SQL is rewritten
rather than transpiled; tests/pushdown/test_spark_cli.py adds the demo, which holds
every kind of finding). The whole set is ``make spark-identity``
(``BILLDRIFT_SPARK_IDENTITY=1``): Spark's cost per case hardly depends on its data
(statements analysed, checkpoint jobs, one gathering job), minutes per case on this
2-core machine under its usual load (docs/benchmarks.md), hours for all of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from billdrift.core.engine import Inputs, reconcile
from billdrift.core.plan import Plan, build_plan, judge_answers
from billdrift.core.report import Report
from billdrift.sources.pushdown.spark import execute
from tests.core.labelled import CASES, collect
from tests.pushdown.spark_setup import write_parquet

collect(globals())

_PLANS: dict[str, Plan] = {}

#: The cases ``make test`` runs on Spark (module docstring); the rest need the opt-in.
REPRESENTATIVE = frozenset(
    {
        "test_rules__a_missing_period_start_is_derived_from_the_period_end_and_interval",
        "test_rules__duplicate_customer_lists_its_accounts_in_natural_order",
    }
)
_ALL = os.environ.get("BILLDRIFT_SPARK_IDENTITY") == "1"


@pytest.fixture(autouse=True)
def both_ways(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> list[Report]:
    """Every ``reconcile`` of the collected cases runs in-process and on Spark."""
    if not _ALL and request.node.originalname not in REPRESENTATIVE:
        pytest.skip("Spark identity beyond the representative cases: make spark-identity")
    spark_session = request.getfixturevalue("spark_session")
    compared: list[Report] = []

    def reconcile_both(inputs: Inputs) -> Report:
        expected = reconcile(inputs)
        canonical, unused = write_parquet(tmp_path, inputs)
        key = repr((inputs.policy, inputs.app.mapping, inputs.as_of))
        plan = _PLANS.get(key) or _PLANS.setdefault(key, build_plan(inputs))
        pushed = judge_answers(inputs, plan, execute(spark_session, plan, canonical), unused)
        assert pushed.findings == expected.findings
        assert pushed == expected
        compared.append(expected)
        return expected

    for module in CASES:
        monkeypatch.setattr(module, "reconcile", reconcile_both)
    return compared
