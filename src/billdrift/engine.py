"""Canonical relations in, Report out. No printing, no exits, no network.

The engine loads the relations into an in-process DuckDB database, builds the
shared stages (:mod:`billdrift.rules.stages`), runs every applicable rule's SQL,
applies exceptions and decides the verdict. Partial data is judged here, before
any finding is produced, so a broken export yields ERROR rather than a flood.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa

from billdrift.config import Config
from billdrift.model import (
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
from billdrift.policy_tables import policy_tables
from billdrift.report import Report, SourceInfo, Suppressed, decide_verdict
from billdrift.rules import ALL_RULES
from billdrift.rules.base import Rule, RuleContext
from billdrift.rules.stages import STAGES

_SEVERITY_ORDER = "CASE severity WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END"


@dataclass(frozen=True)
class Inputs:
    """Everything one run reconciles."""

    billing: Sequence[BillingData]
    app: AppData
    config: Config
    as_of: datetime


def _conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Select and cast to the canonical schema; a source bug must fail loudly here."""
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{what} lacks canonical columns {missing}")
    return table.select(schema.names).cast(schema)


def _billing_relations(billing: Sequence[BillingData]) -> tuple[pa.Table, pa.Table]:
    """Concatenate every billing input, tagging rows with the input they came from."""
    subscriptions, items = [], []
    for ordinal, data in enumerate(billing):
        subs = _conform(data.subscriptions, BILLING_SUBSCRIPTIONS, "billing subscriptions")
        subscriptions.append(subs.append_column("input", pa.array([ordinal] * subs.num_rows)))
        its = _conform(data.items, BILLING_ITEMS, "billing items")
        items.append(its.append_column("input", pa.array([ordinal] * its.num_rows)))
    empty_subs = BILLING_SUBSCRIPTIONS.append(pa.field("input", pa.int64()))
    empty_items = BILLING_ITEMS.append(pa.field("input", pa.int64()))
    return (
        pa.concat_tables(subscriptions) if subscriptions else empty_subs.empty_table(),
        pa.concat_tables(items) if items else empty_items.empty_table(),
    )


def _unreadable_rows(inputs: Inputs) -> pa.Table:
    """Customers named by rows that could not be read, per side."""
    skips = [s for data in (*inputs.billing, inputs.app) for s in data.skips if s.customer_id]
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
    con = duckdb.connect(config={"threads": max(1, os.cpu_count() or 1)})
    try:
        subscriptions, items = _billing_relations(inputs.billing)
        con.register("billing_subscriptions_input", subscriptions)
        con.register("billing_items_input", items)
        # The same subscription in two inputs (overlapping exports) counts once:
        # the first input that has it wins, with its own items.
        con.execute(
            """
            CREATE TABLE billing_subscriptions AS
            SELECT * EXCLUDE (input, copy) FROM (
              SELECT *, row_number() OVER (PARTITION BY subscription_id ORDER BY input) AS copy
              FROM billing_subscriptions_input) WHERE copy = 1;
            CREATE TABLE billing_items AS
            SELECT i.* EXCLUDE (input) FROM billing_items_input i
            WHERE i.input = (SELECT min(s.input) FROM billing_subscriptions_input s
                             WHERE s.subscription_id = i.subscription_id);
            """
        )
        con.register("app_accounts", _conform(inputs.app.accounts, APP_ACCOUNTS, "app accounts"))
        con.register(
            "app_access_signals",
            _conform(inputs.app.signals, APP_ACCESS_SIGNALS, "app access signals"),
        )
        for name, table in policy_tables(inputs.config, inputs.as_of).items():
            con.register(name, table)
        con.register("unreadable_rows", _unreadable_rows(inputs))
        for name, sql in STAGES:
            con.execute(f"CREATE TABLE {name} AS {sql}")
        yield con
    finally:
        con.close()


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _partial_data_errors(con: duckdb.DuckDBPyConnection, inputs: Inputs) -> list[str]:
    """Reasons to refuse reconciling: judging partial data reports noise or a false PASS."""
    policy = inputs.config.policy
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
        linked = _scalar(
            con, "SELECT count(*) FROM accounts_prepared WHERE customer_id IS NOT NULL"
        )
        stale = _scalar(con, "SELECT count(*) FROM accounts_prepared WHERE link_stale")
        if linked >= policy.partial_min_links and stale > policy.partial_max_missing_ratio * linked:
            errors.append(
                f"{stale} of {linked} accounts link to customers the billing data does not "
                "contain: the billing data looks partial (wrong account or mode, an export "
                "without canceled subscriptions, a truncated file)"
            )
    return errors


def _run_rule(con: duckdb.DuckDBPyConnection, rule: Rule) -> tuple[list[Finding], list[Suppressed]]:
    sql = f"""
    SELECT f.*,
      (SELECT min(e.reason) FROM exceptions e CROSS JOIN params p
       WHERE (e.account IS NULL OR e.account = f.account_id)
         AND (e.customer IS NULL OR e.customer = f.customer_id)
         AND (e.kind IS NULL OR e.kind = '{rule.kind.value}')
         AND (e.expires IS NULL OR e.expires > p.as_of)) AS suppressed_by
    FROM ({rule.sql}) f
    ORDER BY {_SEVERITY_ORDER}, f.account_id NULLS LAST, f.customer_id NULLS LAST,
             f.subscription_id NULLS LAST
    """
    findings: list[Finding] = []
    suppressed: list[Suppressed] = []
    for row in con.sql(sql).to_arrow_table().to_pylist():
        built = rule.build(row)
        if row["suppressed_by"] is None:
            findings.append(built)
        else:
            suppressed.append(Suppressed(built, row["suppressed_by"]))
    return findings, suppressed


def _expired_exception_notes(inputs: Inputs) -> list[str]:
    return [
        f"exception for {e.account or e.customer} ({e.reason}) expired on "
        f"{e.expires.date().isoformat()} and no longer suppresses findings"
        for e in inputs.config.exceptions
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
    fail_on = inputs.config.fail_on
    with workspace(inputs) as con:
        counts = {
            "accounts": _scalar(con, "SELECT count(*) FROM app_accounts"),
            "subscriptions": _scalar(con, "SELECT count(*) FROM billing_subscriptions"),
            "customers": _scalar(con, "SELECT count(*) FROM customers"),
        }
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
        context = RuleContext(inputs.config, inputs.app.mapping)
        findings: list[Finding] = []
        suppressed: list[Suppressed] = []
        not_applied: list[tuple[str, str]] = []
        for rule in ALL_RULES:
            if not rule.applies(context):
                not_applied.append((rule.kind.value, rule.not_applied_because))
                continue
            found, excused = _run_rule(con, rule)
            findings += found
            suppressed += excused
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
