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
Then every question the report asks and each rule's reported rows come back through
one gathering query (:func:`gathered`), one Spark job for all of them; its rows
(findings only) are the only data that reaches the driver. Nothing
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
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from billdrift.core.dialects.answers import PlanAnswers
from billdrift.core.plan import Output, Plan
from billdrift.errors import ConfigError

NAME = "spark"

#: Session settings the plan's semantics rely on (a runner applies them first).
SESSION_CONF = {
    # instants are read and formatted in UTC, as DuckDB's timezone('UTC', x) does
    "spark.sql.session.timeZone": "UTC",
    # ANSI mode makes a failed cast an error; the stages rely on NULL, as DuckDB's TRY_CAST
    "spark.sql.ansi.enabled": "false",
    # the gathering query (:func:`gathered`) is a UNION ALL of branches, some of them
    # sort-merge joins over checkpointed stages; with the union reporting its
    # children's partitioning, Spark 4.3 zipped RDDs of 2 and 4 partitions and failed
    # ("Can't zip RDDs with unequal numbers of partitions"): concatenate instead
    "spark.sql.unionOutputPartitioning": "false",
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
        "-- then the queries whose rows (findings only) come back to the driver, run as",
        "-- one UNION ALL of JSON rows (each output's ORDER BY kept as a row_number()).",
    ]
    for item in statements(plan, canonical):
        parts += ["", f"-- {item.name}", f"{item.text};"]
    parts += ["", "-- returned: these rows, nothing else"]
    for out in (*plan.questions, *plan.reported):
        what = "question" if out.name.startswith("q") else "reported rows of rule"
        parts += ["", f"-- {what} {out.name}", f"{output(out)};"]
    return "\n".join(parts) + "\n"


#: What the gathering query returns per row: the output's name, the row's place in
#: the output's order, the row as JSON.
Gathered = tuple[str, int, str]


def gathered(plan: Plan) -> str:
    """Every question and every rule's rows in ONE query (a UNION ALL), so that all of
    them come back in one Spark job instead of one job (or several) each: per job,
    Spark's fixed cost dwarfs a check's findings. Each row is JSON (nulls kept) beside
    its output's name and its place in the output's ORDER BY, which becomes a
    ``row_number()`` (a union's rows have no order of their own)."""
    return "\nUNION ALL\n".join(_branch(item) for item in (*plan.questions, *plan.reported))


def _branch(item: Output) -> str:
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(output(item), read="spark")
    if not isinstance(tree, exp.Select):  # pragma: no cover - every output is one SELECT
        raise ConfigError(f"an output is not one SELECT: {item.query}")
    order = tree.args.get("order")
    tree.set("order", None)
    if item.name.startswith("q"):  # a question's rows are positional: name its columns
        names = [f"c{index}" for index in range(item.columns)]
        aliased = [exp.alias_(e.unalias(), n) for e, n in zip(tree.expressions, names, strict=True)]
        tree.set("expressions", aliased)
    else:
        names = list(tree.named_selects)
    place = exp.Window(this=exp.RowNumber(), order=order) if order else exp.Literal.number(0)
    tree.select(exp.alias_(place, "bd_place"), copy=False)
    fields = ", ".join(f"`{name}`" for name in names)
    return (
        f"SELECT '{item.name}' AS bd_output, bd_place, "
        f"to_json(struct({fields}), map('ignoreNullFields', 'false')) AS bd_row\n"
        f"FROM ({tree.sql(dialect='spark')}) AS bd_x"
    )


def decode(collected: Iterable[Gathered], plan: Plan) -> PlanAnswers:
    """The gathering query's rows (:func:`gathered`) as the plan's answers."""
    rows: dict[str, list[tuple[int, dict[str, Any]]]] = {
        item.name: [] for item in (*plan.questions, *plan.reported)
    }
    for name, place, row in collected:
        rows[name].append((place, orjson.loads(row)))
    return answers(
        {name: [row for _, row in sorted(found, key=_place)] for name, found in rows.items()}, plan
    )


def _place(found: tuple[int, dict[str, Any]]) -> int:
    return found[0]


def answers(rows: dict[str, list[dict[str, Any]]], plan: Plan) -> PlanAnswers:
    """Each output's rows (plain values, in order) as the plan's answers."""
    return PlanAnswers(rows, plan)
