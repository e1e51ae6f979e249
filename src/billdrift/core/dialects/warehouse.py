"""The warehouse targets: the plan compiled with sqlglot into the target's dialect, one
read-only ``WITH ... SELECT`` statement per question and per rule.

Snowflake, BigQuery, Redshift and Databricks differ only in a few facts, so each is
one row of :data:`WAREHOUSES` (a :class:`Warehouse`): sqlglot's dialect name, the
label shown to people, the identifier quote, a statement to run first, and, where
the target has no spelling for a construct the stages use, a rewrite of it. Each
statement holds every relation it needs as a common table expression, so nothing
is created on the warehouse (no temporary table, no view): the role running it
needs SELECT on the app tables and the Stripe tables only, and only each
statement's rows (findings, and the report's small questions) come back.
The SQL is checked here by parsing it back with sqlglot in the same dialect;
no warehouse runs it here (none is reachable from this machine).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from billdrift.core.dialects import spark
from billdrift.core.plan import Answers, Output, Plan
from billdrift.errors import ConfigError

Rewrite = Callable[[Any], Any]


def compile_to(dialect: str, query: str, rewrite: Rewrite | None = None) -> str:
    """One DuckDB query in `dialect`; a construct sqlglot cannot carry over raises."""
    import sqlglot

    tree = sqlglot.parse_one(query, read="duckdb")
    if rewrite is not None:
        tree = tree.transform(rewrite, copy=False)
    try:
        return str(tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE))
    except sqlglot.errors.UnsupportedError as error:
        raise ConfigError(f"a stage cannot be compiled for {dialect}: {error}") from None


def relations(
    plan: Plan, canonical: dict[str, str], compile: Callable[[str], str]
) -> list[tuple[str, str]]:
    """Every relation in the order it may be read: name, target SQL (`canonical` holds
    the target's own SQL for the canonical relations and their helpers)."""
    missing = [name for name in plan.canonical if name not in canonical]
    if missing:
        raise ConfigError(f"the target defines no {', '.join(missing)}")
    helpers = [name for name in canonical if name not in (*plan.canonical, *plan.relations)]
    ctes = [(name, canonical[name]) for name in (*helpers, *plan.canonical)]
    ctes += [(name, canonical.get(name) or compile(q)) for name, q in plan.relations.items()]
    ctes += [(step.name, compile(step.portable())) for step in plan.steps]
    return ctes


def statements(
    plan: Plan, canonical: dict[str, str], compile: Callable[[str], str], quote: str = '"'
) -> list[tuple[Output, str]]:
    """One ``WITH ... SELECT`` per output: the question or rule, and its statement."""
    ctes = ",\n".join(
        f"{quote}{name}{quote} AS (\n{query}\n)"
        for name, query in relations(plan, canonical, compile)
    )
    return [
        (item, f"WITH {ctes}\n{compile(item.query)}") for item in (*plan.questions, *plan.reported)
    ]


def statement(
    plan: Plan, canonical: dict[str, str], compile: Callable[[str], str], quote: str = '"'
) -> str:
    return "\n;\n".join(text for _, text in statements(plan, canonical, compile, quote)) + "\n;\n"


def explain(
    label: str, plan: Plan, canonical: dict[str, str], compile: Callable[[str], str]
) -> str:
    """Each relation in order, in the target's SQL, then what comes back."""
    parts = [
        f"-- billdrift plan for {label}: read-only WITH ... SELECT statements, one per",
        "-- output below; each holds these relations as common table expressions.",
        f"-- Not executed on {label} by billdrift's own tests (no server here).",
    ]
    for name, query in relations(plan, canonical, compile):
        parts += ["", f"-- {name}", f"{query};"]
    parts += ["", "-- returned: the rows of these queries, nothing else"]
    for item in (*plan.questions, *plan.reported):
        what = "question" if item.name.startswith("q") else "reported rows of rule"
        parts += ["", f"-- {what} {item.name}", f"{compile(item.query)};"]
    return "\n".join(parts) + "\n"


def _bigquery_nulls_last(node: Any) -> Any:
    """BigQuery accepts no ``NULLS LAST`` inside an aggregate's ORDER BY (and sorts NULLs
    first by default), so each such key becomes ``key IS NULL, key``: NULLs last, as
    DuckDB orders them (a DISTINCT aggregate may order by its argument only: there NULLs
    would sort first; its lists, of plan names and customer ids, hold no NULL)."""
    from sqlglot import exp

    if isinstance(node, exp.Order) and isinstance(node.parent, exp.ArrayAgg | exp.GroupConcat):
        distinct = isinstance(node.this, exp.Distinct)
        keys: list[exp.Expression] = []
        for key in node.expressions:
            desc = key.args.get("desc")
            if not distinct:
                is_null = exp.Is(this=key.this.copy(), expression=exp.Null())
                keys.append(exp.Ordered(this=is_null, nulls_first=True))
            keys.append(exp.Ordered(this=key.this.copy(), desc=desc, nulls_first=not desc))
        node.set("expressions", keys)
    return node


@functools.lru_cache(maxsize=4096)
def _compiled(name: str, query: str, rewrite: Rewrite | None) -> str:
    return compile_to(name, query, rewrite)


@dataclass(frozen=True)
class Warehouse:
    """One warehouse target; provides what :class:`~billdrift.core.dialects.Dialect` asks."""

    #: sqlglot's dialect name, which is also the name users give.
    NAME: str
    #: The product's name in messages and in ``--explain``.
    LABEL: str
    #: How the target quotes an identifier (the statements' CTE names).
    quote: str = '"'
    #: Where the target has no spelling for a construct the stages use.
    rewrite: Rewrite | None = None
    #: A statement the session runs before the plan's (shown first by ``explain``).
    preamble: str | None = None

    def compile(self, query: str) -> str:
        return _compiled(self.NAME, query, self.rewrite)

    def statements(self, plan: Plan, canonical: dict[str, str]) -> list[tuple[Output, str]]:
        return statements(plan, canonical, self.compile, self.quote)

    def statement(self, plan: Plan, canonical: dict[str, str]) -> str:
        return statement(plan, canonical, self.compile, self.quote)

    def explain(self, plan: Plan, canonical: dict[str, str]) -> str:
        shown = explain(self.LABEL, plan, canonical, self.compile)
        return f"{self.preamble};\n{shown}" if self.preamble else shown

    def answers(self, rows: dict[str, list[dict[str, Any]]], plan: Plan) -> Answers:
        """Each output's rows (plain Python values, by column name) as the report's
        answers: the same reading as Spark's (lists, dicts, numbers, strings)."""
        return spark.answers(rows, plan)


#: Every warehouse target, by the name users give. Untested against the real services
#: here: their SQL is parsed back with sqlglot in tests; none is reachable from here.
WAREHOUSES: dict[str, Warehouse] = {
    "snowflake": Warehouse("snowflake", "Snowflake"),
    "bigquery": Warehouse("bigquery", "BigQuery", quote="`", rewrite=_bigquery_nulls_last),
    "redshift": Warehouse("redshift", "Amazon Redshift"),
    # Databricks runs Spark: the Spark target's rewrites apply (ordered lists of structs,
    # calendar intervals, the ISO format), and the session time zone must be UTC.
    "databricks": Warehouse(
        "databricks", "Databricks", quote="`", rewrite=spark.rewrite, preamble="SET TIME ZONE 'UTC'"
    ),
}
