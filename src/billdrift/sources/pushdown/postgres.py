"""The check run inside PostgreSQL, where the app's tables and a Stripe mirror sit side by side.

What is read, and how:

* **the app side** is the table (or ``app.query``) the in-process database source
  would read, found and mapped the same way (:mod:`billdrift.sources.app.database`):
  ids trimmed, blank values empty, access flags parsed with the same spellings
  (:mod:`billdrift.sources.app.booleans`), status fields lower-cased;
* **the billing side** is the mirror's subscriptions table, its layout found by
  the same introspection as the in-process mirror source
  (:mod:`billdrift.sources.billing.stripe_mirror`): stripe sync-engine or
  dj-stripe, or a warehouse load. Its columns and customers join are reused, and
  each row is decoded once inside the server as the Stripe parser does in Python
  (:mod:`~billdrift.sources.pushdown.postgres_mirror`); a layout assembling items
  from other tables (Fivetran, Data Pipeline) is decoded through its own SELECT
  (:mod:`~billdrift.sources.pushdown.postgres_records`).

Rows the in-process run would skip (an empty or repeated account id, a flag no
spelling matches, several discounts on one subscription) are counted by a guard
that comes back with the answers of the same statement (same snapshot, no second
pass over the mirror); any there is an ERROR naming them and the in-process run
that lists them, never a silently different verdict. The plan itself is one statement
(:mod:`billdrift.core.dialects.postgres`) on billdrift's read-only connection
(:mod:`billdrift.infra.db.postgres`): read-only at the server, rolled back, and
bounded by ``app.timeout_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from billdrift.config import AppConfig, BillingConfig
from billdrift.core.dialects import postgres as dialect
from billdrift.core.engine import Inputs
from billdrift.core.model import (
    APP_ACCESS_SIGNALS,
    APP_ACCOUNTS,
    BILLING_ITEMS,
    BILLING_SUBSCRIPTIONS,
    AppData,
    BillingData,
)
from billdrift.core.plan import Plan, build_plan, judge_answers, refuse_repeats
from billdrift.core.policy import Policy
from billdrift.core.report import Report
from billdrift.errors import SourceError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Timeouts, bounded
from billdrift.infra.db.interface import ReadOnlyConnection
from billdrift.infra.db.postgres import PostgresConnection
from billdrift.infra.db.urls import DatabaseUrl
from billdrift.infra.quoting import sql_string
from billdrift.sources.app.booleans import (
    CODE_UNRECOGNIZED,
    WHITESPACE,
    sql_boolean_code,
    sql_flag,
)
from billdrift.sources.app.columns import ROLES
from billdrift.sources.app.database import plan_read
from billdrift.sources.billing.layouts.base import with_sync_state
from billdrift.sources.billing.stripe_mirror import plan_query
from billdrift.sources.billing.stripe_mirror_query import MirrorQuery
from billdrift.sources.pushdown.freshness import checked
from billdrift.sources.pushdown.postgres_mirror import (
    items_sql,
    several_discounts_sql,
    subscriptions_sql,
)
from billdrift.sources.pushdown.postgres_records import (
    ITEMS,
    SEVERAL_DISCOUNTS,
    SUBSCRIPTIONS,
    assembled,
    records_sql,
)

_ID_ROLES = frozenset({"account_id", "customer_id", "subscription_id"})
_WS = sql_string(WHITESPACE)


@dataclass(frozen=True)
class Target:
    """The canonical relations defined over one database, and what was found there."""

    #: Relation name -> PostgreSQL SQL (the four canonical ones and their helpers).
    canonical: dict[str, str]
    #: Counts of rows the in-process run would skip (see the module docstring).
    guard: str
    app: AppData
    billing: BillingData


def prepare(
    conn: ReadOnlyConnection, app: AppConfig, billing: BillingConfig, state: bool = True
) -> Target:
    """Introspect the app table and the mirror, and define the canonical relations; with
    `state`, also read the mirror's newest sync and the subscriptions deleted at the
    source (two small queries; ``--explain`` reads the catalog only)."""
    if conn.dialect != "postgresql":
        raise SourceError(f"{conn.url.shown}: --engine postgres needs a PostgreSQL database")
    read = plan_read(conn, app)
    mapping = read.mapping
    label = read.label
    accounts, signals, guard = _app_sql(conn, read.from_sql, read.types, mapping, label)
    mirror = plan_query(conn, billing.mirror)
    billing_sql, several = _billing_sql(conn, mirror)
    guard = f"SELECT app.*, ({several}) AS several_discounts FROM ({guard}) AS app"
    canonical = {**billing_sql, "app_accounts": accounts, "app_access_signals": signals}
    where = conn.url.shown
    billing_data = BillingData(
        BILLING_SUBSCRIPTIONS.empty_table(),
        BILLING_ITEMS.empty_table(),
        description=(
            f"stripe-mirror {mirror.table.qualified} in {where} ({mirror.layout}): "
            "read inside PostgreSQL"
        ),
        notes=tuple(mirror.notes),
    )
    return Target(
        canonical=canonical,
        guard=guard,
        app=AppData(
            APP_ACCOUNTS.empty_table(),
            APP_ACCESS_SIGNALS.empty_table(),
            description=f"{where} ({label}): read inside PostgreSQL",
            mapping=mapping.as_dict(),
            notes=tuple(read.notes),
        ),
        billing=with_sync_state(conn, mirror, billing_data) if state else billing_data,
    )


def run(
    url: DatabaseUrl, app: AppConfig, billing: BillingConfig, policy: Policy, as_of: datetime
) -> Report:
    """The check, run inside the database at `url`; only findings come back."""
    limits = Timeouts(app.timeout_seconds, "app.timeout_seconds")
    with bounded(url.shown, limits) as deadline, connect(url, deadline) as conn:
        target = prepare(conn, app, billing)
        fresh = checked(target.billing, as_of, billing.max_sync_age_hours)  # stale: an ERROR
        inputs = Inputs([fresh], target.app, policy, as_of)
        plan = build_plan(inputs)
        rows = _fetch(conn, dialect.statement(plan, target.canonical, {_GUARD: target.guard}))
    answers = dialect.answers(str(rows[0][0]), plan)
    _refuse_unreadable(url.shown, answers.extras[_GUARD])
    refuse_repeats(  # a mirror's id is its primary key: not expected to happen
        answers,
        lambda n: (
            f"{url.shown}: {n} mirror rows repeat a subscription id; run the check "
            "in-process (without --engine), which says which copies conflict"
        ),
    )
    return judge_answers(inputs, plan, answers)


def _billing_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> tuple[dict[str, str], str]:
    """The canonical billing relations and the query counting subscriptions with several
    discounts: decoded in one pass from a table holding one column per Stripe field, or
    through the layout's own SELECT when it assembles items from other tables."""
    if not assembled(mirror):
        canonical = {
            "billing_subscriptions": subscriptions_sql(conn, mirror),
            "billing_items": items_sql(conn, mirror),
        }
        return canonical, several_discounts_sql(conn, mirror)
    records = records_sql(conn, mirror)
    canonical = {
        "bd_mirror_records": records,
        "billing_subscriptions": SUBSCRIPTIONS,
        "billing_items": ITEMS,
    }
    return canonical, f"WITH bd_mirror_records AS ({records})\n{SEVERAL_DISCOUNTS}"


#: The guard's row in the statement's answer (rows an in-process run would skip).
_GUARD = "bd_guard"

#: Planner settings for the plan's statement: no JIT (its cost estimates run to billions
#: of rows, so PostgreSQL compiled it for 80 s to run 0.7 s of work at 2,000 x 2,000).
SETTINGS = (("jit", "off"),)
#: Memory for the statement's sorts and hashes, raised to this (never lowered): at
#: 1,000,000 rows with 64 MB a dozen sorts spilled to disk, and 256 MB took 11 % off
#: the statement. Only this statement's transaction is affected.
MEMORY = (("work_mem", "256MB"),)


def _fetch(conn: ReadOnlyConnection, statement: str) -> list[tuple[Any, ...]]:
    if isinstance(conn, PostgresConnection):
        return conn.fetch_with(statement, SETTINGS, MEMORY)
    return conn.fetch(statement)  # pragma: no cover - prepare() accepts PostgreSQL only


def explain(
    url: DatabaseUrl, app: AppConfig, billing: BillingConfig, policy: Policy, as_of: datetime
) -> str:
    """The SQL a pushed-down check would run, for review; reads the catalog only."""
    limits = Timeouts(app.timeout_seconds, "app.timeout_seconds")
    with bounded(url.shown, limits) as deadline, connect(url, deadline) as conn:
        target = prepare(conn, app, billing, state=False)
    plan: Plan = build_plan(Inputs([target.billing], target.app, policy, as_of))
    header = (
        f"-- database: {url.shown}\n-- app: {target.app.description}\n"
        f"-- billing: {target.billing.description}\n"
        "-- with the answers, in the same statement, a guard counts rows an in-process run "
        f"would skip:\n{target.guard};\n\n"
    )
    return header + dialect.explain(plan, target.canonical)


def _refuse_unreadable(where: str, guard: dict[str, Any]) -> None:
    empty, repeated = guard["empty_ids"], guard["repeated_ids"]
    unrecognized, several = guard["unrecognized_flags"], guard["several_discounts"]
    problems = []
    if empty:
        problems.append(f"{empty} app rows with an empty account id")
    if repeated:
        problems.append(f"{repeated} app rows repeating an account id")
    if unrecognized:
        problems.append(f"{unrecognized} app rows with an access flag no spelling matches")
    if several:
        problems.append(f"{several} subscriptions with several discounts")
    if problems:
        raise SourceError(
            f"{where}: {'; '.join(problems)}. Inside the database these cannot be "
            "listed as skipped rows; run the check in-process (without --engine), which "
            "lists each one, or fix them"
        )


# ------------------------------------------------------------------- app side
def _app_sql(
    conn: ReadOnlyConnection,
    from_sql: str,
    types: dict[str, str],
    mapping: object,
    label: str,
) -> tuple[str, str, str]:
    """(app_accounts, app_access_signals, guard) over the app's table or query."""
    from billdrift.sources.app.columns import ColumnMapping

    assert isinstance(mapping, ColumnMapping)
    prefix = "q." if from_sql.startswith("(") else ""

    def text(column: str) -> str:
        return f"CAST({prefix}{conn.quote(column)} AS VARCHAR)"

    roles = []
    for role in ROLES:
        column = mapping.role_column(role)
        if column is None:
            roles.append(f"CAST(NULL AS VARCHAR) AS {role}")
        elif role in _ID_ROLES:
            roles.append(f"nullif(trim({text(column)}, {_WS}), '') AS {role}")
        else:
            roles.append(
                f"CASE WHEN trim({text(column)}, {_WS}) = '' THEN NULL "
                f"ELSE {text(column)} END AS {role}"
            )
    account = f"nullif(trim({text(mapping.account_id)}, {_WS}), '')"
    ref = sql_string(f"{label} {mapping.account_id}=")
    accounts = (
        f"SELECT {', '.join(roles)}, {ref} || coalesce({account}, '?') AS source_ref, "
        "CAST(NULL AS BIGINT) AS source_number "  # the place as text (core.refs)
        f"FROM {from_sql}"
    )
    signals, codes = [], []
    for name, kind in mapping.fields():
        primary = "TRUE" if name == mapping.primary_access_field else "FALSE"
        if kind == "status":
            raw = f"nullif(lower(trim({text(name)}, {_WS})), '')"
            flag = "CAST(NULL AS BOOLEAN)"
        elif types.get(name, "").lower() in ("boolean", "bool"):
            raw, flag = text(name), f"{prefix}{conn.quote(name)}"
        else:
            code = sql_boolean_code(text(name))
            raw, flag = text(name), sql_flag(code)
            codes.append(code)
        signals.append(
            f"SELECT {account} AS account_id, {sql_string(name)} AS field, "
            f"{sql_string(kind)} AS kind, {raw} AS raw, {flag} AS flag, {primary} AS is_primary "
            f"FROM {from_sql}"
        )
    unreadable = " OR ".join(f"{code} = {CODE_UNRECOGNIZED}" for code in codes) or "FALSE"
    guard = (
        f"SELECT count(*) FILTER (WHERE {account} IS NULL) AS empty_ids, "
        f"count({account}) - count(DISTINCT {account}) AS repeated_ids, "
        f"count(*) FILTER (WHERE {unreadable}) AS unrecognized_flags FROM {from_sql}"
    )
    return (
        dialect.compile(accounts),
        dialect.compile("\nUNION ALL\n".join(signals)),
        dialect.compile(guard),
    )
