"""The check run inside PostgreSQL, where the app's tables and a Stripe mirror sit side by side.

What is read, and how:

* **the app side** is the table (or ``app.query``) the in-process database source
  would read, found and mapped the same way (:mod:`billdrift.sources.app.database`):
  ids trimmed, blank values empty, access flags parsed with the same spellings
  (:mod:`billdrift.sources.app.booleans`), status fields lower-cased;
* **the billing side** is the mirror's subscriptions table, its layout found by
  the same introspection as the in-process mirror source
  (:mod:`billdrift.sources.billing.stripe_mirror`): stripe sync-engine or
  dj-stripe. Its SELECT (columns present, customers joined for emails) is reused,
  and the Stripe object each row holds is taken apart in SQL (``jsonb``) as the
  Stripe parser does in Python: item-level or subscription-level periods,
  ``price`` or legacy ``plan``, quantity, interval, one discount.

Rows the in-process run would skip (an empty or repeated account id, a flag no
spelling matches, several discounts on one subscription) are counted first by a
small guard query; any there is an ERROR naming them and the in-process run that
lists them, never a silently different verdict. The plan itself is one statement
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
from billdrift.core.plan import Plan, build_plan, judge_answers
from billdrift.core.policy import Policy
from billdrift.core.report import Report
from billdrift.core.sql import sql
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
from billdrift.sources.billing.stripe_mirror_query import (
    CUSTOMER_OBJECT,
    EMAIL,
    OBJECT,
    MirrorQuery,
)
from billdrift.sources.pushdown.freshness import checked

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
    records = _records_sql(conn, mirror)
    guard = (
        f"WITH bd_mirror_records AS ({records})\n"
        f"SELECT app.*, ({_SEVERAL_DISCOUNTS}) AS several_discounts FROM ({guard}) AS app"
    )
    canonical = {
        "bd_mirror_records": records,
        "billing_subscriptions": _SUBSCRIPTIONS,
        "billing_items": _ITEMS,
        "app_accounts": accounts,
        "app_access_signals": signals,
    }
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
        _refuse_unreadable(conn, target)
        plan = build_plan(inputs)
        rows = _fetch(conn, dialect.statement(plan, target.canonical))
    answers = dialect.answers(str(rows[0][0]), plan)
    repeats = answers.ask(_REPEATS)
    if repeats and repeats[0][0]:  # pragma: no cover - a mirror's id is its primary key
        raise SourceError(
            f"{url.shown}: {repeats[0][0]} mirror rows repeat a subscription id; run the "
            "check in-process (without --engine), which says which copies conflict"
        )
    return judge_answers(inputs, plan, answers)


_REPEATS = "SELECT n FROM billing_repeats"

#: Planner settings for the plan's statement: no JIT (its cost estimates run to billions
#: of rows, so PostgreSQL compiled it for 80 s to run 0.7 s of work at 2,000 x 2,000).
SETTINGS = (("jit", "off"),)


def _fetch(conn: ReadOnlyConnection, statement: str) -> list[tuple[Any, ...]]:
    if isinstance(conn, PostgresConnection):
        return conn.fetch_with(statement, SETTINGS)
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
        "-- before it, one guard query counts rows an in-process run would skip:\n"
        f"{target.guard};\n\n"
    )
    return header + dialect.explain(plan, target.canonical)


def _refuse_unreadable(conn: ReadOnlyConnection, target: Target) -> None:
    empty, repeated, unrecognized, several = conn.fetch(target.guard)[0]
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
            f"{conn.url.shown}: {'; '.join(problems)}. Inside the database these cannot be "
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
        f"SELECT {', '.join(roles)}, {ref} || coalesce({account}, '?') AS source_ref "
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


# --------------------------------------------------------------- billing side
def _records_sql(conn: ReadOnlyConnection, mirror: MirrorQuery) -> str:
    """One row per mirror row: the Stripe subscription object it holds (the whole-object
    column wins, the field columns complete it, as in-process) and the joined email."""
    base = mirror.sql
    order = f" ORDER BY s.{conn.quote('id')}"
    base = base.removesuffix(order)
    fields = []
    for name in mirror.fields:
        column = f"m.{conn.quote(name)}"
        value = f"CAST({column} AS jsonb)" if name in mirror.json else f"to_jsonb({column})"
        fields += [dialect_literal(name), value]
    built = f"jsonb_strip_nulls(jsonb_build_object({', '.join(fields)}))" if fields else "'{}'"
    whole = (
        f"coalesce(CAST(m.{conn.quote(OBJECT)} AS jsonb), '{{}}'::jsonb)"
        if mirror.object_column
        else "'{}'::jsonb"
    )
    if mirror.email == "text":
        email = f"m.{conn.quote(EMAIL)}"
    elif mirror.email == "json":
        email = f"CAST(m.{conn.quote(CUSTOMER_OBJECT)} AS jsonb) ->> 'email'"
    else:
        email = "CAST(NULL AS TEXT)"
    table = dialect_literal(mirror.table.qualified + ":")
    return sql(
        _RECORDS,
        built=built,
        whole=whole,
        email=email,
        base=base,
        table=table,
    )


def dialect_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_RECORDS = """
SELECT r.rec, nullif(btrim(r.rec ->> 'id'), '') AS id, r.joined_email, r.ref_prefix
FROM (
  SELECT {built}::jsonb || {whole} AS rec, {email} AS joined_email, {table} AS ref_prefix
  FROM ({base}) AS m
) AS r"""


def _ts(value: str) -> str:
    """A Stripe timestamp (unix seconds, or ISO text) as timestamptz."""
    return sql(
        """CASE jsonb_typeof({value})
  WHEN 'number' THEN to_timestamp(CAST(CAST({value} AS TEXT) AS double precision))
  WHEN 'string' THEN CAST({value} #>> '{}' AS timestamptz) END""",
        value=value,
    )


def _id(value: str) -> str:
    """An id given as a string or as an expanded object with an ``id``."""
    return sql(
        """CASE jsonb_typeof({value})
  WHEN 'string' THEN nullif(btrim({value} #>> '{}'), '')
  WHEN 'object' THEN nullif(btrim({value} ->> 'id'), '') END""",
        value=value,
    )


def _text(value: str) -> str:
    """A text field, trimmed; empty is NULL."""
    return f"nullif(btrim({value}), '')"


def _int(value: str) -> str:
    """An integer amount or count (integral numbers given as floats pass)."""
    return f"CAST(CAST({value} AS numeric) AS bigint)"


#: The expanded discounts of a record (the legacy ``discount`` and ``discounts``), each once.
_DISCOUNTS = """(
  SELECT DISTINCT ON (coalesce(e ->> 'id', CAST(e AS TEXT))) e
  FROM (
    SELECT r.rec -> 'discount' AS e WHERE jsonb_typeof(r.rec -> 'discount') = 'object'
    UNION ALL
    SELECT x FROM jsonb_array_elements(CASE jsonb_typeof(r.rec -> 'discounts')
                                         WHEN 'array' THEN r.rec -> 'discounts'
                                         ELSE '[]'::jsonb END) AS x
    WHERE jsonb_typeof(x) = 'object') AS entries)"""

#: A discount or coupon given by id only: the discount is unknown, not zero.
_UNEXPANDED = """(
  SELECT bool_or(
    (jsonb_typeof(x) = 'string' AND NOT EXISTS (
       SELECT 1 FROM {discounts} AS d WHERE d.e ->> 'id' = x #>> '{}'))
    OR jsonb_typeof(coalesce(x -> 'coupon', x -> 'source' -> 'coupon')) = 'string')
  FROM jsonb_array_elements(
    jsonb_build_array(r.rec -> 'discount') ||
    CASE jsonb_typeof(r.rec -> 'discounts') WHEN 'array' THEN r.rec -> 'discounts'
         ELSE '[]'::jsonb END) AS x)"""

#: Each record's items (``items.data``, or a bare array), with their position.
_ITEM_ELEMENTS = """jsonb_array_elements(CASE jsonb_typeof(r.rec -> 'items')
    WHEN 'object' THEN CASE jsonb_typeof(r.rec -> 'items' -> 'data')
                         WHEN 'array' THEN r.rec -> 'items' -> 'data' ELSE '[]'::jsonb END
    WHEN 'array' THEN r.rec -> 'items' ELSE '[]'::jsonb END)"""

_ITEMS = sql(
    """
SELECT r.id AS subscription_id,
       {price_id} AS price_id,
       {lookup_key} AS lookup_key,
       {product_id} AS product_id,
       {nickname} AS plan_name,
       {unit_amount} AS unit_amount_minor,
       lower({currency}) AS currency,
       coalesce({quantity}, 1) AS quantity,
       lower({interval}) AS interval,
       coalesce(nullif({interval_count}, 0), 1) AS interval_count
FROM bd_mirror_records AS r
CROSS JOIN LATERAL {elements} AS it(item)
CROSS JOIN LATERAL (
  SELECT p.price, p.legacy,
         CASE jsonb_typeof(p.price) WHEN 'object' THEN p.price END AS details
  FROM (SELECT coalesce(nullif(it.item -> 'price', 'null'::jsonb), it.item -> 'plan') AS price,
               nullif(it.item -> 'price', 'null'::jsonb) IS NULL AS legacy) AS p
) AS pr
CROSS JOIN LATERAL (
  SELECT coalesce(CASE jsonb_typeof(pr.details -> 'recurring')
                    WHEN 'object' THEN pr.details -> 'recurring' END, pr.details) AS recurring
) AS rc
WHERE r.id IS NOT NULL""",
    price_id=_id("pr.price"),
    lookup_key=_text("pr.details ->> 'lookup_key'"),
    product_id=_id("(pr.details -> 'product')"),
    nickname=_text("pr.details ->> 'nickname'"),
    unit_amount=_int("pr.details ->> (CASE WHEN pr.legacy THEN 'amount' ELSE 'unit_amount' END)"),
    currency=_text("pr.details ->> 'currency'"),
    quantity=_int("it.item ->> 'quantity'"),
    interval=_text("rc.recurring ->> 'interval'"),
    interval_count=_int("rc.recurring ->> 'interval_count'"),
    elements=_ITEM_ELEMENTS,
)

_SUBSCRIPTIONS = sql(
    """
SELECT CAST('stripe' AS TEXT) AS provider, r.id AS subscription_id,
       {customer} AS customer_id,
       coalesce(CASE jsonb_typeof(r.rec -> 'customer')
                  WHEN 'object' THEN {customer_email} END,
                {joined_email}) AS customer_email,
       lower({status}) AS status,
       CAST(r.rec ->> 'cancel_at_period_end' AS boolean) AS cancel_at_period_end,
       {cancel_at} AS cancel_at,
       coalesce({period_start}, periods.item_start) AS current_period_start,
       coalesce({period_end}, periods.item_end) AS current_period_end,
       {trial_end} AS trial_end,
       {canceled_at} AS canceled_at,
       {ended_at} AS ended_at,
       {created} AS created,
       CASE WHEN disc.unexpanded THEN NULL
            WHEN jsonb_typeof(disc.coupon -> 'percent_off') = 'number'
            THEN CAST(round(CAST(100 * (1 - (1 - CAST(disc.coupon ->> 'percent_off'
                 AS double precision) / 100)) AS numeric), 6) AS double precision)
       END AS discount_percent_off,
       CASE WHEN disc.unexpanded THEN NULL
            WHEN lower(disc.coupon ->> 'currency') IS NOT NULL
                 AND coalesce(lower({currency}), periods.item_currency) IS NOT NULL
                 AND lower(disc.coupon ->> 'currency')
                     <> coalesce(lower({currency}), periods.item_currency) THEN NULL
            ELSE {amount_off}
       END AS discount_amount_off_minor,
       r.ref_prefix || r.id AS source_ref
FROM bd_mirror_records AS r
LEFT JOIN LATERAL (
  SELECT min({item_start}) AS item_start, max({item_end}) AS item_end,
         (array_agg(lower({item_currency}) ORDER BY it.n)
            FILTER (WHERE {item_currency} IS NOT NULL))[1] AS item_currency
  FROM {elements} WITH ORDINALITY AS it(item, n)
) AS periods ON TRUE
LEFT JOIN LATERAL (
  SELECT (SELECT coalesce(d.e -> 'coupon', d.e -> 'source' -> 'coupon')
          FROM {discounts} AS d LIMIT 1) AS coupon,
         coalesce({unexpanded}, FALSE) AS unexpanded
) AS disc ON TRUE
WHERE r.id IS NOT NULL""",
    customer=_id("(r.rec -> 'customer')"),
    customer_email=_text("r.rec -> 'customer' ->> 'email'"),
    joined_email=_text("r.joined_email"),
    status=_text("r.rec ->> 'status'"),
    cancel_at=_ts("(r.rec -> 'cancel_at')"),
    period_start=_ts("(r.rec -> 'current_period_start')"),
    period_end=_ts("(r.rec -> 'current_period_end')"),
    trial_end=_ts("(r.rec -> 'trial_end')"),
    canceled_at=_ts("(r.rec -> 'canceled_at')"),
    ended_at=_ts("(r.rec -> 'ended_at')"),
    created=_ts("(r.rec -> 'created')"),
    currency=_text("r.rec ->> 'currency'"),
    amount_off=_int("disc.coupon ->> 'amount_off'"),
    item_start=_ts("(it.item -> 'current_period_start')"),
    item_end=_ts("(it.item -> 'current_period_end')"),
    item_currency=_text(
        "coalesce(nullif(it.item -> 'price', 'null'::jsonb), it.item -> 'plan') ->> 'currency'"
    ),
    elements=_ITEM_ELEMENTS,
    discounts=_DISCOUNTS,
    unexpanded=sql(_UNEXPANDED, discounts=_DISCOUNTS),
)

#: Subscriptions with several expanded discounts: combined in-process, refused here.
_SEVERAL_DISCOUNTS = sql(
    "SELECT count(*) FROM bd_mirror_records AS r WHERE (SELECT count(*) FROM {discounts} AS d) > 1",
    discounts=_DISCOUNTS,
)
