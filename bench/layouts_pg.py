"""Time a check over a Fivetran-shaped Stripe schema in PostgreSQL, in-process and pushed
down (issue 17): the relational layouts' items gathered per subscription, deleted rows
skipped, freshness read.

Usage::

    python bench/layouts_pg.py [N]

Starts a throwaway PostgreSQL server (tests/dbservers.py), generates with
``generate_series`` a Fivetran schema (``stripe.subscription``, ``subscription_item``,
``price``, ``customer``, every row ``_fivetran_synced`` 4 h before the as-of instant) of N
subscriptions, 1 in 100 canceled and 1 in 1,000 ``_fivetran_deleted``, and an app table
``public.users`` of N accounts (1 in 100 denied access); then runs ``billdrift check``
twice each way, alternating, and prints the wall time of each run, its exit code, its
findings and skips, and whether both ways found the same. Any difference exits 1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.dbservers import PostgresServer  # noqa: E402

_SCHEMA = """
CREATE SCHEMA stripe;
CREATE TABLE stripe.customer (id text PRIMARY KEY, email text, _fivetran_synced timestamp,
  _fivetran_deleted boolean);
CREATE TABLE stripe.price (id text PRIMARY KEY, product_id text, unit_amount bigint,
  currency text, recurring_interval text, recurring_interval_count bigint,
  _fivetran_synced timestamp, _fivetran_deleted boolean);
CREATE TABLE stripe.subscription (id text PRIMARY KEY, customer_id text, status text,
  cancel_at_period_end boolean, current_period_start timestamp, current_period_end timestamp,
  created timestamp, _fivetran_synced timestamp, _fivetran_deleted boolean);
CREATE TABLE stripe.subscription_item (id text PRIMARY KEY, subscription_id text,
  plan_id text, quantity bigint, _fivetran_synced timestamp, _fivetran_deleted boolean);
INSERT INTO stripe.price VALUES ('price_pro', 'prod_pro', 2900, 'usd', 'month', 1,
  '2026-11-21 20:00', false);
INSERT INTO stripe.customer SELECT 'cus_' || g, 'user' || g || '@example.com',
  '2026-11-21 20:00', false FROM generate_series(1, {n}) g;
INSERT INTO stripe.subscription SELECT 'sub_' || g, 'cus_' || g,
  CASE WHEN g % 100 = 7 THEN 'canceled' ELSE 'active' END, false, '2026-11-01', '2026-12-01',
  '2026-01-01', '2026-11-21 20:00', g % 1000 = 999 FROM generate_series(1, {n}) g;
INSERT INTO stripe.subscription_item SELECT 'si_' || g, 'sub_' || g, 'price_pro', 1,
  '2026-11-21 20:00', false FROM generate_series(1, {n}) g;
CREATE TABLE public.users (id bigint PRIMARY KEY, email text, stripe_customer_id text,
  has_paid_access boolean);
INSERT INTO public.users SELECT g, 'user' || g || '@example.com', 'cus_' || g, g % 100 <> 3
  FROM generate_series(1, {n}) g;
ANALYZE
"""


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    server = PostgresServer()
    try:
        for statement in _SCHEMA.format(n=n).split(";\n"):
            server.execute(statement)
        url = server.admin_url
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        base = [sys.executable, "-m", "billdrift", "check", "--app", url, "--app-table",
                "public.users", "--billing", url, "--as-of", "2026-11-22T00:00:00Z",
                "--format", "json"]  # fmt: skip
        found: dict[str, list[object]] = {}
        for label, extra in [("in-process", []), ("pushed down", ["--engine", "postgres"])] * 2:
            start = time.perf_counter()
            done = subprocess.run(base + extra, capture_output=True, text=True, env=env)
            wall = time.perf_counter() - start
            report = json.loads(done.stdout)
            if found.setdefault(label, report["findings"]) != report["findings"]:
                return 1
            print(
                f"{label}: {wall:.1f} s, exit {done.returncode}, "
                f"{len(report['findings'])} findings, {len(report['skipped'])} skips"
            )
        same = found["in-process"] == found["pushed down"]
        print("same findings both ways:", same)
        return 0 if same else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
