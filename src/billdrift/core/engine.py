"""Canonical relations in, Report out. No printing, no exits, no network.

The engine loads the relations into an in-process DuckDB database, builds the
shared stages (:mod:`billdrift.core.rules.stages`) and every applicable rule's rows
in the order their declarations imply (:mod:`billdrift.core.pipeline`), applies
exceptions and decides the verdict. Partial data is judged here, before
any finding is produced, so a broken export yields ERROR rather than a flood.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core import pipeline
from billdrift.core.model import (
    APP_ACCESS_SIGNALS,
    APP_ACCOUNTS,
    BILLING_ITEMS,
    BILLING_SUBSCRIPTIONS,
    AppData,
    BillingData,
    Finding,
    Skip,
    Verdict,
)
from billdrift.core.pipeline import Stage
from billdrift.core.policy import Policy
from billdrift.core.policy_tables import policy_tables
from billdrift.core.report import Report, SourceInfo, Suppressed, decide_verdict
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Rule, RuleContext
from billdrift.core.rules.stages import REPORTED_STAGES, STAGES
from billdrift.core.sql import identifier, literal, sql
from billdrift.infra import duck
from billdrift.infra.ordinals import ordinals

_NO_KEYS = (
    "SELECT CAST(NULL AS VARCHAR) AS account_id, CAST(NULL AS VARCHAR) AS customer_id, "
    "CAST(NULL AS VARCHAR) AS subscription_id LIMIT 0"
)
_NO_MONEY = (
    "SELECT CAST(NULL AS VARCHAR) AS subscription_id, CAST(NULL AS DOUBLE) AS monthly_minor, "
    "CAST(NULL AS VARCHAR) AS currency LIMIT 0"
)

#: The relations the workspace holds before any stage runs, besides the policy's.
_INPUTS = (
    "billing_subscriptions",
    "billing_items",
    "billing_repeats",
    "app_accounts",
    "app_access_signals",
    "unreadable_rows",
)


@dataclass(frozen=True)
class Inputs:
    """Everything one run reconciles."""

    billing: Sequence[BillingData]
    app: AppData
    policy: Policy
    as_of: datetime


def _conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Select and cast to the canonical schema; a source bug must fail loudly here."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{what} lacks canonical columns {missing}")
    return table.select(schema.names).cast(schema)


def _load_billing(con: duckdb.DuckDBPyConnection, billing: Sequence[BillingData]) -> int:
    """Expose the billing relations, each subscription once. Returns how many
    subscription rows were dropped as repeats (overlapping exports, repeated rows)."""
    subscriptions = [
        _conform(data.subscriptions, BILLING_SUBSCRIPTIONS, "billing subscriptions")
        for data in billing
    ]
    items = [_conform(data.items, BILLING_ITEMS, "billing items") for data in billing]
    every = _concat(subscriptions, BILLING_SUBSCRIPTIONS)
    con.register("billing_subscriptions_input", every)
    repeats = _scalar(
        con, "SELECT count(*) - count(DISTINCT subscription_id) FROM billing_subscriptions_input"
    )
    if repeats == 0:  # the common case: scan the sources' Arrow tables in place
        con.register("billing_subscriptions", every)
        con.register("billing_items", _concat(items, BILLING_ITEMS))
        return 0
    # The first input, then the first row, that has a subscription wins; the
    # items kept are those that input lists for it. Only now are rows tagged with
    # their input and position: two million-row columns nobody needs otherwise.
    con.register(
        "billing_subscriptions_tagged",
        _concat(
            [
                subs.append_column("input", pa.repeat(ordinal, subs.num_rows)).append_column(
                    "row", ordinals(subs.num_rows)
                )
                for ordinal, subs in enumerate(subscriptions)
            ],
            BILLING_SUBSCRIPTIONS.append(pa.field("input", pa.int64())).append(
                pa.field("row", pa.int64())
            ),
        ),
    )
    con.register(
        "billing_items_tagged",
        _concat(
            [
                its.append_column("input", pa.repeat(ordinal, its.num_rows))
                for ordinal, its in enumerate(items)
            ],
            BILLING_ITEMS.append(pa.field("input", pa.int64())),
        ),
    )
    con.execute(
        """
        CREATE TABLE billing_subscriptions AS
        SELECT * EXCLUDE (input, row, copy) FROM (
          SELECT *, row_number() OVER (PARTITION BY subscription_id ORDER BY input, row)
                 AS copy
          FROM billing_subscriptions_tagged) WHERE copy = 1;
        CREATE TABLE billing_items AS
        SELECT i.* EXCLUDE (input) FROM billing_items_tagged i
        WHERE i.input = (SELECT min(t.input) FROM billing_subscriptions_tagged t
                         WHERE t.subscription_id = i.subscription_id);
        """
    )
    return repeats


def _concat(tables: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _aligned_access(accounts: pa.Table, signals: pa.Table) -> pa.Table | None:
    """The :data:`ACCOUNT_ACCESS` relation built without a join, when the primary
    signals list exactly the accounts in the same order (as every bundled app source
    writes them); None otherwise, and the engine joins instead."""
    primary = signals.filter(signals.column("is_primary"))
    if primary.num_rows != accounts.num_rows:
        return None
    same = pc.all(pc.equal(primary.column("account_id"), accounts.column("account_id")))
    if same.as_py() is False:  # null: no accounts at all
        return None
    for name, column in (
        ("field", "access_field"),
        ("kind", "access_kind"),
        ("raw", "access_raw"),
        ("flag", "access_flag"),
    ):
        accounts = accounts.append_column(column, primary.column(name))
    return accounts


def _unreadable_rows(inputs: Inputs) -> pa.Table:
    """Customers named by rows that could not be read, per side."""
    datasets: list[BillingData | AppData] = [*inputs.billing, inputs.app]
    skips = [s for data in datasets for s in data.skips if s.customer_id]
    return pa.table(
        {
            "side": pa.array([s.side for s in skips], pa.string()),
            "customer_id": pa.array([s.customer_id for s in skips], pa.string()),
        }
    )


@contextmanager
def workspace(inputs: Inputs) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection holding the canonical relations and every derived stage.

    Exposed for tests and for tools that want to inspect intermediate relations.
    """
    with _workspace(inputs) as (con, _):
        yield con


@contextmanager
def _workspace(inputs: Inputs) -> Iterator[tuple[duckdb.DuckDBPyConnection, set[str]]]:
    """The connection of :func:`workspace` and the names of the relations it holds."""
    con = duck.connect()
    try:
        repeats = _load_billing(con, inputs.billing)
        con.register("billing_repeats", pa.table({"n": pa.array([repeats], pa.int64())}))
        accounts = _conform(inputs.app.accounts, APP_ACCOUNTS, "app accounts")
        signals = _conform(inputs.app.signals, APP_ACCESS_SIGNALS, "app access signals")
        con.register("app_accounts", accounts)
        con.register("app_access_signals", signals)
        con.register("unreadable_rows", _unreadable_rows(inputs))
        provided = set(_INPUTS)
        for name, table in policy_tables(inputs.policy, inputs.as_of).items():
            con.register(name, table)
            provided.add(name)
        aligned = _aligned_access(accounts, signals)
        if aligned is not None:  # the account_access stage's rows, without its join
            con.register("account_access", aligned)
            provided.add("account_access")
        stages = [stage for stage in STAGES if stage.name not in provided]
        pipeline.run(con, stages, _context(inputs), provided)
        yield con, provided | {stage.name for stage in stages}
    finally:
        con.close()


def _context(inputs: Inputs) -> RuleContext:
    return RuleContext(inputs.policy, inputs.app.mapping)


def _scalar(con: duckdb.DuckDBPyConnection, query: str) -> int:
    """A one-value query's value (0 for NULL), its result consumed to the end: DuckDB
    refuses to register a relation while a result is still open."""
    rows = con.execute(query).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _partial_data_errors(con: duckdb.DuckDBPyConnection, inputs: Inputs) -> list[str]:
    """Reasons to refuse reconciling: judging partial data reports noise or a false PASS."""
    policy = inputs.policy
    errors = []
    subscriptions = _scalar(con, "SELECT count(*) FROM billing_subscriptions")
    accounts = _scalar(con, "SELECT count(*) FROM app_accounts")
    if subscriptions == 0:
        errors.append("the billing data holds no subscriptions: nothing to reconcile against")
    if accounts == 0:
        errors.append("the app data holds no accounts: nothing to reconcile")
    for side, datasets, rows in (
        ("billing", inputs.billing, subscriptions),
        ("app", [inputs.app], accounts),
    ):
        skipped = sum(len(data.skips) for data in datasets)
        if skipped and skipped > policy.max_skipped_ratio * (rows + skipped):
            errors.append(
                f"{skipped} of {rows + skipped} {side} rows could not be read (more than "
                f"policy.max_skipped_ratio = {policy.max_skipped_ratio:g}); see the skipped rows"
            )
    if subscriptions:
        linked = _scalar(con, "SELECT count(customer_id) FROM app_accounts")
        stale = linked - _scalar(
            con, "SELECT count(*) FROM account_state WHERE match_method = 'customer_id'"
        )
        if linked >= policy.partial_min_links and stale > policy.partial_max_missing_ratio * linked:
            errors.append(
                f"{stale} of {linked} accounts link to customers the billing data does not "
                "contain: the billing data looks partial (wrong account or mode, an export "
                "without canceled subscriptions, a truncated file)"
            )
    return errors


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
  cs.all_subscriptions,
  (SELECT min(e.reason) FROM exceptions e CROSS JOIN params p
   WHERE (e.account IS NULL OR e.account = f.account_id)
     AND (e.customer IS NULL OR e.customer = f.customer_id)
     AND (e.kind IS NULL OR e.kind = {kind})
     AND (e.expires IS NULL OR e.expires > p.as_of)) AS suppressed_by
FROM {rows} f
LEFT JOIN {money} money ON money.subscription_id = f.subscription_id
LEFT JOIN reported_fields af ON af.account_id = f.account_id
LEFT JOIN reported_subscriptions cs ON cs.customer_id = f.customer_id
ORDER BY CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END,
         f.account_id NULLS LAST, f.customer_id NULLS LAST, f.subscription_id NULLS LAST
"""

_COLUMN = "f.{column} AS {column}"
#: A timestamp column as ISO-8601 UTC text to the second.
_INSTANT = "strftime(timezone('UTC', f.{column}), '%Y-%m-%dT%H:%M:%SZ') AS {column}"


def _select_list(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    """Every column of `relation`, timestamps as ISO-8601 UTC text to the second:
    formatted by the database in bulk, since building a Python datetime per cell
    was most of the cost of turning rows into findings."""
    columns = con.execute(sql("SELECT * FROM {relation} LIMIT 0", relation=relation))
    return ", ".join(
        sql(
            _INSTANT if str(kind).upper().startswith("TIMESTAMP") else _COLUMN,
            column=identifier(name),
        )
        for name, kind, *_ in columns.description or []
    )


def _rows(rule: Rule) -> str:
    """The relation holding a rule's rows."""
    return rule.kind.value + "_rows"


def _run_rules(
    con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], context: RuleContext, relations: set[str]
) -> tuple[list[Finding], list[Suppressed]]:
    """Run every rule, then add money, evidence strings and exceptions to the
    reported rows only: each of those is one pass for all rules together.

    The database fetches one rule's rows while Python turns the previous rule's
    into findings: the second core would otherwise idle through that Python work.
    """
    names = [_rows(rule) for rule in rules]
    keys = "\nUNION ALL".join(sql(_KEYS, rows=name) for name in names)
    pipeline.run(
        con,
        [
            *(Stage(_rows(rule), rule.reads, rule.query) for rule in rules),
            Stage("reported", tuple(names), keys or _NO_KEYS),
            *REPORTED_STAGES,
        ],
        context,
        relations,
    )
    queries = [
        sql(
            _REPORTED_ROWS,
            columns=_select_list(con, _rows(rule)),
            kind=literal(rule.kind.value),
            rows=_rows(rule),
            money="reported_money" if rule.exposure else sql("({none})", none=_NO_MONEY),
        )
        for rule in rules
    ]
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    # One worker: the connection is used by that thread alone until every fetch is done.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rules") as pool:
        fetches = [pool.submit(_fetch, con, query) for query in queries]
        try:
            for rule, fetch in zip(rules, fetches, strict=True):
                for row in fetch.result():
                    built = rule.build(row)
                    if row["suppressed_by"] is None:
                        findings.append(built)
                    else:
                        suppressed.append(Suppressed(built, row["suppressed_by"]))
        finally:
            for fetch in fetches:
                fetch.cancel()
    return findings, suppressed


def _fetch(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    """A query's rows as dicts, converted column by column (a third cheaper than
    row by row)."""
    columns = con.sql(query).to_arrow_table().to_pydict()
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _expired_exception_notes(inputs: Inputs) -> list[str]:
    return [
        f"exception for {e.account or e.customer} ({e.reason}) expired on "
        f"{e.expires.date().isoformat()} and no longer suppresses findings"
        for e in inputs.policy.exceptions
        if e.expires is not None and e.expires <= inputs.as_of
    ]


def reconcile(inputs: Inputs) -> Report:
    """Compare both sides and classify every mismatch. Pure: same inputs, same report."""
    datasets: list[BillingData | AppData] = [*inputs.billing, inputs.app]
    skips: tuple[Skip, ...] = tuple(skip for data in datasets for skip in data.skips)
    notes = [note for data in datasets for note in data.notes]
    notes += _expired_exception_notes(inputs)
    sources = (
        *(SourceInfo("billing", data.description) for data in inputs.billing),
        SourceInfo("app", inputs.app.description),
    )
    fail_on = inputs.policy.fail_on
    with _workspace(inputs) as (con, relations):
        counts = {
            "accounts": _scalar(con, "SELECT count(*) FROM app_accounts"),
            "subscriptions": _scalar(con, "SELECT count(*) FROM billing_subscriptions"),
            "customers": _scalar(con, "SELECT count(*) FROM customers"),
        }
        repeats = _scalar(con, "SELECT n FROM billing_repeats")
        if repeats:
            notes.append(
                f"{repeats} billing rows repeat a subscription already read (overlapping "
                "exports or repeated rows); the first input and row were used"
            )
        errors = _partial_data_errors(con, inputs)
        if errors:
            return Report(
                verdict=Verdict.ERROR,
                as_of=inputs.as_of,
                fail_on=fail_on,
                skips=skips,
                errors=tuple(errors),
                notes=tuple(notes),
                sources=sources,
                counts=counts,
            )
        classification = {
            str(state): int(n)
            for state, n in con.execute(
                "SELECT state, count(*) FROM account_state GROUP BY state ORDER BY state"
            ).fetchall()
        }
        context = _context(inputs)
        applicable = [rule for rule in ALL_RULES if rule.applies(context)]
        not_applied = [
            (rule.kind.value, rule.not_applied_because)
            for rule in ALL_RULES
            if rule not in applicable
        ]
        findings, suppressed = _run_rules(con, applicable, context, relations)
    ordered = tuple(sorted(findings, key=lambda f: -f.severity))  # stable: kind order kept
    return Report(
        verdict=decide_verdict(ordered, skips, (), fail_on),
        as_of=inputs.as_of,
        fail_on=fail_on,
        findings=ordered,
        suppressed=tuple(suppressed),
        skips=skips,
        notes=tuple(notes),
        sources=sources,
        counts=counts,
        classification=classification,
        rules_not_applied=tuple(not_applied),
    )
