"""Where a plan can run besides in-process DuckDB: one module per target engine,
registered here and nowhere else.

A dialect module turns a :class:`~billdrift.core.plan.Plan` (DuckDB SQL) into the
target's SQL with sqlglot, rewriting the few constructs no target shares
(lists of structs, DuckDB's lambdas) into the target's own, and parses what the
target sends back into the answers :func:`billdrift.core.engine.judge` asks for.
It never connects anywhere: executing the SQL is the sources layer's job
(:mod:`billdrift.sources.pushdown`). sqlglot is imported only by these modules,
so ``import billdrift`` and in-process checks do not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from billdrift.core.plan import Answers, Plan
from billdrift.errors import ConfigError


class Dialect(Protocol):
    """What every target module provides (see :mod:`.postgres`)."""

    #: The name users give (``--engine postgres``).
    NAME: str

    def compile(self, query: str) -> str:
        """One DuckDB query in the target's SQL."""
        ...

    def statement(self, plan: Plan, canonical: dict[str, str]) -> str:
        """The whole plan as the statement(s) the target runs, over `canonical` (the
        target's own SQL defining each canonical relation)."""
        ...

    def explain(self, plan: Plan, canonical: dict[str, str]) -> str:
        """The plan, stage by stage, for a human to review."""
        ...

    def answers(self, result: Any, plan: Plan) -> Answers:
        """What the statement returned, as the answers the report is built from."""
        ...


#: Every target, by the name users give, and the module implementing it.
TARGETS: dict[str, str] = {
    "postgres": "billdrift.core.dialects.postgres",
    "spark": "billdrift.core.dialects.spark",
    # rows of one table (warehouse.WAREHOUSES); SQL parsed back in tests, not run here
    "snowflake": "billdrift.core.dialects.warehouse:snowflake",
    "bigquery": "billdrift.core.dialects.warehouse:bigquery",
    "redshift": "billdrift.core.dialects.warehouse:redshift",
    "databricks": "billdrift.core.dialects.warehouse:databricks",
}


def dialect(name: str) -> Dialect:
    """The dialect module for target `name`."""
    module = TARGETS.get(name)
    if module is None:
        raise ConfigError(
            f"unknown engine {name!r}: expected one of in-process, {', '.join(sorted(TARGETS))}"
        )
    path, _, row = module.partition(":")
    loaded = importlib.import_module(path)
    found: Dialect = loaded.WAREHOUSES[row] if row else loaded
    return found
