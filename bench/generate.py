"""Generate a deterministic billing/app data set with a known amount of drift.

Usage::

    python bench/generate.py --accounts N --subscriptions M --out DIR [--seed S]

Writes four files to DIR:

``billing.csv``
    A Stripe-style subscriptions export with the header
    ``id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,
    Current Period Start (UTC),Current Period End (UTC),Cancel At Period End``.
    Amounts are major units (``29.00``), dates look like ``2026-11-01 00:00``,
    ``Cancel At Period End`` is ``true``/``false``. Currency ``usd``, interval ``month``.
``app.csv``
    The app's accounts: ``id,email,stripe_customer_id,has_paid_access,plan`` with
    ``has_paid_access`` as ``t``/``f`` and an empty ``stripe_customer_id`` when unlinked.
``billdrift.toml``
    ``[plans]`` mapping ``price_basic``/``price_pro``/``price_team`` to ``basic``/``pro``/``team``.
``expected.json``
    ``by_kind``: the exact number of findings each injected case must produce (every
    kind that billdrift knows is listed, zero when nothing of that kind is injected),
    ``total``, the row counts, the seed and the noise counts.

What is generated
-----------------
Let ``k = max(1, round(rate * min(N, M)))`` (``rate`` defaults to 0.005, i.e. 0.5%) and
``S = min(N - 3k, M - k)`` "slots". Slot ``i`` (1..S) is one account ``acct_i`` linked to
customer ``cus_i`` with one subscription ``sub_i``, email ``user_i@example.com`` on both
sides. Slot numbers are zero-padded to at least six digits (``sub_000001``). The slot's
role is chosen by a seeded bijection ``pos = (i * A + seed) mod S`` (``A`` coprime with S),
so the cases are scattered through the file but reproducible:

========================= ===== =============================================================
role                      count billing side / app side
========================= ===== =============================================================
``paid_but_blocked``      k     sub ``active`` / ``has_paid_access=f``, plan = mapped plan
``unpaid_but_active``     k     sub ``canceled`` (period ended 2026-08/09) / ``t``, plan kept
``plan_drift``            k     sub ``active`` on ``price_pro`` / ``t``, app plan ``basic``
noise: canceled           2%    sub ``canceled`` (period ended) / ``f``, app plan ``free``
noise: cancel at end      1%    sub ``active``, Cancel At Period End ``true``, period end
                                2026-11-23..2026-12-21 (after the as-of date) / ``t``
dup target                k     in sync; a second account shares its customer (below)
in sync                   rest  sub ``active`` / ``t``, app plan = mapped plan
========================= ===== =============================================================

Plans of slots (other than ``plan_drift``) are ~40% basic (9.00), ~45% pro (29.00),
~15% team (99.00, quantity 1-9). Active periods start 2026-10-23..2026-11-21 and last one
month, so every active period contains the as-of date 2026-11-22T00:00:00Z.

Rows outside the slots (``j`` = 1..k each):

* ``stale_billing_link``: account ``acct_gone_j`` linked to ``cus_gone_j`` (a customer no
  billing row has), email ``gone_j@example.com``, ``t``, plan ``pro``.
* ``missing_billing_link``: account ``acct_nolink_j`` with an empty ``stripe_customer_id``,
  email ``nolink_j@example.com`` (no billing row has it), ``t``, plan ``pro``.
* ``duplicate_customer``: account ``acct_dup_j`` (email ``dup_j@example.com``, ``t``, same plan)
  linked to the customer of the j-th "dup target" slot, which is otherwise in sync. Exactly two
  accounts share each such customer: one finding per shared customer.
* ``orphaned_subscription``: subscription ``sub_orphan_j``, ``active`` on ``price_pro``, for
  customer ``cus_orphan_j`` / ``orphan_j@example.com``, which no account has (id or email).

Padding, so that the files hold exactly N accounts and M subscriptions; neither is drift:

* ``N - 3k - S`` free accounts ``acct_free_j`` (``free_j@example.com``), no billing link,
  ``has_paid_access=f``, plan ``free``;
* ``M - k - S`` old subscriptions ``sub_prev_j``, ``canceled``, period 2026-05/06, each
  belonging to an in-sync customer (round robin over the in-sync slots) that also has its
  current ``active`` subscription: a customer who resubscribed.

With N == M that is no free account and 2k history subscriptions (10,000 of the
1,000,000 x 1,000,000 at ``--accounts 1000000 --subscriptions 1000000``). Every injected
case is disjoint from every other and yields exactly one finding of its kind. Nothing else
should be reported. The output is byte-for-byte identical for the same arguments.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

BILLING_HEADER = (
    "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
    "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End"
)
APP_HEADER = "id,email,stripe_customer_id,has_paid_access,plan"
ALL_KINDS = (
    "paid_but_blocked",
    "unpaid_but_active",
    "plan_drift",
    "orphaned_subscription",
    "missing_billing_link",
    "stale_billing_link",
    "duplicate_customer",
    "app_fields_disagree",
    "ambiguous",
)
CONFIG_TOML = """\
# Generated by bench/generate.py
[plans]
"price_basic" = "basic"
"price_pro" = "pro"
"price_team" = "team"
"""
_MULTIPLIER = 1_000_003  # a prime; bumped until coprime with the slot count


@dataclass(frozen=True)
class Layout:
    """How many rows of each role to generate; derived only from the arguments."""

    seed: int
    per_kind: int
    slots: int
    noise_canceled: int
    noise_cancel_at_period_end: int
    free_accounts: int  # padding when N > M: unlinked accounts without paid access
    history_subscriptions: int  # padding when M > N: old canceled subs of in-sync customers
    width: int

    @property
    def accounts(self) -> int:
        return self.slots + 3 * self.per_kind + self.free_accounts

    @property
    def subscriptions(self) -> int:
        return self.slots + self.per_kind + self.history_subscriptions

    @property
    def in_sync(self) -> int:
        used = 4 * self.per_kind + self.noise_canceled + self.noise_cancel_at_period_end
        return self.slots - used


def plan_layout(accounts: int, subscriptions: int, seed: int, rate: float = 0.005) -> Layout:
    """Derive role counts for the requested sizes; raises when they are too small."""
    per_kind = max(1, round(rate * min(accounts, subscriptions)))
    slots = min(accounts - 3 * per_kind, subscriptions - per_kind)
    noise_canceled = round(0.02 * slots)
    noise_cape = round(0.01 * slots)
    if slots < 4 * per_kind + noise_canceled + noise_cape + 1:
        raise SystemExit(f"sizes too small for rate {rate}: {accounts} x {subscriptions}")
    free = accounts - 3 * per_kind - slots
    history = subscriptions - per_kind - slots
    width = max(6, len(str(max(slots, per_kind, free, history))))
    return Layout(seed, per_kind, slots, noise_canceled, noise_cape, free, history, width)


def _multiplier(slots: int) -> int:
    multiplier = _MULTIPLIER
    while math.gcd(multiplier, slots) != 1:
        multiplier += 1
    return multiplier


def _slots_sql(layout: Layout) -> str:
    """One row per slot with its role, plan and dates (a DuckDB query)."""
    k = layout.per_kind
    bounds = {
        "paid_but_blocked": k,
        "unpaid_but_active": 2 * k,
        "plan_drift": 3 * k,
        "noise_canceled": 3 * k + layout.noise_canceled,
        "noise_cape": 3 * k + layout.noise_canceled + layout.noise_cancel_at_period_end,
    }
    bounds["dup_target"] = bounds["noise_cape"] + k
    role_cases = " ".join(f"WHEN pos < {bound} THEN '{role}'" for role, bound in bounds.items())
    return f"""
    WITH base AS (
        SELECT i, (i * {_multiplier(layout.slots)} + {layout.seed}) % {layout.slots} AS pos,
               lpad(CAST(i AS VARCHAR), {layout.width}, '0') AS n,
               (i * 7919 + {layout.seed}) % 20 AS plan_draw
        FROM range(1, {layout.slots + 1}) t(i)
    ), roles AS (
        SELECT *, CASE {role_cases} ELSE 'in_sync' END AS role FROM base
    )
    SELECT i, n, role,
        CASE WHEN role = 'plan_drift' THEN 'pro'
             WHEN plan_draw < 8 THEN 'basic' WHEN plan_draw < 17 THEN 'pro'
             ELSE 'team' END AS plan,
        role IN ('unpaid_but_active', 'noise_canceled') AS canceled,
        DATE '2026-10-23' + CAST(i % 30 AS INTEGER) AS active_start,
        DATE '2026-08-01' + CAST(i % 30 AS INTEGER) AS canceled_start
    FROM roles
    """


def _numbers_sql(count: int, width: int) -> str:
    return f"SELECT j, lpad(CAST(j AS VARCHAR), {width}, '0') AS n FROM range(1, {count + 1}) t(j)"


def _history_sql(layout: Layout) -> str:
    """Padding subscriptions: the j-th goes to the ((j - 1) mod in_sync + 1)-th in-sync slot."""
    return f"""
    WITH numbered AS ({_numbers_sql(layout.history_subscriptions, layout.width)}),
    targets AS (SELECT *, row_number() OVER (ORDER BY i) AS r FROM slots WHERE role = 'in_sync')
    SELECT j, numbered.n AS hn, targets.i, targets.n, targets.plan
    FROM numbered JOIN targets ON targets.r = (j - 1) % {layout.in_sync} + 1
    """


_BILLING_SLOT_SQL = """
SELECT 0 AS part, i AS ord,
    'sub_' || n AS "id", 'cus_' || n AS "Customer ID", 'user_' || n || '@example.com'
        AS "Customer Email",
    CASE WHEN canceled THEN 'canceled' ELSE 'active' END AS "Status",
    'price_' || plan AS "Plan",
    CASE WHEN plan = 'team' THEN 1 + i % 9 ELSE 1 END AS "Quantity",
    'usd' AS "Currency", 'month' AS "Interval",
    CASE plan WHEN 'basic' THEN '9.00' WHEN 'pro' THEN '29.00' ELSE '99.00' END AS "Amount",
    CASE WHEN canceled THEN canceled_start ELSE active_start END AS period_start,
    role = 'noise_cape' AS cape
FROM slots
"""

_BILLING_ORPHAN_SQL = """
SELECT 1, j, 'sub_orphan_' || n, 'cus_orphan_' || n, 'orphan_' || n || '@example.com',
    'active', 'price_pro', 1, 'usd', 'month', '29.00', DATE '2026-11-01', false
FROM extra
UNION ALL
SELECT 2, j, 'sub_prev_' || hn, 'cus_' || n, 'user_' || n || '@example.com', 'canceled',
    'price_' || plan, 1, 'usd', 'month',
    CASE plan WHEN 'basic' THEN '9.00' WHEN 'pro' THEN '29.00' ELSE '99.00' END,
    DATE '2026-05-01' + CAST(i % 30 AS INTEGER), false
FROM history
"""

_APP_SQL = """
SELECT 0 AS part, i AS ord, 'acct_' || n AS id, 'user_' || n || '@example.com' AS email,
    'cus_' || n AS stripe_customer_id,
    CASE WHEN role IN ('paid_but_blocked', 'noise_canceled') THEN 'f' ELSE 't' END
        AS has_paid_access,
    CASE role WHEN 'plan_drift' THEN 'basic' WHEN 'noise_canceled' THEN 'free' ELSE plan END
        AS plan
FROM slots
UNION ALL
SELECT 1, j, 'acct_gone_' || n, 'gone_' || n || '@example.com', 'cus_gone_' || n, 't', 'pro'
FROM extra
UNION ALL
SELECT 2, j, 'acct_nolink_' || n, 'nolink_' || n || '@example.com', NULL, 't', 'pro'
FROM extra
UNION ALL
SELECT 3, row_number() OVER (ORDER BY i), 'acct_dup_' || lpad(
        CAST(row_number() OVER (ORDER BY i) AS VARCHAR), {width}, '0'),
    'dup_' || lpad(CAST(row_number() OVER (ORDER BY i) AS VARCHAR), {width}, '0')
        || '@example.com',
    'cus_' || n, 't', plan
FROM slots WHERE role = 'dup_target'
UNION ALL
SELECT 4, j, 'acct_free_' || n, 'free_' || n || '@example.com', NULL, 'f', 'free'
FROM free
"""


def _billing_query() -> str:
    return f"""
    SELECT "id", "Customer ID", "Customer Email", "Status", "Plan", "Quantity", "Currency",
        "Interval", "Amount",
        strftime(period_start, '%Y-%m-%d 00:00') AS "Current Period Start (UTC)",
        strftime(period_start + INTERVAL 1 MONTH, '%Y-%m-%d 00:00')
            AS "Current Period End (UTC)",
        CASE WHEN cape THEN 'true' ELSE 'false' END AS "Cancel At Period End"
    FROM ({_BILLING_SLOT_SQL} UNION ALL {_BILLING_ORPHAN_SQL})
    ORDER BY part, ord
    """


def _app_query(layout: Layout) -> str:
    inner = _APP_SQL.replace("{width}", str(layout.width))
    return (
        "SELECT id, email, stripe_customer_id, has_paid_access, plan "
        f"FROM ({inner}) ORDER BY part, ord"
    )


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    target = str(path).replace("'", "''")
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")


def expected_findings(layout: Layout) -> dict[str, object]:
    """The findings the data set must produce, plus what else it contains."""
    k = layout.per_kind
    injected = {
        "paid_but_blocked": k,
        "unpaid_but_active": k,
        "plan_drift": k,
        "orphaned_subscription": k,
        "missing_billing_link": k,
        "stale_billing_link": k,
        "duplicate_customer": k,
    }
    by_kind = {kind: injected.get(kind, 0) for kind in ALL_KINDS}
    return {
        "by_kind": by_kind,
        "total": sum(by_kind.values()),
        "accounts": layout.accounts,
        "subscriptions": layout.subscriptions,
        "as_of": "2026-11-22T00:00:00Z",
        "noise": {
            "canceled_and_blocked": layout.noise_canceled,
            "cancel_at_period_end_active": layout.noise_cancel_at_period_end,
            "free_unlinked_accounts": layout.free_accounts,
            "history_canceled_subscriptions": layout.history_subscriptions,
        },
        "layout": asdict(layout),
    }


def generate(layout: Layout, out: Path) -> dict[str, object]:
    """Write billing.csv, app.csv, billdrift.toml and expected.json into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"CREATE TEMP TABLE slots AS {_slots_sql(layout)}")
        con.execute(f"CREATE TEMP TABLE extra AS {_numbers_sql(layout.per_kind, layout.width)}")
        free = _numbers_sql(layout.free_accounts, layout.width)
        con.execute(f"CREATE TEMP TABLE free AS {free}")
        con.execute(f"CREATE TEMP TABLE history AS {_history_sql(layout)}")
        _copy(con, _billing_query(), out / "billing.csv")
        _copy(con, _app_query(layout), out / "app.csv")
    finally:
        con.close()
    _check_header(out / "billing.csv", BILLING_HEADER)
    _check_header(out / "app.csv", APP_HEADER)
    (out / "billdrift.toml").write_text(CONFIG_TOML, encoding="utf-8")
    expected = expected_findings(layout)
    text = json.dumps(expected, indent=2, sort_keys=True) + "\n"
    (out / "expected.json").write_text(text, encoding="utf-8")
    return expected


def _check_header(path: Path, header: str) -> None:
    with path.open(encoding="utf-8") as handle:
        first = handle.readline().rstrip("\n")
    if first != header:
        raise SystemExit(f"{path}: unexpected header {first!r}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rate", type=float, default=0.005, help="share of each drift kind")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    layout = plan_layout(args.accounts, args.subscriptions, args.seed, args.rate)
    expected = generate(layout, args.out)
    print(
        f"wrote {expected['accounts']} accounts, {expected['subscriptions']} subscriptions, "
        f"{expected['total']} expected findings to {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
