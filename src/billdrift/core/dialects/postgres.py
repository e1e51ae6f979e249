"""The plan in PostgreSQL's SQL: one read-only statement, findings only coming back.

PostgreSQL refuses ``CREATE TEMP TABLE`` and ``CREATE TEMP VIEW`` inside a
read-only transaction, and billdrift's sessions are read-only at the server
(:mod:`billdrift.infra.db.postgres`). So the whole plan is one ``WITH`` statement:
each canonical relation, policy relation, stage and rule is a common table
expression in execution order (PostgreSQL materializes the ones read more than
once, as the in-process engine does with its tables), and the one row it
returns is a JSON document holding the answer to every question the report asks
and each rule's reported rows with their evidence. One statement also means one
snapshot: the app tables and the mirror are read as of the same instant.

sqlglot transpiles the stages (DuckDB SQL) as written; three constructs have no
shared spelling and are rewritten here:

* lists of structs (``list({'field': f, 'value': v} ORDER BY f)``, the evidence
  lists) become ``json_agg(json_build_object(...))``: JSON is what comes back anyway;
* the natural order of ids (:func:`billdrift.core.sql.natural_order`, a DuckDB
  lambda over ``regexp_extract_all``) becomes an ``ARRAY(SELECT ... FROM
  regexp_matches(...) WITH ORDINALITY)`` of the same keys, compared bytewise
  (``COLLATE "C"``) as DuckDB compares text;
* ``strftime(timezone('UTC', x), '%Y-%m-%dT%H:%M:%SZ')`` becomes ``to_char``
  with PostgreSQL's pattern (sqlglot's mapping reads ``TH`` as an ordinal suffix).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import orjson

from billdrift.core.dialects.answers import PlanAnswers
from billdrift.core.plan import Output, Plan
from billdrift.core.sql import sql
from billdrift.errors import ConfigError

NAME = "postgres"

#: DuckDB's ISO-8601 UTC format (billdrift.core.findings) in to_char's pattern language.
_ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_TO_CHAR_ISO = 'YYYY-MM-DD"T"HH24:MI:SS"Z"'

#: The natural-order key of an id, as billdrift.core.sql.natural_order computes it.
_NATURAL_KEY = """CASE WHEN {column} IS NULL THEN NULL ELSE ARRAY(
  SELECT CASE WHEN part.m[1] ~ '^[0-9]+$'
              THEN lpad(CAST(length(ltrim(part.m[1], '0')) AS TEXT), 5, '0')
                   || ltrim(part.m[1], '0')
              ELSE part.m[1] END COLLATE "C"
  FROM regexp_matches({column}, '[0-9]+|[^0-9]+', 'g') WITH ORDINALITY AS part(m, n)
  ORDER BY part.n) END"""


@functools.lru_cache(maxsize=1024)
def compile(query: str) -> str:
    """One DuckDB query as PostgreSQL SQL; a construct sqlglot cannot carry over
    raises, naming it, rather than producing SQL that means something else."""
    import sqlglot
    from sqlglot import exp

    naturals: set[str] = set()

    def rewrite(node: Any) -> Any:
        if isinstance(node, exp.Transform) and isinstance(node.this, exp.RegexpExtractAll):
            column = node.this.this.sql(dialect="postgres")
            naturals.add(column)
            return sqlglot.parse_one(sql(_NATURAL_KEY, column=column), read="postgres")
        return _rewrite(node)

    tree = sqlglot.parse_one(query, read="duckdb").transform(rewrite, copy=False)
    for ordered in tree.find_all(exp.Ordered):
        # an id ordered naturally is then ordered by itself: bytewise, as DuckDB does
        if isinstance(ordered.this, exp.Column) and ordered.this.sql("postgres") in naturals:
            collated = exp.Collate(
                this=ordered.this.copy(), expression=exp.Identifier(this="C", quoted=True)
            )
            ordered.set("this", collated)
    try:
        return str(tree.sql(dialect="postgres", unsupported_level=sqlglot.ErrorLevel.RAISE))
    except sqlglot.errors.UnsupportedError as error:  # pragma: no cover - a stage bug
        raise ConfigError(f"a stage cannot be compiled for PostgreSQL: {error}") from None


def _rewrite(node: Any) -> Any:
    """Lists of structs as JSON, and the ISO instant format (module docstring)."""
    from sqlglot import exp

    if isinstance(node, exp.ArrayAgg) and _holds_struct(node):
        inner = node.this
        if isinstance(inner, exp.Order):
            inner.set("this", _rewrite(inner.this))
        else:
            inner = _rewrite(inner)
        return exp.Anonymous(this="json_agg", expressions=[inner])
    if isinstance(node, exp.Array) and any(isinstance(e, exp.Struct) for e in node.expressions):
        return exp.Anonymous(
            this="json_build_array", expressions=[_rewrite(e) for e in node.expressions]
        )
    if isinstance(node, exp.Struct):
        pairs: list[exp.Expression] = []
        for item in node.expressions:
            if not isinstance(item, exp.PropertyEQ):  # pragma: no cover - all fields named
                raise ConfigError(f"unnamed struct field in {node.sql('duckdb')}")
            pairs += [exp.Literal.string(item.this.name), item.expression]
        return exp.Anonymous(this="json_build_object", expressions=pairs)
    if isinstance(node, exp.TimeToStr):
        if node.args["format"].name != _ISO_FORMAT:  # pragma: no cover - one format is used
            raise ConfigError(f"unsupported time format in {node.sql('duckdb')}")
        return exp.Anonymous(
            this="to_char", expressions=[node.this, exp.Literal.string(_TO_CHAR_ISO)]
        )
    return node


def _holds_struct(node: Any) -> bool:
    from sqlglot import exp

    inner = node.this.this if isinstance(node.this, exp.Order) else node.this
    return isinstance(inner, exp.Struct)


def _relations(plan: Plan, canonical: dict[str, str]) -> list[tuple[str, str]]:
    """Every common table expression, in the order it may be read: name, PostgreSQL SQL."""
    missing = [name for name in plan.canonical if name not in canonical]
    if missing:  # pragma: no cover - the sources layer defines all four
        raise ConfigError(f"the target defines no {', '.join(missing)}")
    # helpers the canonical relations read come first (a mirror's decoded records)
    helpers = [name for name in canonical if name not in (*plan.canonical, *plan.relations)]
    ctes = [(name, canonical[name]) for name in (*helpers, *plan.canonical)]
    # an input relation the caller defines itself (in PostgreSQL's SQL) wins
    ctes += [
        (name, canonical.get(name) or compile(query)) for name, query in plan.relations.items()
    ]
    ctes += [(step.name, compile(step.portable())) for step in plan.steps]
    return ctes


def _answer(output: Output) -> str:
    """A question as a JSON array of positional rows; a rule's rows as JSON objects
    (in the order the query gives them)."""
    compiled = compile(output.query)
    if output.name.startswith("q"):
        aliases = ", ".join(f"c{i}" for i in range(output.columns))
        values = ", ".join(f"x.c{i}" for i in range(output.columns))
        return (
            f"(SELECT coalesce(json_agg(json_build_array({values})), '[]'::json)\n"
            f" FROM (\n{compiled}\n) AS x({aliases}))"
        )
    return f"(SELECT coalesce(json_agg(row_to_json(x)), '[]'::json)\n FROM (\n{compiled}\n) AS x)"


def statement(
    plan: Plan, canonical: dict[str, str], extras: Mapping[str, str] | None = None
) -> str:
    """The plan as one PostgreSQL statement returning one JSON text value.

    `extras` are further one-row queries (PostgreSQL SQL, over the same relations)
    whose row comes back beside the answers as an object under its name
    (:attr:`.answers.PlanAnswers.extras`): a source's checks of its own rows then
    read the same snapshot as the plan, in the same pass over the data."""
    ctes = ",\n".join(f'"{name}" AS (\n{query}\n)' for name, query in _relations(plan, canonical))
    outputs = [
        f"'{output.name}', {_answer(output)}" for output in (*plan.questions, *plan.reported)
    ]
    outputs += [
        f"'{name}', (SELECT row_to_json(x) FROM (\n{query}\n) AS x)"
        for name, query in (extras or {}).items()
    ]
    body = ",\n".join(outputs)
    return f"WITH {ctes}\nSELECT CAST(json_build_object(\n{body}\n) AS TEXT)"


def explain(plan: Plan, canonical: dict[str, str]) -> str:
    """Each relation the statement defines, in order, in PostgreSQL's SQL, with the
    policy values written in; then what comes back."""
    parts = [
        "-- billdrift plan for PostgreSQL: one read-only statement (WITH ... SELECT); each",
        "-- relation below is one of its common table expressions, in execution order.",
    ]
    kinds = {name: "canonical input" for name in plan.canonical}
    kinds.update({name: "policy / input" for name in plan.relations})
    for name, query in _relations(plan, canonical):
        parts += ["", f"-- {name} ({kinds.get(name, 'stage')})", f"{query};"]
    parts += ["", "-- returned: one JSON document with these answers, nothing else"]
    for output in (*plan.questions, *plan.reported):
        what = "question" if output.name.startswith("q") else "reported rows of rule"
        parts += ["", f"-- {what} {output.name}", f"{compile(output.query)};"]
    return "\n".join(parts) + "\n"


def answers(result: str, plan: Plan) -> PlanAnswers:
    """The statement's JSON document as the plan's answers; the rows of the
    statement's `extras` are kept by name (:attr:`PlanAnswers.extras`)."""
    document: dict[str, Any] = orjson.loads(result)
    return PlanAnswers(document, plan)
