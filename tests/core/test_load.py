"""The account_access relation the engine registers without a join (issue 17)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from billdrift.core.load import _aligned_access
from billdrift.core.model import APP_ACCESS_SIGNALS, APP_ACCOUNTS
from billdrift.core.rules.account_stages import ACCOUNT_ACCESS

IDS = ["a1", "a2", "a3"]


def _accounts() -> pa.Table:
    return pa.table(
        {
            "account_id": IDS,
            "customer_id": ["cus_1", None, "cus_3"],
            "subscription_id": [None, None, None],
            "email": ["x@example.com", None, None],
            "plan": ["pro", None, "basic"],
            "role": [None, None, None],
            "source_ref": ["app.csv:line "] * 3,
            "source_number": [2, 3, 4],
        },
        schema=APP_ACCOUNTS,
    )


def _signals(extra: bool) -> pa.Table:
    rows = [(account, "paid", "flag", "t", True, True) for account in IDS]
    if extra:  # a second, non-primary field on one account
        rows.insert(1, ("a1", "status", "status", "active", None, False))
    columns = list(zip(*rows, strict=True))
    return pa.table(
        dict(zip(APP_ACCESS_SIGNALS.names, map(list, columns), strict=True)),
        schema=APP_ACCESS_SIGNALS,
    )


def _by_join(accounts: pa.Table, signals: pa.Table) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.register("app_accounts", accounts)
    con.register("app_access_signals", signals)
    return con.execute(f"{ACCOUNT_ACCESS.query} ORDER BY account_id").fetchall()


def _rows(table: pa.Table) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    con.register("aligned", table)
    return con.execute("SELECT * FROM aligned ORDER BY account_id").fetchall()


def test_with_only_primary_signals_the_relation_shares_the_signals_columns() -> None:
    """One access field per account: account_access is the stage's rows, and its
    signal columns are the signals' own buffers, not a filtered copy kept alive
    for the whole run (30 MB at 1M accounts)."""
    accounts, signals = _accounts(), _signals(extra=False)
    aligned = _aligned_access(accounts, signals)
    assert aligned is not None
    assert _rows(aligned) == _by_join(accounts, signals)
    shared = aligned.column("access_field").chunk(0).buffers()[2]
    assert shared.address == signals.column("field").chunk(0).buffers()[2].address


def test_with_a_non_primary_signal_the_primary_ones_are_picked() -> None:
    accounts, signals = _accounts(), _signals(extra=True)
    aligned = _aligned_access(accounts, signals)
    assert aligned is not None
    assert aligned.num_rows == len(IDS)
    assert _rows(aligned) == _by_join(accounts, signals)
