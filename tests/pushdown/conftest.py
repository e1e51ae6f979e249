"""Pushing a plan down into the PostgreSQL server of tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from billdrift.core.dialects import postgres
from billdrift.core.engine import Inputs
from billdrift.core.plan import Plan, build_plan, judge_answers
from billdrift.core.report import Report
from tests.dbservers import PostgresServer
from tests.pushdown.canonical import write_inputs

PushDown = Callable[[Inputs], Report]

#: Plans by configuration: a plan depends on the policy, the mapping and the instant only.
_PLANS: dict[str, Plan] = {}


@pytest.fixture
def push_down(postgres_server: PostgresServer) -> PushDown:
    """Runs `inputs` inside PostgreSQL: its canonical relations written as tables, the
    plan compiled and run as one statement, the report built from what came back."""

    def run(inputs: Inputs) -> Report:
        canonical, unused = write_inputs(postgres_server.admin_url, inputs)
        key = repr((inputs.policy, inputs.app.mapping, inputs.as_of))
        plan = _PLANS.get(key) or _PLANS.setdefault(key, build_plan(inputs))
        with psycopg.connect(postgres_server.admin_url) as pg:
            row = pg.execute(postgres.statement(plan, canonical)).fetchone()
        assert row is not None
        return judge_answers(inputs, plan, postgres.answers(row[0], plan), unused)

    return run


@pytest.fixture(scope="session")
def spark_session() -> Any:
    """One local Spark session for every test that needs one (about 8 s to start)."""
    pytest.importorskip("pyspark")
    from tests.pushdown.spark_setup import start

    spark = start()
    yield spark
    spark.stop()
