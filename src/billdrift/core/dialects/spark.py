"""The plan in Spark SQL: temporary views and cached stages, findings only coming back.

Spark runs the plan as a distributed engine does: each canonical relation, policy
relation and stage becomes a session-scoped temporary view (nothing is written to
the catalog or to storage), and every stage read more than once is materialized
once on the executors, as the in-process engine keeps its stages as tables. A view
alone would not do: Spark inlines a view at every reference, so a stage read by
two later stages is computed twice, and the analyzer's plan for the last stages
holds every earlier stage expanded (it grew until analysis alone took over ten
minutes on a labelled case). ``CACHE TABLE`` saves the recomputation but not the
analysis (a cached view keeps its full plan). The runner therefore checkpoints
such a stage (:data:`Statement.materialize`): its rows are computed once and the
view becomes a leaf, so each statement's plan stays the size of its own query.
Then each question the report asks and each rule's reported rows are one query
whose rows (findings only) are the only data that reaches the driver. Nothing
here assumes a single node: no input is collected, and the same statements run
unchanged on a cluster.

sqlglot transpiles the stages (DuckDB SQL) as written; the constructs with no
shared spelling are rewritten here:

* lists of structs ordered by their first field (the evidence lists) become
  ``array_sort(collect_list(named_struct(...)))``: structs compare field by field,
  so the sort is by that first field (ties: by the next fields, where DuckDB's
  order among equal keys is unspecified anyway);
* ``list(DISTINCT x ORDER BY x)`` becomes ``array_sort(collect_set(x))``;
* the ISO instant format becomes ``date_format`` with Java's pattern, read in the
  session time zone, which a run sets to UTC (:data:`SESSION_CONF`).
"""

from __future__ import annotations

import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any

from billdrift.core.plan import Output, Plan
from billdrift.errors import ConfigError

NAME = "spark"

#: Session settings the plan's semantics rely on (a runner applies them first).
SESSION_CONF = {
    # instants are read and formatted in UTC, as DuckDB's timezone('UTC', x) does
    "spark.sql.session.timeZone": "UTC",
    # ANSI mode makes a failed cast an error; the stages rely on NULL, as DuckDB's TRY_CAST
    "spark.sql.ansi.enabled": "false",
}

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_JAVA_ISO = "yyyy-MM-dd'T'HH:mm:ss'Z'"


@functools.lru_cache(maxsize=1024)
def compile(query: str) -> str:
    """One DuckDB query as Spark SQL; a construct sqlglot cannot carry over raises,
    naming it, rather than producing SQL that means something else."""
    import sqlglot

    tree = sqlglot.parse_one(query, read="duckdb").transform(rewrite, copy=False)
    try:
        return str(tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE))
    except sqlglot.errors.UnsupportedError as error:  # pragma: no cover - a stage bug
        raise ConfigError(f"a stage cannot be compiled for Spark: {error}") from None


def rewrite(node: Any) -> Any:
    """Ordered list aggregates and the ISO instant format (module docstring)."""
    from sqlglot import exp

    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order):
        order = node.this
        keys = order.expressions
        inner = order.this
        distinct = isinstance(inner, exp.Distinct)
        value = inner.expressions[0] if distinct else inner
        first = value.expressions[0].expression if isinstance(value, exp.Struct) else value
        if (
            len(keys) != 1
            or keys[0].args.get("desc")
            or keys[0].this.sql("duckdb") != first.sql("duckdb")
        ):  # the stages order lists by their (first) value only
            raise ConfigError(f"unsupported list order in {node.sql('duckdb')}")
        collect = "collect_set" if distinct else "collect_list"
        gathered = exp.Anonymous(this=collect, expressions=[value])
        return exp.Anonymous(this="array_sort", expressions=[gathered])
    if isinstance(node, exp.RegexpFullMatch) or (
        isinstance(node, exp.Anonymous) and node.name.lower() == "regexp_full_match"
    ):
        text, pattern = (
            (node.this, node.expression)
            if not isinstance(node, exp.Anonymous)
            else node.expressions
        )
        whole = exp.Literal.string(f"^(?:{pattern.name})$")
        return exp.RegexpLike(this=text, expression=whole)
    if isinstance(node, exp.Mul) and isinstance(node.expression, exp.Interval | exp.Paren):
        interval = node.expression.unnest()
        if isinstance(interval, exp.Interval):
            return _calendar_interval(node.this, interval)
    if isinstance(node, exp.TimeToStr):
        if node.args["format"].name != _ISO_FORMAT:  # pragma: no cover - one format is used
            raise ConfigError(f"unsupported time format in {node.sql('duckdb')}")
        instant = node.this
        if isinstance(instant, exp.AtTimeZone | exp.ConvertTimezone | exp.Anonymous):
            instant = _utc_instant(instant)
        return exp.Anonymous(
            this="date_format", expressions=[instant, exp.Literal.string(_JAVA_ISO)]
        )
    return node


#: make_interval's argument positions (years, months, weeks, days).
_UNITS = {"YEAR": 0, "MONTH": 1, "WEEK": 2, "DAY": 3}


def _calendar_interval(count: Any, interval: Any) -> Any:
    """``n * INTERVAL '1' UNIT`` as ``make_interval(...)``: Spark types day and month
    intervals apart and refuses a CASE mixing them; a calendar interval holds both,
    and adding it to an instant means what DuckDB's interval does."""
    from sqlglot import exp

    unit = interval.text("unit").upper().removesuffix("S")
    if interval.this.name != "1" or unit not in _UNITS:  # pragma: no cover - stages use 1 UNIT
        raise ConfigError(f"unsupported interval in {interval.sql('duckdb')}")
    parts: list[exp.Expression] = [exp.Literal.number(0)] * (_UNITS[unit] + 1)
    parts[_UNITS[unit]] = exp.Cast(this=count, to=exp.DataType.build("INT"))
    return exp.Anonymous(this="make_interval", expressions=parts)


def _utc_instant(node: Any) -> Any:
    """``timezone('UTC', x)``'s x: the session time zone is UTC already."""
    from sqlglot import exp

    if isinstance(node, exp.Anonymous) and node.name.lower() != "timezone":
        return node
    value = node.expressions[-1] if isinstance(node, exp.Anonymous) else node.this
    if isinstance(node, exp.ConvertTimezone):
        value = node.args.get("timestamp") or value
    return value


def _reads(plan: Plan) -> Counter[str]:
    """How many steps and outputs read each relation (cached when more than one)."""
    counts: Counter[str] = Counter()
    for step in plan.steps:
        counts.update(step.reads)
    return counts


@dataclass(frozen=True)
class Statement:
    """One relation of the plan: a temporary view over `query`, its rows computed once
    and the view's lineage cut (a local checkpoint) when `materialize` is set."""

    name: str
    query: str
    materialize: bool = False

    @property
    def text(self) -> str:
        """The statement as Spark SQL, for review (``--explain``); a materialized stage
        is shown as ``CACHE TABLE``, the nearest SQL spelling of what the runner does."""
        if self.materialize:
            return f"CACHE TABLE `{self.name}` AS\n{self.query}"
        return f"CREATE OR REPLACE TEMPORARY VIEW `{self.name}` AS\n{self.query}"


def statements(plan: Plan, canonical: dict[str, str]) -> list[Statement]:
    """Every relation of the plan, in execution order. `canonical` holds the Spark SQL
    of each canonical relation (and its helpers)."""
    missing = [name for name in plan.canonical if name not in canonical]
    if missing:  # pragma: no cover - the sources layer defines all four
        raise ConfigError(f"the target defines no {', '.join(missing)}")
    helpers = [name for name in canonical if name not in (*plan.canonical, *plan.relations)]
    reads = _reads(plan)
    out = [Statement(name, canonical[name]) for name in (*helpers, *plan.canonical)]
    for name, query in plan.relations.items():
        out.append(Statement(name, canonical.get(name) or compile(query)))
    for step in plan.steps:
        out.append(Statement(step.name, compile(step.portable()), reads[step.name] > 1))
    return out


def output(item: Output) -> str:
    """One question or rule's rows, in Spark SQL (what comes back to the driver)."""
    return compile(item.query)


def statement(plan: Plan, canonical: dict[str, str]) -> str:
    """The whole script: the relations' statements, then the queries whose rows return."""
    parts = [f"{item.text};" for item in statements(plan, canonical)]
    parts += [f"{output(item)};" for item in (*plan.questions, *plan.reported)]
    return "\n\n".join(parts) + "\n"


def explain(plan: Plan, canonical: dict[str, str]) -> str:
    """Each statement in order, in Spark SQL, with the policy values written in; then
    the queries whose rows come back."""
    parts = [
        "-- billdrift plan for Spark: session-scoped temporary views (stages read more",
        "-- than once computed once and checkpointed on the executors), nothing written;",
        "-- then the queries whose rows (findings only) come back to the driver.",
    ]
    for item in statements(plan, canonical):
        parts += ["", f"-- {item.name}", f"{item.text};"]
    parts += ["", "-- returned: these rows, nothing else"]
    for out in (*plan.questions, *plan.reported):
        what = "question" if out.name.startswith("q") else "reported rows of rule"
        parts += ["", f"-- {what} {out.name}", f"{output(out)};"]
    return "\n".join(parts) + "\n"


class SparkAnswers:
    """The rows each output query returned (plain Python values), by output."""

    def __init__(self, rows: dict[str, list[dict[str, Any]]], plan: Plan) -> None:
        self._questions = {
            item.query: [tuple(row.values()) for row in rows[item.name]] for item in plan.questions
        }
        self._rows = {item.name: [_typed(row) for row in rows[item.name]] for item in plan.reported}

    def ask(self, query: str) -> list[tuple[object, ...]]:
        if query not in self._questions:  # pragma: no cover - a question the plan lacks
            raise KeyError(f"the plan carries no answer to {query!r}")
        return list(self._questions[query])

    def rows(self, rule: str) -> list[dict[str, Any]]:
        return self._rows[rule]


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Money as DuckDB hands it over: a double even when whole."""
    if row.get("monthly_minor") is not None:
        row["monthly_minor"] = float(row["monthly_minor"])
    return row


def answers(rows: dict[str, list[dict[str, Any]]], plan: Plan) -> SparkAnswers:
    return SparkAnswers(rows, plan)
