"""Stage declarations: the order derived from them, and declarations that cannot run."""

from __future__ import annotations

import duckdb
import pytest

from billdrift.config import Config
from billdrift.core.pipeline import Stage, StageDeclarationError, execution_order, run
from billdrift.core.policy import from_config
from billdrift.core.rules.base import RuleContext


def _stage(name: str, *reads: str) -> Stage:
    return Stage(name, reads, "SELECT 1 AS x")


def test_order_puts_every_stage_after_what_it_reads() -> None:
    stages = [
        _stage("d", "b", "c"),
        _stage("c", "a", "input"),
        _stage("b", "a"),
        _stage("a", "input"),
    ]
    order = [stage.name for stage in execution_order(stages, {"input"})]
    assert sorted(order) == ["a", "b", "c", "d"]
    for stage in stages:
        for read in stage.reads:
            if read != "input":
                assert order.index(read) < order.index(stage.name)


def test_order_is_the_listed_order_when_that_respects_the_declarations() -> None:
    listed = [_stage("a", "input"), _stage("x"), _stage("b", "a"), _stage("c", "input")]
    assert execution_order(listed, {"input"}) == tuple(listed)
    # a stage listed before what it reads waits for it, and only for it
    early = [_stage("b", "a"), _stage("c"), _stage("a"), _stage("d")]
    assert [s.name for s in execution_order(early, ())] == ["c", "a", "b", "d"]


def test_a_relation_nobody_provides_is_named() -> None:
    with pytest.raises(StageDeclarationError, match=r"stage 'b' reads 'nowhere'"):
        execution_order([_stage("a", "input"), _stage("b", "a", "nowhere")], {"input"})


def test_a_cycle_is_named() -> None:
    stages = [_stage("a", "input", "c"), _stage("b", "a"), _stage("c", "b")]
    with pytest.raises(StageDeclarationError, match="cycle") as error:
        execution_order(stages, {"input"})
    assert all(repr(name) in str(error.value) for name in "abc")


def test_a_stage_reading_itself_is_a_cycle() -> None:
    with pytest.raises(StageDeclarationError, match="cycle"):
        execution_order([_stage("a", "a")], set())


def test_a_relation_declared_twice_is_refused() -> None:
    with pytest.raises(StageDeclarationError, match="'a' is declared twice"):
        execution_order([_stage("a"), _stage("a")], set())
    with pytest.raises(StageDeclarationError, match="'a' is declared twice"):
        execution_order([_stage("a")], {"a"})


def test_a_condition_needs_its_alternative() -> None:
    with pytest.raises(StageDeclarationError, match="otherwise"):
        Stage("a", (), "SELECT 1", when="SELECT TRUE")
    with pytest.raises(StageDeclarationError, match="otherwise"):
        Stage("a", (), "SELECT 1", otherwise="SELECT 2")


@pytest.mark.parametrize(("holds", "expected"), [("TRUE", 1), ("FALSE", 2), ("NULL", 2)])
def test_run_takes_the_alternative_when_the_condition_does_not_hold(
    holds: str, expected: int
) -> None:
    stage = Stage("a", (), "SELECT 1 AS x", when=f"SELECT {holds}", otherwise="SELECT 2 AS x")
    context = RuleContext(from_config(Config()), {})
    with duckdb.connect() as con:
        run(con, [stage, Stage("b", ("a",), "SELECT x + 10 AS x FROM a", view=True)], context, ())
        assert con.sql("SELECT x FROM b").fetchall() == [(expected + 10,)]


def test_run_takes_the_alternative_when_the_stage_does_not_apply() -> None:
    stage = Stage(
        "a",
        (),
        "SELECT 1 AS x",
        applies=lambda context: context.policy.team_billing,
        otherwise="SELECT 2 AS x",
    )
    with duckdb.connect() as con:
        run(con, [stage], RuleContext(from_config(Config()), {}), ())
        assert con.sql("SELECT x FROM a").fetchall() == [(2,)]


def test_run_reports_each_table_s_rows_as_it_creates_it() -> None:
    """The rows of each table as DuckDB reports creating it (the engine words a rule's
    findings in Python or SQL by this count); a view holds none of its own."""
    stages = [
        Stage("a", (), "SELECT * FROM range(3) t(x)"),
        Stage("none", ("a",), "SELECT x FROM a WHERE x > 5"),
        Stage("v", ("a",), "SELECT x FROM a", view=True),
        Stage("b", ("v",), "SELECT x FROM v WHERE x > 0"),
    ]
    with duckdb.connect() as con:
        created = run(con, stages, RuleContext(from_config(Config()), {}), ())
    assert created == {"a": 3, "none": 0, "b": 2}
