"""The declared stages and rules: their SQL parses, each reads exactly what it
declares, and the order the engine derives respects every declaration.

sqlglot parses the text as DuckDB would read it: a malformed stage fails here,
not in the middle of a run over a million rows. It is a test-time dependency
only (importing it takes about 90 ms).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from billdrift.config import Config
from billdrift.core.engine import reconcile
from billdrift.core.findings import rule_stages
from billdrift.core.load import INPUTS
from billdrift.core.pipeline import Stage, StageDeclarationError, execution_order
from billdrift.core.policy import from_config
from billdrift.core.policy_tables import policy_tables
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.stages import STAGES
from billdrift.infra import duck
from tests.builders import NOW, account, app, billing, inputs, sub

POLICY_RELATIONS = set(policy_tables(from_config(Config()), NOW))
BEFORE_RULES = set(INPUTS) | POLICY_RELATIONS
AFTER_STAGES = BEFORE_RULES | {stage.name for stage in STAGES}
#: Every stage the engine can run: the shared ones, then every rule's and the evidence.
DECLARED = (*STAGES, *rule_stages(ALL_RULES))


def _queries(stage: Stage) -> list[str]:
    return [query for query in (stage.query, stage.when, stage.otherwise) if query is not None]


def _parse(query: str) -> exp.Expr:
    return sqlglot.parse_one(query, read="duckdb")


def _relations(query: str) -> set[str]:
    """The relations a query reads: every table it names that is not one of its CTEs."""
    tree = _parse(query)
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {table.name for table in tree.find_all(exp.Table)} - ctes


def test_every_stage_and_rule_is_declared() -> None:
    assert len(DECLARED) == len({stage.name for stage in DECLARED})
    assert {stage.name for stage in DECLARED} >= {f"{rule.kind.value}_rows" for rule in ALL_RULES}


@pytest.mark.parametrize("stage", DECLARED, ids=lambda stage: stage.name)
def test_sql_parses_as_duckdb(stage: Stage) -> None:
    for query in _queries(stage):
        _parse(query)


@pytest.mark.parametrize("stage", DECLARED, ids=lambda stage: stage.name)
def test_sql_reads_exactly_the_declared_relations(stage: Stage) -> None:
    read = set().union(*(_relations(query) for query in _queries(stage)))
    assert read == set(stage.reads)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT a FROM t WHERE (b = 1",
        "SELECT CASE WHEN a THEN 1 FROM t",
        "SELECT a FROM t WHERE",
    ],
)
def test_a_malformed_query_fails_to_parse(query: str) -> None:
    with pytest.raises(sqlglot.errors.ParseError):
        _parse(query)


def _assert_respects(order: Sequence[Stage], inputs: Collection[str]) -> None:
    """Each stage comes after every stage it reads; inputs exist from the start."""
    ready = set(inputs)
    for stage in order:
        assert set(stage.reads) <= ready, f"{stage.name} runs before {set(stage.reads) - ready}"
        ready.add(stage.name)


@pytest.mark.parametrize(
    "aligned",
    [set(), {"account_access"}, {"mapped_plans", "planned_subscriptions"}],
)
def test_the_engine_order_respects_every_declaration(aligned: set[str]) -> None:
    """Also with the relations loading registers without their stage's join."""
    inputs = BEFORE_RULES | aligned
    stages = [stage for stage in STAGES if stage.name not in inputs]
    order = execution_order(stages, inputs)
    assert {stage.name for stage in order} == {stage.name for stage in stages}
    _assert_respects(order, inputs)
    evidence = execution_order(rule_stages(ALL_RULES), AFTER_STAGES)
    _assert_respects(evidence, AFTER_STAGES)


@pytest.mark.parametrize(
    "dropped", [stage.name for stage in STAGES if stage.name != "expected_plans"]
)
def test_a_stage_left_out_of_the_declarations_is_named(dropped: str) -> None:
    """Every shared stage but the last is read by another: leaving one out is caught."""
    kept = [stage for stage in STAGES if stage.name != dropped]
    with pytest.raises(StageDeclarationError, match=f"'{dropped}'"):
        execution_order([*kept, *rule_stages(ALL_RULES)], BEFORE_RULES)


class _Recording:
    """A connection that keeps the text of every query run through it."""

    def __init__(self, con: duckdb.DuckDBPyConnection, queries: list[str]) -> None:
        self._con, self._queries = con, queries

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def execute(self, query: str, *args: Any) -> Any:
        self._queries.append(query)
        return self._con.execute(query, *args)

    def sql(self, query: str, *args: Any) -> Any:
        self._queries.append(query)
        return self._con.sql(query, *args)


@pytest.fixture
def run_queries(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    queries: list[str] = []
    connect: Callable[..., duckdb.DuckDBPyConnection] = duck.connect
    monkeypatch.setattr(duck, "connect", lambda **kw: _Recording(connect(**kw), queries))
    yield queries


def test_every_query_the_engine_runs_parses(run_queries: list[str]) -> None:
    """The engine's own queries too: the rows reported with their evidence, the
    billing deduplication, the partial-data counts."""
    book = billing(sub("sub_1", "cus_1"), sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled"))
    accounts = app(account("a1", "cus_1", access=False), account("a2", "cus_2"), with_status=True)
    report = reconcile(inputs(book, accounts, {"plans": {"price_pro": "pro"}}))
    assert report.findings
    assert any("UNION ALL" in query for query in run_queries)
    for query in run_queries:
        _parse(query)
