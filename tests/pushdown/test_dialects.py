"""The plan in each warehouse's SQL, checked by parsing it back with sqlglot in that
dialect (no warehouse server is reachable here: the SQL is not executed), and the
rewrites each target needs, on both sides."""

from __future__ import annotations

import pytest
import sqlglot

from billdrift.core.dialects import TARGETS, dialect
from billdrift.core.plan import CANONICAL, Plan, build_plan
from billdrift.errors import ConfigError
from tests.builders import account, app, billing, inputs, sub

WAREHOUSES = ["snowflake", "bigquery", "redshift", "databricks"]


@pytest.fixture(scope="module")
def plan() -> Plan:
    subs = billing(sub("sub_1", "cus_1", "active"))
    return build_plan(inputs(subs, app(account("a1", "cus_1", access=False)), None))


def canonical() -> dict[str, str]:
    return {name: f"SELECT * FROM app_schema.{name}" for name in CANONICAL}


@pytest.mark.parametrize("name", WAREHOUSES)
def test_every_statement_parses_back_in_its_dialect(name: str, plan: Plan) -> None:
    target = dialect(name)
    text = target.statement(plan, canonical())
    parsed = [s for s in sqlglot.parse(text, read=name) if s is not None]
    assert len(parsed) == len(plan.questions) + len(plan.reported)
    assert all(isinstance(s, sqlglot.exp.Select) for s in parsed)  # read-only: SELECTs
    # every stage is there, and nothing DuckDB-only survived
    for step in plan.steps:
        assert step.name in text
    assert "list_transform" not in text.lower() and "strftime" not in text.lower()


@pytest.mark.parametrize("name", [*WAREHOUSES, "spark"])
def test_explain_names_every_stage_and_output(name: str, plan: Plan) -> None:
    text = dialect(name).explain(plan, canonical())
    for step in plan.steps:
        assert f"-- {step.name}" in text
    for item in plan.reported:
        assert f"reported rows of rule {item.name}" in text


def test_bigquery_orders_aggregates_nulls_last_without_nulls_last() -> None:
    out = dialect("bigquery").compile("SELECT string_agg(p, ',' ORDER BY p) FROM t")
    assert "NULLS" not in out
    assert "p IS NULL" in out
    sqlglot.parse_one(out, read="bigquery")


def test_spark_rewrites_mixed_intervals_and_ordered_struct_lists() -> None:
    spark = dialect("spark")
    out = spark.compile(
        "SELECT x - CASE u WHEN 'day' THEN n * INTERVAL '1' DAY "
        "WHEN 'month' THEN n * INTERVAL '1' MONTH END FROM t"
    )
    assert "MAKE_INTERVAL(0, 0, 0, CAST(n AS INT))" in out
    assert "MAKE_INTERVAL(0, CAST(n AS INT))" in out
    out = spark.compile("SELECT list({'field': f, 'value': v} ORDER BY f) FROM t GROUP BY g")
    assert "ARRAY_SORT(COLLECT_LIST(" in out
    with pytest.raises(ConfigError, match="unsupported list order"):
        spark.compile("SELECT list({'field': f, 'value': v} ORDER BY v) FROM t GROUP BY g")


def test_every_registered_target_loads() -> None:
    assert {"postgres", "spark", *WAREHOUSES} == set(TARGETS)
    with pytest.raises(ConfigError, match="unknown engine"):
        dialect("oracle")
