"""The plan in Databricks SQL (see :mod:`.warehouse`): Databricks runs Spark, so the
Spark target's rewrites apply (:mod:`.spark`: ordered lists of structs, calendar
intervals, the ISO format); the session time zone must be UTC
(``SET TIME ZONE 'UTC'``, which the statement begins with). Untested against a real
Databricks workspace here (the same SQL runs on local Spark in the tests)."""

from __future__ import annotations

import functools

from billdrift.core.dialects import spark, warehouse
from billdrift.core.plan import Plan

NAME = "databricks"
LABEL = "Databricks"


@functools.lru_cache(maxsize=1024)
def compile(query: str) -> str:
    return warehouse.compile_to(NAME, query, spark.rewrite)


def statement(plan: Plan, canonical: dict[str, str]) -> str:
    return warehouse.statement(plan, canonical, compile, quote="`")


def explain(plan: Plan, canonical: dict[str, str]) -> str:
    return "SET TIME ZONE 'UTC';\n" + warehouse.explain(LABEL, plan, canonical, compile)
