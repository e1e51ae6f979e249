"""Rules run, and their rows turned into findings with money, evidence and exceptions.

Each applicable rule's query becomes a stage of its own (``<kind>_rows``); the
evidence for the rows reported (money, access fields, subscriptions) is computed
once over all of them (:data:`~billdrift.core.rules.stages.REPORTED_STAGES`); then each
rule's rows are fetched in report order, worded and with their evidence as JSON, all
in SQL, and handed to the report as columns (:class:`~billdrift.core.found.Found`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core import pipeline
from billdrift.core.found import FIX_COLUMN, MESSAGE_COLUMN, Found, rows_of
from billdrift.core.model import Finding
from billdrift.core.pipeline import Stage
from billdrift.core.report import Suppressed
from billdrift.core.rules.base import Row, Rule, RuleContext
from billdrift.core.rules.shape import EVIDENCE_COLUMN, evaluate, evidence_sql
from billdrift.core.rules.stages import REPORTED_STAGES
from billdrift.core.rules.wording import to_sql, to_text
from billdrift.core.sql import natural_order, sql
from billdrift.infra.duck import quote_identifier, sql_string

#: ``reported`` when no rule applies.
_NO_KEYS = (
    "SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS customer_id, "
    "CAST(NULL AS VARCHAR) AS subscription_id LIMIT 0"
)

#: The money of a rule whose findings carry none (``Rule.exposure`` false).
_NO_MONEY = (
    "(SELECT CAST(NULL AS VARCHAR) AS subscription_id, CAST(NULL AS DOUBLE) AS monthly_minor, "
    "CAST(NULL AS VARCHAR) AS currency LIMIT 0)"
)

#: One rule's keys, for the evidence stages (REPORTED_STAGES) over every rule's.
_KEYS = """
SELECT CAST(account_id AS VARCHAR) AS account_id, CAST(customer_id AS VARCHAR) AS customer_id,
       CAST(subscription_id AS VARCHAR) AS subscription_id
FROM {rows}"""

#: One rule's reported rows with money, evidence strings and exceptions, in
#: report order.
_REPORTED_ROWS = """
SELECT {columns},
  money.monthly_minor, money.currency, af.fields AS app_fields,
  cs.all_subscriptions, {suppressed_by} AS suppressed_by
FROM {rows} f
LEFT JOIN {money} money ON money.subscription_id = f.subscription_id
LEFT JOIN reported_fields af ON af.account_id = f.account_id
LEFT JOIN reported_subscriptions cs ON cs.customer_id = f.customer_id
ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, {key_order},
         f.account_id NULLS LAST, f.customer_id NULLS LAST, f.subscription_id NULLS LAST
"""

#: The exception that suppresses a reported row, if any (the first reason by name).
_SUPPRESSED_BY = """(SELECT min(e.reason) FROM live_exceptions e
   WHERE (e.account IS NULL OR e.account = f.account_id)
     AND (e.customer IS NULL OR e.customer = f.customer_id)
     AND (e.kind IS NULL OR e.kind = {kind}))"""

#: The exceptions in force at ``params.as_of``, the ones a reported row may be
#: suppressed by. A stage of its own rather than read from the policy relations by
#: every rule's fetch: the fetches run side by side on cursors (:func:`_fetch_all`),
#: and a cursor sees the database's tables but not the relations registered on the
#: connection that made it.
LIVE_EXCEPTIONS = Stage(
    "live_exceptions",
    ("exceptions", "params"),
    """
SELECT e.account, e.customer, e.kind, e.reason
FROM exceptions e CROSS JOIN params p
WHERE e.expires IS NULL OR e.expires > p.as_of
""",
)

#: :data:`_SUPPRESSED_BY` when the policy lists no exception: the subquery, planned and
#: run for every rule, cost about a tenth of fetching a rule's rows at 1M (issue 17).
_NONE_SUPPRESSED = "CAST(NULL AS VARCHAR)"

#: A column as it is.
_COLUMN = "f.{column} AS {column}"

#: A timestamp column as ISO-8601 UTC text to the second.
_INSTANT = "strftime(timezone('UTC', f.{column}), '%Y-%m-%dT%H:%M:%SZ') AS {column}"

#: A decimal column (confidences) as a double, in-process: a Python ``Decimal`` per
#: cell was half the cost of turning a rule's rows into Python (issue 17), and every
#: reader takes ``float()`` of it (the finding's confidence, the evidence's numbers).
_DOUBLE = "CAST(f.{column} AS DOUBLE) AS {column}"


#: The columns of every rule stage, in one statement (a 10-row check is mostly such
#: per-statement costs): relation, column name, type, in column order.
_COLUMNS = """
SELECT table_name, column_name, data_type FROM duckdb_columns()
WHERE database_name = current_database() AND schema_name = current_schema()
  AND table_name IN ({names})
ORDER BY table_name, column_index
"""


def _select_lists(
    con: duckdb.DuckDBPyConnection, relations: Sequence[str], doubles: bool
) -> dict[str, tuple[str, frozenset[str]]]:
    """Each relation's every column, timestamps as ISO-8601 UTC text to the second:
    formatted by the database in bulk, since building a Python datetime per cell
    was most of the cost of turning rows into findings; with `doubles`, decimals
    as doubles (see :data:`_DOUBLE`). With the select list, the columns' names."""
    names = ", ".join(sql_string(name) for name in relations)
    columns: dict[str, list[str]] = {name: [] for name in relations}
    named: dict[str, set[str]] = {name: set() for name in relations}
    for relation, name, kind in con.execute(sql(_COLUMNS, names=names or "NULL")).fetchall():
        kind = str(kind).upper()
        template = _COLUMN
        if kind.startswith("TIMESTAMP"):
            template = _INSTANT
        elif doubles and kind.startswith("DECIMAL"):
            template = _DOUBLE
        columns[relation].append(sql(template, column=quote_identifier(name)))
        named[relation].add(str(name))
    return {
        relation: (", ".join(items), frozenset(named[relation]))
        for relation, items in columns.items()
    }


def _rows(rule: Rule) -> str:
    """The relation holding a rule's rows."""
    return rule.kind.value + "_rows"


def rule_stages(rules: Sequence[Rule]) -> list[Stage]:
    """The stages that run `rules`: each rule's rows, ``reported`` (every rule's
    keys), the evidence stages over it and the exceptions in force."""
    names = [_rows(rule) for rule in rules]
    keys = "\nUNION ALL".join(sql(_KEYS, rows=name) for name in names)
    return [
        *(Stage(_rows(rule), rule.reads, rule.query) for rule in rules),
        Stage("reported", tuple(names), keys or _NO_KEYS),
        *REPORTED_STAGES,
        LIVE_EXCEPTIONS,
    ]


#: The columns :data:`_REPORTED_ROWS` adds to a rule's own.
_ADDED = frozenset(
    {"monthly_minor", "currency", "app_fields", "all_subscriptions", "suppressed_by"}
)


def _reported(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], exceptions: bool, in_process: bool
) -> list[tuple[str, frozenset[str]]]:
    """Each rule's reported-rows query (see :func:`reported_queries`) and its columns."""
    select_lists = _select_lists(con, [_rows(rule) for rule in rules], doubles=in_process)
    return [
        (
            sql(
                _REPORTED_ROWS,
                columns=select_lists[_rows(rule)][0],
                suppressed_by=sql(_SUPPRESSED_BY, kind=sql_string(rule.kind.value))
                if exceptions
                else _NONE_SUPPRESSED,
                rows=_rows(rule),
                money="reported_money" if rule.exposure else _NO_MONEY,
                # ids ordered naturally (core.sql.natural_order): "2, 6, 19", not "19, 2, 6"
                key_order=natural_order(f"f.{quote_identifier(rule.key)}"),
            ),
            select_lists[_rows(rule)][1] | _ADDED,
        )
        for rule in rules
    ]


def reported_queries(
    con: duckdb.DuckDBPyConnection,
    rules: Sequence[Rule],
    *,
    exceptions: bool = True,
    in_process: bool = False,
) -> list[str]:
    """Each rule's reported rows with money, evidence and exceptions, in report order
    (the rule stages must exist in `con`: their columns decide the select list).
    Without `exceptions` (the policy lists none) no row is suppressed; `in_process`
    gives decimals as doubles (the engine's own fetch, :data:`_DOUBLE`)."""
    return [query for query, _ in _reported(con, rules, exceptions, in_process)]


#: A rule's reported rows with their evidence as JSON text and their message and fix,
#: computed over all rows at once (:mod:`billdrift.core.rules.shape`,
#: :mod:`billdrift.core.rules.wording`). A projection of the ordered rows: DuckDB
#: keeps their order (insertion order is preserved on every connection).
_WORDED = """SELECT f.*, {evidence} AS {evidence_column}, {message} AS {message_column},
  {fix} AS {fix_column} FROM ({query}) f"""


def worded(rule: Rule, query: str, columns: frozenset[str]) -> str:
    """`query` (a rule's reported rows, whose columns are `columns`) with each row's
    evidence added as JSON, and its message and fix as text."""
    return sql(
        _WORDED,
        evidence=evidence_sql(rule.evidence),
        evidence_column=EVIDENCE_COLUMN,
        message=to_sql(rule.message, columns),
        message_column=MESSAGE_COLUMN,
        fix=to_sql(rule.fix, columns),
        fix_column=FIX_COLUMN,
        query=query,
    )


def build(
    rule: Rule, rows: Iterable[Row], findings: list[Finding], suppressed: list[Suppressed]
) -> None:
    """Word `rule`'s reported rows as findings, each kept or suppressed by its exception
    (a pushed-down run's rows, in Python)."""
    for row in rows:
        built = rule.build(row)
        if row["suppressed_by"] is None:
            findings.append(built)
        else:
            suppressed.append(Suppressed(built, row["suppressed_by"]))


#: A rule with at most this many reported rows has its evidence and words made in
#: Python from the fetched rows (the same templates, :func:`worded_in_python`), not in
#: SQL: planning a rule's evidence and word expressions costs DuckDB about 8 ms
#: whatever the rows, while Python takes about 12 us a row more than SQL (issue 17:
#: a 10-row check spent 0.08 of its 0.55 s planning them). Identical text either way:
#: tests/core/test_columnar_evidence.py holds every labelled case's rows to it.
WORDED_IN_PYTHON_MAX = 500


def worded_in_python(rule: Rule, table: pa.Table) -> pa.Table:
    """A rule's reported rows (fetched without them) with the columns :func:`worded` adds
    in SQL, made in Python from the same declarations: evidence as compact JSON text,
    message and fix."""
    rows = rows_of(table)
    evidence = [orjson.dumps(evaluate(rule.evidence, row)).decode() for row in rows]
    added = {
        EVIDENCE_COLUMN: evidence,
        MESSAGE_COLUMN: [to_text(rule.message, row) for row in rows],
        FIX_COLUMN: [to_text(rule.fix, row) for row in rows],
    }
    for name, values in added.items():
        table = table.append_column(name, pa.array(values, pa.string()))
    return table


def run_rules(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], context: RuleContext, relations: set[str]
) -> tuple[Found, list[Suppressed]]:
    """Run every rule, then add money, evidence, words and exceptions to the reported
    rows only: each of those is one pass for all rules together, and each rule's rows
    come back as columns (no Python object per finding unless one is asked for)."""
    created = pipeline.run(con, rule_stages(rules), context, relations)
    reported = _reported(con, rules, bool(context.policy.exceptions), in_process=True)
    counts = [created[_rows(rule)] for rule in rules]
    jobs: list[tuple[str, Finish]] = [
        (query, partial(worded_in_python, rule))
        if count <= WORDED_IN_PYTHON_MAX
        else (worded(rule, query, columns), _as_orjson_writes)
        for rule, (query, columns), count in zip(rules, reported, counts, strict=True)
    ]
    parts: list[tuple[Rule, pa.Table]] = []
    suppressed: list[Suppressed] = []
    for rule, table in zip(rules, _fetch_all(con, jobs), strict=True):
        excused = pc.is_valid(table.column("suppressed_by"))
        if pc.any(excused).as_py():
            suppressed += [
                Suppressed(rule.build(row), row["suppressed_by"])
                for row in rows_of(table.filter(excused))
            ]
            table = table.filter(pc.invert(excused))
        parts.append((rule, table))
    return Found.of_rules(parts), suppressed


#: Columns of the reported rows that only the evidence reads (no rule's words do):
#: once the database has computed the evidence, they are not kept for the finding
#: objects a reader may ask for (a quarter of the rows' memory at 1M, issue 17).
#: ``tests/core/test_columnar_evidence.py`` words every labelled case's rows with and
#: without them and requires the same findings.
EVIDENCE_ONLY = frozenset(
    {
        "source_ref",
        "billing_source_ref",
        "all_subscriptions",
        "entitles",
        "state",
        "decision",
        "cancel_at_period_end",
        "match_confidence",
    }
)


#: What finishes a fetched rule's rows: words them in Python, or rewrites SQL's texts.
Finish = Callable[[pa.Table], pa.Table]

#: The number of DuckDB's worker threads on a connection.
_THREADS = "SELECT current_setting('threads')"


def _fetch_all(
    con: duckdb.DuckDBPyConnection, jobs: Sequence[tuple[str, Finish]]
) -> list[pa.Table]:
    """Each job's rows as :func:`_fetch` gives them, in the jobs' order. Fetching a
    rule's rows is mostly work on one thread (ordering a few thousand rows, writing
    their evidence), so with several rules the fetches run side by side, one cursor
    per DuckDB thread (at 1M x 1M, nine rules fetched in 0.34 s one after another
    and 0.21 s on two cursors, issue 17). The queries read only tables of `con`'s
    database (stages), which is all a cursor sees."""
    workers = min(len(jobs), pipeline.scalar(con, _THREADS))
    if workers < 2:
        return [_fetch(con, query, then) for query, then in jobs]
    local = threading.local()
    cursors: list[duckdb.DuckDBPyConnection] = []

    def fetch(job: tuple[str, Finish]) -> pa.Table:
        cursor: duckdb.DuckDBPyConnection | None = getattr(local, "cursor", None)
        if cursor is None:
            cursor = local.cursor = con.cursor()
            cursors.append(cursor)
        return _fetch(cursor, *job)

    try:
        with ThreadPoolExecutor(workers, thread_name_prefix="fetch") as pool:
            return list(pool.map(fetch, jobs))
    finally:
        for cursor in cursors:
            cursor.close()


def _fetch(
    con: duckdb.DuckDBPyConnection,
    query: str,
    then: Finish | None = None,
) -> pa.Table:
    """A query's rows as Arrow columns as `then` finishes them (the evidence and words
    made in Python, or SQL's evidence text made orjson's), without the columns only the
    evidence read (:data:`EVIDENCE_ONLY`)."""
    table = con.sql(query).to_arrow_table()
    if then is not None:
        table = then(table)
    return table.drop_columns([name for name in table.column_names if name in EVIDENCE_ONLY])


def _as_orjson_writes(table: pa.Table) -> pa.Table:
    """The evidence texts SQL wrote, exactly as ``orjson.dumps`` writes them (and
    :func:`worded_in_python` makes them): DuckDB escapes a control character in a value
    with upper-case hex (``\\u001B``), orjson with lower case (``\\u001b``). Only the
    rare texts holding an escape are written again: the JSON and CSV documents and the
    history store's text digests take the text as it is, and must not depend on how it
    was made."""
    texts = table.column(EVIDENCE_COLUMN)
    escaped = pc.match_substring(texts, "\\u00")
    if not pc.any(escaped).as_py():
        return table
    rewritten = [
        orjson.dumps(orjson.loads(text)).decode() if again else text
        for text, again in zip(texts.to_pylist(), escaped.to_pylist(), strict=True)
    ]
    index = table.column_names.index(EVIDENCE_COLUMN)
    return table.set_column(index, EVIDENCE_COLUMN, pa.array(rewritten, pa.string()))
