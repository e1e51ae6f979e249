"""The canonical relations and the policy, registered in a DuckDB connection.

Sources hand the engine Arrow tables; here they are checked against the canonical
schemas, repeated billing rows are dropped (or held, when the copies conflict:
:mod:`billdrift.core.duplicates`), and the policy becomes the small
relations the stages join (:mod:`billdrift.core.policy_tables`). The Arrow tables
are scanned in place, not copied, whenever nothing needs changing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from billdrift.core.duplicates import keep_one_copy
from billdrift.core.item_plans import aligned_plans
from billdrift.core.model import (
    APP_ACCESS_SIGNALS,
    APP_ACCOUNTS,
    BILLING_ITEMS,
    BILLING_SUBSCRIPTIONS,
    AppData,
    BillingData,
    Skip,
)
from billdrift.core.pipeline import scalar
from billdrift.core.policy import Policy
from billdrift.core.policy_tables import policy_tables
from billdrift.core.refs import NUMBER, canonical_refs, same_types
from billdrift.infra.ordinals import ordinals

#: The relations :func:`load` always provides, besides the policy's.
INPUTS = (
    "billing_subscriptions",
    "billing_items",
    "billing_repeats",
    "app_accounts",
    "app_access_signals",
    "unreadable_rows",
)


@dataclass(frozen=True)
class Loaded:
    """What :func:`load` registered, and the billing rows it could not use."""

    #: :data:`INPUTS`, the policy relations and, when the app's signals allow it,
    #: ``account_access``; when the billing items allow it, the plan stages' relations
    #: (:func:`.item_plans.aligned_plans`).
    relations: set[str]
    #: Every copy of a subscription whose copies conflict (:mod:`.duplicates`).
    skips: tuple[Skip, ...] = ()


def load(
    con: duckdb.DuckDBPyConnection,
    billing: Sequence[BillingData],
    app: AppData,
    policy: Policy,
    as_of: datetime,
) -> Loaded:
    """Register every input relation in `con`."""
    # plans are compared only with a plan map and an app plan column (plans_comparable)
    plans = policy.plans if app.mapping.get("plan") else ()
    repeats, conflicts, planned = _load_billing(con, billing, plans)
    con.register("billing_repeats", pa.table({"n": pa.array([repeats], pa.int64())}))
    accounts = _conform(app.accounts, APP_ACCOUNTS, "app accounts")
    signals = _conform(app.signals, APP_ACCESS_SIGNALS, "app access signals")
    con.register("app_accounts", accounts)
    con.register("app_access_signals", signals)
    datasets: list[BillingData | AppData] = [*billing, app]
    skips = [skip for data in datasets for skip in data.skips] + list(conflicts)
    con.register("unreadable_rows", _unreadable_rows(skips))
    provided = set(INPUTS) | planned
    for name, table in policy_tables(policy, as_of).items():
        con.register(name, table)
        provided.add(name)
    aligned = _aligned_access(accounts, signals)
    if aligned is not None:  # the account_access stage's rows, without its join
        con.register("account_access", aligned)
        provided.add("account_access")
    return Loaded(provided, conflicts)


def _conform(table: pa.Table, schema: pa.Schema, what: str) -> pa.Table:
    """Select and cast to the canonical schema; a source bug must fail loudly here.
    Rows' places may come in either form (:mod:`billdrift.core.refs`): a table without
    ``source_number`` gives them as text."""
    missing = [name for name in schema.names if name not in table.column_names and name != NUMBER]
    if missing:
        raise ValueError(f"{what} lacks canonical columns {missing}")
    return canonical_refs(table, schema)


def _load_billing(
    con: duckdb.DuckDBPyConnection,
    billing: Sequence[BillingData],
    plans: Sequence[tuple[str, str]],
) -> tuple[int, tuple[Skip, ...], set[str]]:
    """Expose the billing relations, each subscription once. Returns how many
    subscription rows were dropped as repeats (overlapping exports, repeated rows), the
    copies of subscriptions whose copies conflict, as skips (:mod:`.duplicates`), and
    the plan stages' relations registered without their join (:mod:`.item_plans`)
    through the plan map `plans` (none: no plan carried, and no statement run for it)."""
    subscriptions = [
        _conform(data.subscriptions, BILLING_SUBSCRIPTIONS, "billing subscriptions")
        for data in billing
    ]
    items = [_conform(data.items, BILLING_ITEMS, "billing items") for data in billing]
    every = _concat(subscriptions, BILLING_SUBSCRIPTIONS)
    con.register("billing_subscriptions_input", every)
    repeats = scalar(
        con, "SELECT count(*) - count(DISTINCT subscription_id) FROM billing_subscriptions_input"
    )
    if repeats == 0:  # the common case: scan the sources' Arrow tables in place
        con.register("billing_subscriptions", every)
        every_item = _concat(items, BILLING_ITEMS)
        con.register("billing_items", every_item)
        aligned = aligned_plans(every, every_item, plans)
        for name, table in (aligned or {}).items():
            con.register(name, table)
        return 0, (), set(aligned or ())
    # Only now are rows tagged with their input and position: two million-row
    # columns nobody needs otherwise.
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
    return (*keep_one_copy(con), set())


def _concat(tables: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    if not tables:
        return schema.empty_table()
    if "source_ref" in schema.names:
        tables = same_types(list(tables))
    return pa.concat_tables(tables)


def _aligned_access(accounts: pa.Table, signals: pa.Table) -> pa.Table | None:
    """The :data:`ACCOUNT_ACCESS` relation built without a join, when the primary
    signals list exactly the accounts in the same order (as every bundled app source
    writes them); None otherwise, and the stage's join makes it."""
    is_primary = signals.column("is_primary")
    # Every signal primary (one access field, as most apps have): the signals
    # themselves, not a filtered copy of them that account_access would keep alive.
    every = is_primary.null_count == 0 and pc.all(is_primary).as_py() is not False
    primary = signals if every else signals.filter(is_primary)
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


def _unreadable_rows(every: Sequence[Skip]) -> pa.Table:
    """Customers named by rows that could not be read (or not used), per side."""
    skips = [s for s in every if s.customer_id]
    return pa.table(
        {
            "side": pa.array([s.side for s in skips], pa.string()),
            "customer_id": pa.array([s.customer_id for s in skips], pa.string()),
        }
    )
