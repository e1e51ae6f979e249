"""The plan in Snowflake's SQL (see :mod:`.warehouse`): sqlglot carries every stage over
as written. Untested against a real Snowflake here."""

from __future__ import annotations

import functools

from billdrift.core.dialects import warehouse
from billdrift.core.plan import Plan

NAME = "snowflake"
LABEL = "Snowflake"


@functools.lru_cache(maxsize=1024)
def compile(query: str) -> str:
    return warehouse.compile_to(NAME, query)


def statement(plan: Plan, canonical: dict[str, str]) -> str:
    return warehouse.statement(plan, canonical, compile)


def explain(plan: Plan, canonical: dict[str, str]) -> str:
    return warehouse.explain(LABEL, plan, canonical, compile)
