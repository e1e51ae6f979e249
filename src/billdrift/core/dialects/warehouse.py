"""What the warehouse targets share: the plan compiled with sqlglot into the target's
dialect, one read-only ``WITH ... SELECT`` statement per question and per rule.

Snowflake, BigQuery, Redshift and Databricks (:mod:`.snowflake`, :mod:`.bigquery`,
:mod:`.redshift`, :mod:`.databricks`) each give a dialect name and, where the
target has no spelling for a construct the stages use, a rewrite of it. Each
statement holds every relation it needs as a common table expression, so nothing
is created on the warehouse (no temporary table, no view): the role running it
needs SELECT on the app tables and the Stripe tables only, and only each
statement's rows (findings, and the report's small questions) come back.
The SQL is checked here by parsing it back with sqlglot in the same dialect;
no warehouse runs it here (none is reachable from this machine).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billdrift.core.plan import Output, Plan
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
