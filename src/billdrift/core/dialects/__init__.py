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
from typing import Protocol

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

    def answers(self, result: str, plan: Plan) -> Answers:
        """What the statement returned, as the answers the report is built from."""
        ...


#: Every target, by the name users give, and the module implementing it.
TARGETS: dict[str, str] = {
    "postgres": "billdrift.core.dialects.postgres",
    "spark": "billdrift.core.dialects.spark",
    # SQL produced and parsed back in tests; not executed here (no servers)
    "snowflake": "billdrift.core.dialects.snowflake",
    "bigquery": "billdrift.core.dialects.bigquery",
    "redshift": "billdrift.core.dialects.redshift",
    "databricks": "billdrift.core.dialects.databricks",
}


def dialect(name: str) -> Dialect:
    """The dialect module for target `name`."""
    module = TARGETS.get(name)
    if module is None:
        raise ConfigError(
            f"unknown engine {name!r}: expected one of in-process, {', '.join(sorted(TARGETS))}"
        )
    found: Dialect = importlib.import_module(module)
    return found
