"""The do-it-yourself baseline: one SQL query per active subscription.

Usage::

    python bench/naive_loop.py --data DIR [--db PATH] [--json]

This is the script everyone writes first: walk the billing export and, for each
``active`` subscription, ask the app database
``SELECT has_paid_access FROM users WHERE stripe_customer_id = ?``. A row whose answer
is not ``t`` is counted as *paid but blocked*, the only direction this loop checks
(it never notices unpaid-but-active accounts, plan drift, stale or missing links,
duplicates; subscriptions with no account are merely counted).

Two phases, timed separately:

``setup``
    Load DIR/app.csv into a SQLite file (``users`` table with an index on
    ``stripe_customer_id``, as a real app database has). Not part of the DIY cost:
    in real life the database already exists.
``loop``
    Read DIR/billing.csv with :mod:`csv` and run one parameterized query per active
    subscription against that file. This is the figure the benchmark compares. It is
    a lower bound: SQLite is in-process, so each query costs microseconds, whereas a
    query to PostgreSQL/MySQL over a network costs a round trip (typically 0.2-1 ms),
    i.e. minutes for a million subscriptions.
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

QUERY = "SELECT has_paid_access FROM users WHERE stripe_customer_id = ?"
_BATCH = 50_000


@dataclass(frozen=True)
class LoopResult:
    setup_seconds: float
    loop_seconds: float
    queries: int
    paid_but_blocked: int
    no_account: int


def _app_rows(path: Path) -> Iterator[tuple[str, str, str | None, str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            link = row["stripe_customer_id"] or None
            yield row["id"], row["email"], link, row["has_paid_access"], row["plan"]


def build_database(app_csv: Path, db_path: Path) -> None:
    """(Re)create the app database from app.csv, with the index a real app has."""
    db_path.unlink(missing_ok=True)
    con = sqlite3.connect(db_path)
    try:
        con.execute(
            "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, stripe_customer_id TEXT, "
            "has_paid_access TEXT, plan TEXT)"
        )
        rows = _app_rows(app_csv)
        while batch := [row for _, row in zip(range(_BATCH), rows, strict=False)]:
            con.executemany("INSERT INTO users VALUES (?, ?, ?, ?, ?)", batch)
        con.execute("CREATE INDEX users_stripe_customer_id ON users (stripe_customer_id)")
        con.commit()
    finally:
        con.close()


def naive_check(billing_csv: Path, db_path: Path) -> tuple[int, int, int]:
    """The DIY loop. Returns (queries, paid_but_blocked, no_account)."""
    queries = blocked = missing = 0
    con = sqlite3.connect(db_path)
    try:
        with billing_csv.open(newline="", encoding="utf-8") as handle:
            for sub in csv.DictReader(handle):
                if sub["Status"] != "active":
                    continue
                queries += 1
                user = con.execute(QUERY, (sub["Customer ID"],)).fetchone()
                if user is None:
                    missing += 1
                elif user[0] != "t":
                    blocked += 1
    finally:
        con.close()
    return queries, blocked, missing


def run(data: Path, db_path: Path) -> LoopResult:
    started = time.perf_counter()
    build_database(data / "app.csv", db_path)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    queries, blocked, missing = naive_check(data / "billing.csv", db_path)
    loop = time.perf_counter() - started
    return LoopResult(setup, loop, queries, blocked, missing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DIY one-query-per-subscription baseline")
    parser.add_argument("--data", type=Path, required=True, help="directory from generate.py")
    parser.add_argument("--db", type=Path, help="SQLite file to build (default DIR/app.sqlite)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = run(args.data, args.db or args.data / "app.sqlite")
    if args.json:
        print(json.dumps(asdict(result)))
    else:
        print(
            f"setup {result.setup_seconds:.2f} s (load app.csv into SQLite, not counted)\n"
            f"loop  {result.loop_seconds:.2f} s for {result.queries} queries "
            f"({1e6 * result.loop_seconds / max(result.queries, 1):.1f} us/query)\n"
            f"paid_but_blocked {result.paid_but_blocked}, "
            f"active subscriptions with no account {result.no_account}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
