"""The floor for an in-process check: the least work that reconciles the two files.

Usage::

    python bench/naive_baseline.py --data DIR [--output FILE]

Reads DIR/billing.csv and DIR/app.csv with DuckDB, joins them once on the Stripe
customer id and flags the two directions that matter most: an ``active``
subscription whose account has no paid access (paid but blocked), and an account
with paid access whose customer has no ``active`` subscription (unpaid but
active). The flagged rows are written to FILE as JSON lines (default
DIR/naive_baseline.jsonl) and the counts printed as JSON.

It is what a careful person writes in an afternoon, and the yardstick of issue 17:
billdrift's in-process time is reported as a ratio to this script's, measured in
the same alternating series (``bench/series.py``). It knows nothing billdrift
knows: no other status, no cancel-at-period-end, grace, plan, link, email match,
duplicate, skipped row, money or evidence. So its counts are not billdrift's; they
are checked only to make sure the join did its work (every injected
``paid_but_blocked`` row is among the flagged ones).

Timed as a whole process (interpreter start, ``import duckdb``, both reads, the
join, the write), like billdrift's own run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb

QUERY = """
COPY (
  WITH billing AS (
    SELECT "id" AS subscription_id, "Customer ID" AS customer_id, "Status" AS status
    FROM read_csv('{billing}', header = true, all_varchar = true)
  ),
  app AS (
    SELECT "id" AS account_id, "stripe_customer_id" AS customer_id,
           "has_paid_access" IN ('t', 'true', '1') AS access
    FROM read_csv('{app}', header = true, all_varchar = true)
  ),
  joined AS (
    SELECT coalesce(b.customer_id, a.customer_id) AS customer_id, a.account_id,
           bool_or(b.status = 'active') AS paid, bool_or(a.access) AS access
    FROM billing b FULL JOIN app a ON a.customer_id = b.customer_id
    GROUP BY ALL
  )
  SELECT customer_id, account_id,
         CASE WHEN paid THEN 'paid_but_blocked' ELSE 'unpaid_but_active' END AS kind
  FROM joined
  WHERE account_id IS NOT NULL AND (paid AND NOT coalesce(access, false)
                                    OR NOT coalesce(paid, false) AND access)
) TO '{output}' (FORMAT json)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with both CSVs")
    parser.add_argument("--output", type=Path, help="flagged rows (JSON lines)")
    args = parser.parse_args()
    output = args.output or args.data / "naive_baseline.jsonl"
    con = duckdb.connect()
    con.execute(
        QUERY.format(billing=args.data / "billing.csv", app=args.data / "app.csv", output=output)
    )
    counts = con.execute(
        "SELECT kind, count(*) FROM read_json(?) GROUP BY kind ORDER BY kind", [str(output)]
    ).fetchall()
    print(json.dumps(dict(counts)))


if __name__ == "__main__":
    main()
