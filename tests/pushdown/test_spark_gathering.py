"""All of a plan's outputs gathered into one Spark query and read back, the answers
class PostgreSQL and Spark share, and local mode's settings (no Spark session
needed: tests/pushdown/test_spark_identity.py runs the gathering query for real)."""

from __future__ import annotations

import os

import orjson
import pytest
import sqlglot

from billdrift.core.dialects import postgres, spark
from billdrift.core.plan import Plan, build_plan
from billdrift.infra.spark import LOCAL_CONF, local_conf
from tests.builders import account, app, billing, inputs, sub


@pytest.fixture(scope="module")
def plan() -> Plan:
    subs = billing(sub("sub_1", "cus_1", "active"))
    return build_plan(inputs(subs, app(account("a1", "cus_1", access=False)), None))


def test_one_query_carries_every_output_each_ordered_as_its_own_order_by(plan: Plan) -> None:
    query = spark.gathered(plan)
    tree = sqlglot.parse_one(query, read="spark")  # one statement, valid Spark SQL
    assert isinstance(tree, sqlglot.exp.Union)
    outputs = (*plan.questions, *plan.reported)
    assert query.count("UNION ALL") == len(outputs) - 1
    for item in outputs:
        assert f"SELECT '{item.name}' AS bd_output" in query
    ordered = [item for item in outputs if "ORDER BY" in item.query]
    assert ordered and len(ordered) < len(outputs)  # both kinds present
    assert query.count("ROW_NUMBER() OVER (ORDER BY") == len(ordered)
    assert "'ignoreNullFields', 'false'" in query


def test_decoding_orders_each_output_by_its_place_and_keeps_nulls(plan: Plan) -> None:
    question = plan.questions[0]
    rule = plan.reported[0]
    collected = [
        (rule.name, 2, orjson.dumps({"account_id": "a10", "monthly_minor": 5}).decode()),
        (question.name, 0, '{"c0": 7}'),
        (rule.name, 1, orjson.dumps({"account_id": "a2", "monthly_minor": None}).decode()),
    ]
    answers = spark.decode(collected, plan)
    assert answers.ask(question.query) == [(7,)]
    assert answers.rows(rule.name) == [
        {"account_id": "a2", "monthly_minor": None},
        {"account_id": "a10", "monthly_minor": 5.0},  # money is a double, as in-process
    ]
    assert isinstance(answers.rows(rule.name)[1]["monthly_minor"], float)
    assert answers.ask(plan.questions[1].query) == []  # an output with no rows


def test_postgres_and_spark_read_the_same_rows_the_same_way(plan: Plan) -> None:
    rows = {item.name: [] for item in (*plan.questions, *plan.reported)}
    rows[plan.questions[0].name] = [[3]]
    rows[plan.reported[0].name] = [{"monthly_minor": 12, "currency": "usd"}]
    document = {**rows, "guard": {"n": 0}}
    from_postgres = postgres.answers(orjson.dumps(document).decode(), plan)
    from_spark = spark.answers({**rows, plan.questions[0].name: [{"c0": 3}]}, plan)
    for answers in (from_postgres, from_spark):
        assert answers.ask(plan.questions[0].query) == [(3,)]
        assert answers.rows(plan.reported[0].name) == [{"monthly_minor": 12.0, "currency": "usd"}]
    assert from_postgres.extras == {"guard": {"n": 0}}
    assert from_spark.extras == {}


def test_local_mode_takes_one_shuffle_partition_per_core() -> None:
    assert local_conf("local[2]")["spark.sql.shuffle.partitions"] == "2"
    assert local_conf("local")["spark.sql.shuffle.partitions"] == "1"
    assert local_conf("local[*]")["spark.sql.shuffle.partitions"] == str(os.cpu_count() or 1)
    assert local_conf("local[3,2]")["spark.sql.shuffle.partitions"] == "3"  # with retries
    assert LOCAL_CONF["spark.sql.autoBroadcastJoinThreshold"] == "-1"
    assert LOCAL_CONF["spark.sql.adaptive.enabled"] == "false"
