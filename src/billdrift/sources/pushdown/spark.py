"""The plan run on Spark: statements executed in a session, only finding rows collected.

The caller says where the canonical relations come from (Spark SQL over tables in
the session's catalog, or over Parquet/CSV files); :func:`execute` defines each of
the plan's relations as a temporary view or cached stage
(:mod:`billdrift.core.dialects.spark`) and collects the rows of the report's
questions and of each rule's reported rows. Nothing is written anywhere: temporary
views and caches live and die with the session, and are dropped on the way out.
"""

from __future__ import annotations

from typing import Any

from billdrift.core.dialects import spark as dialect
from billdrift.core.plan import Plan


def _plain(value: Any) -> Any:
    """A Spark Row (or a list of them) as the dicts DuckDB hands over."""
    if hasattr(value, "asDict"):
        return {key: _plain(item) for key, item in value.asDict(recursive=False).items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def execute(session: Any, plan: Plan, canonical: dict[str, str]) -> dialect.SparkAnswers:
    """Runs `plan` in `session` over `canonical` (Spark SQL per canonical relation)."""
    for key, value in dialect.SESSION_CONF.items():
        session.conf.set(key, value)
    defined = dialect.statements(plan, canonical)
    try:
        for _, text in defined:
            session.sql(text)
        rows = {
            item.name: [_plain(row) for row in session.sql(dialect.output(item)).collect()]
            for item in (*plan.questions, *plan.reported)
        }
    finally:
        for name, text in reversed(defined):
            if text.startswith("CACHE"):
                session.sql(f"UNCACHE TABLE IF EXISTS `{name}`")
            session.catalog.dropTempView(name)
    return dialect.answers(rows, plan)
