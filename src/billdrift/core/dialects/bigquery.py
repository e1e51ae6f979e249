"""The plan in BigQuery's SQL (see :mod:`.warehouse`). BigQuery accepts no ``NULLS
LAST`` inside an aggregate's ORDER BY (and sorts NULLs first by default), so each
such key becomes ``key IS NULL, key``: NULLs last, as DuckDB orders them (a DISTINCT
aggregate may order by its argument only: there NULLs would sort first; its lists,
of plan names and customer ids, hold no NULL).
Untested against a real BigQuery here."""

from __future__ import annotations

import functools
from typing import Any

from billdrift.core.dialects import warehouse
from billdrift.core.plan import Plan

NAME = "bigquery"
LABEL = "BigQuery"


def _nulls_last(node: Any) -> Any:
    from sqlglot import exp

    if isinstance(node, exp.Order) and isinstance(node.parent, exp.ArrayAgg | exp.GroupConcat):
        # BigQuery orders a DISTINCT aggregate by its argument only: no NULL key there
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


@functools.lru_cache(maxsize=1024)
def compile(query: str) -> str:
    return warehouse.compile_to(NAME, query, _nulls_last)


def statement(plan: Plan, canonical: dict[str, str]) -> str:
    return warehouse.statement(plan, canonical, compile, quote="`")


def explain(plan: Plan, canonical: dict[str, str]) -> str:
    return warehouse.explain(LABEL, plan, canonical, compile)
