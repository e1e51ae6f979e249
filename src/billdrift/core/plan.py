"""The rule plan as data: what runs, in which order, over which relations.

In-process, the engine creates each stage in DuckDB as it goes
(:mod:`billdrift.core.pipeline`). To run the same rules where the data lives
(PostgreSQL beside a Stripe mirror, later Spark and the warehouses), the plan is
written down instead: the relations it needs as inputs (the four canonical ones,
which the target defines over its own tables, and the policy relations, whose
values are written into the SQL), every stage and rule in execution order, and
the queries whose answers the report is built from (:data:`engine.QUESTIONS`
and each rule's reported rows with their evidence). A dialect module compiles it
(:mod:`billdrift.core.dialects`) and the same :func:`engine.judge` builds the
report from what comes back, so in-process and pushed-down runs cannot drift
apart in wording, ordering or verdict.

All SQL here is DuckDB's, as the stages are written; a stage's ``when`` /
``otherwise`` choice (decided in-process by a query before the stage runs)
becomes one portable query that holds both branches, each guarded by the
condition (:meth:`Step.portable`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from billdrift.core import engine, pipeline
from billdrift.core.findings import build, reported_queries, rule_stages
from billdrift.core.load import load
from billdrift.core.model import (
    APP_ACCESS_SIGNALS,
    APP_ACCOUNTS,
    BILLING_ITEMS,
    BILLING_SUBSCRIPTIONS,
    AppData,
    BillingData,
    Finding,
    Skip,
)
from billdrift.core.pipeline import Stage
from billdrift.core.policy_tables import policy_tables
from billdrift.core.report import Report, Suppressed
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Rule, RuleContext
from billdrift.core.rules.stages import STAGES
from billdrift.core.sql import sql
from billdrift.errors import SourceError
from billdrift.infra import duck
from billdrift.infra.duck import quote_identifier, sql_string

#: The relations a target defines over its own tables, with the canonical schemas.
CANONICAL = {
    "billing_subscriptions": BILLING_SUBSCRIPTIONS,
    "billing_items": BILLING_ITEMS,
    "app_accounts": APP_ACCOUNTS,
    "app_access_signals": APP_ACCESS_SIGNALS,
}

#: The inputs in-process loading adds that a target derives from the canonical ones.
DERIVED_INPUTS = {
    # a mirror's subscription id is its primary key; a run refuses repeats (see the
    # pushdown use case) rather than choosing a copy
    "billing_repeats": (
        "SELECT count(*) - count(DISTINCT subscription_id) AS n FROM billing_subscriptions"
    ),
    # no row goes unread: the target refuses rows it cannot read before the plan runs
    "unreadable_rows": (
        "SELECT CAST(NULL AS VARCHAR) AS side, CAST(NULL AS VARCHAR) AS customer_id LIMIT 0"
    ),
}

#: A conditional stage as one query: the branch the condition picks, the other empty.
_CHOICE = """
SELECT * FROM ({query}) chosen WHERE coalesce(({when}), FALSE)
UNION ALL
SELECT * FROM ({otherwise}) fallback WHERE NOT coalesce(({when}), FALSE)"""


@dataclass(frozen=True)
class Step:
    """One relation the plan derives: a stage, a rule's rows, or an evidence stage."""

    name: str
    reads: tuple[str, ...]
    query: str
    #: A one-boolean query deciding between `query` and `otherwise` (None: always `query`).
    when: str | None = None
    otherwise: str | None = None

    def portable(self) -> str:
        """The step as one query, its condition (if any) decided by the database."""
        if self.when is None or self.otherwise is None:
            return self.query
        return sql(_CHOICE, query=self.query, when=self.when, otherwise=self.otherwise)


@dataclass(frozen=True)
class Output:
    """A query whose rows come back: a question the report asks, or a rule's rows."""

    name: str
    query: str
    #: How many columns it returns (questions come back as positional rows).
    columns: int


@dataclass(frozen=True)
class Plan:
    """Everything a target runs for one check, in DuckDB SQL, in execution order."""

    #: The canonical relations the target must define (:data:`CANONICAL`).
    canonical: tuple[str, ...]
    #: Policy relations and :data:`DERIVED_INPUTS`: name -> query holding their rows.
    relations: dict[str, str]
    steps: tuple[Step, ...]
    #: The applicable rules, in report order (``reported`` follows it).
    rules: tuple[Rule, ...]
    questions: tuple[Output, ...]
    reported: tuple[Output, ...]


def build_plan(inputs: engine.Inputs) -> Plan:
    """The plan for `inputs`' policy, app mapping and instant (their rows are not read:
    the plan depends on the configuration only)."""
    context = engine.context(inputs)
    rules = tuple(rule for rule in ALL_RULES if rule.applies(context))
    relations = {
        name: values_sql(table)
        for name, table in policy_tables(inputs.policy, inputs.as_of).items()
    }
    relations.update(DERIVED_INPUTS)
    provided = set(CANONICAL) | set(relations)
    stages: list[Stage] = [*STAGES, *rule_stages(rules)]
    steps = []
    for stage in pipeline.execution_order(stages, provided):
        if stage.otherwise is not None and not stage.applies(context):
            steps.append(Step(stage.name, stage.reads, stage.otherwise))
        else:
            steps.append(Step(stage.name, stage.reads, stage.query, stage.when, stage.otherwise))
    questions, reported = _outputs(inputs, rules)
    return Plan(tuple(CANONICAL), relations, tuple(steps), rules, questions, reported)


def _outputs(
    inputs: engine.Inputs, rules: Sequence[Rule]
) -> tuple[tuple[Output, ...], tuple[Output, ...]]:
    """The questions and the rules' reported queries, with their column counts, found by
    running the plan on no rows in-process (the select lists depend on column types)."""
    empty = engine.Inputs(
        billing=[BillingData(BILLING_SUBSCRIPTIONS.empty_table(), BILLING_ITEMS.empty_table())],
        app=AppData(
            APP_ACCOUNTS.empty_table(), APP_ACCESS_SIGNALS.empty_table(), mapping=inputs.app.mapping
        ),
        policy=inputs.policy,
        as_of=inputs.as_of,
    )
    con = duck.connect()
    try:
        provided = load(con, empty.billing, empty.app, empty.policy, empty.as_of).relations
        context = engine.context(inputs)
        pipeline.run(con, [s for s in STAGES if s.name not in provided], context, provided)
        pipeline.run(con, rule_stages(rules), context, provided | {s.name for s in STAGES})
        questions = tuple(
            Output(f"q{index}", query, len(con.execute(query).description or ()))
            for index, query in enumerate(engine.QUESTIONS)
        )
        reported = tuple(
            Output(rule.kind.value, query, len(con.execute(query).description or ()))
            for rule, query in zip(rules, reported_queries(con, rules), strict=True)
        )
    finally:
        con.close()
    return questions, reported


class Answers(Protocol):
    """What a target sent back for a plan (see :mod:`billdrift.core.dialects`)."""

    def ask(self, query: str) -> list[tuple[Any, ...]]:
        """The rows of one of the plan's questions."""
        ...

    def rows(self, rule: str) -> list[dict[str, Any]]:
        """A rule's reported rows (by kind), in report order."""
        ...


def refuse_repeats(answers: Answers, repeated: Callable[[int], str]) -> None:
    """Refuse a target's billing rows that repeat a subscription id (SourceError, worded
    by `repeated` from their count): in-process the engine keeps the first copy and says
    which ones conflict, but a target's answer only counts them. Every engine calls it
    before :func:`judge_answers` (the identity tests call that alone, on inputs whose
    copies the in-process run reports as skips)."""
    repeats = answers.ask(engine.REPEATS)
    if repeats and repeats[0][0]:
        raise SourceError(repeated(int(repeats[0][0])))


def judge_answers(
    inputs: engine.Inputs, plan: Plan, answers: Answers, unused: tuple[Skip, ...] = ()
) -> Report:
    """The report from a pushed-down run's answers: the in-process engine's own
    :func:`~billdrift.core.engine.judge`, fed from what the target computed (`unused`:
    rows the target's inputs left out, as skips)."""

    def rules(
        applicable: Sequence[Rule], context: RuleContext
    ) -> tuple[list[Finding], list[Suppressed]]:
        planned = [rule.kind for rule in plan.rules]
        if [rule.kind for rule in applicable] != planned:  # pragma: no cover - same config
            raise ValueError("the plan was built for another configuration")
        findings: list[Finding] = []
        suppressed: list[Suppressed] = []
        for rule in applicable:
            build(rule, answers.rows(rule.kind.value), findings, suppressed)
        return findings, suppressed

    return engine.judge(inputs, answers.ask, rules, unused)


_TYPES = {
    pa.string(): "VARCHAR",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
}


def values_sql(table: pa.Table) -> str:
    """`table`'s rows as a query of literals (policy relations are a few rows): each
    value cast to its column's type, so an empty or all-NULL column keeps its type."""
    types = [_sql_type(field.type) for field in table.schema]
    names = [quote_identifier(name) for name in table.column_names]
    rows = table.to_pylist()
    if not rows:
        columns = ", ".join(
            f"CAST(NULL AS {kind}) AS {name}" for kind, name in zip(types, names, strict=True)
        )
        return f"SELECT {columns} LIMIT 0"
    selects = []
    for row in rows:
        values = [
            f"CAST({_literal(value)} AS {kind}) AS {name}"
            for value, kind, name in zip(row.values(), types, names, strict=True)
        ]
        selects.append(f"SELECT {', '.join(values)}")
    return "\nUNION ALL ".join(selects)


def _sql_type(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "TIMESTAMPTZ"
    return _TYPES[kind]


def _literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return sql_string(value.isoformat())
    return sql_string(str(value))
