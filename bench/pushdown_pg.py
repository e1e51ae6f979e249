"""Benchmark `billdrift check --engine postgres` against reading both sides in-process.

Usage::

    python bench/pushdown_pg.py [--sizes 100,10000,100000,1000000] [--repeat 3] [--markdown PATH]

The smallest size stands for the fixed start-up cost, which the scaling curve
subtracts from the larger ones.

For each size N the harness

1. starts a throwaway PostgreSQL server (tests/dbservers.py) and generates, inside it with
   ``generate_series``, a stripe sync-engine mirror (``stripe.subscriptions`` with
   ``items`` jsonb and integer timestamps, ``stripe.customers``) of N subscriptions and an
   app table ``public.users`` of N accounts, with drift injected in both directions
   (1 in 100 accounts denied although paid, 1 in 100 granted although canceled);
2. runs, alternating, ``--repeat`` times each::

       billdrift check --engine postgres --app URL --app-table public.users --billing URL ...
       billdrift check                   --app URL --app-table public.users --billing URL ...

   (the second reads both sides over the wire into the in-process engine) and measures
   wall time and peak RSS of billdrift exactly as bench/run.py does (psutil polling of
   the process tree, and wait4's ru_maxrss);
3. measures the bytes each way moves out of the server: pushed down, the one JSON value
   the plan's statement returns (run once more, timed apart); in-process, the rows of
   the tables it reads (``sum(pg_column_size(t.*))``, a lower bound on the wire bytes);
4. checks both runs report the same findings (the JSON reports' ``findings``), and the
   injected counts.

Any mismatch, crash or timeout exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from machine import cpu_model, software
from run import BenchFailure, Measurement, billdrift_executable, measure

BENCH = Path(__file__).resolve().parent
AS_OF = "2026-11-22T00:00:00Z"
TIMEOUT_S = 3600.0

#: The mirror and the app table, generated in the server (statements run in order).
_GENERATE = """
CREATE SCHEMA stripe;
CREATE TABLE stripe.customers (id text, object text, email text);
CREATE TABLE stripe.subscriptions (
  id text, object text, customer text, status text, items jsonb,
  cancel_at_period_end boolean, cancel_at integer, canceled_at integer, ended_at integer,
  current_period_start integer, current_period_end integer, trial_end jsonb, created integer,
  discount jsonb);
INSERT INTO stripe.customers
SELECT 'cus_' || g, 'customer', 'user' || g || '@example.com' FROM generate_series(1, {n}) g;
INSERT INTO stripe.subscriptions
SELECT 'sub_' || g, 'subscription', 'cus_' || g,
       CASE WHEN g % 100 = 7 THEN 'canceled' ELSE 'active' END,
       jsonb_build_object('object', 'list', 'has_more', false, 'data', jsonb_build_array(
         jsonb_build_object('id', 'si_' || g, 'quantity', 1 + g % 3,
           'price', jsonb_build_object('id', 'price_' || (g % 4), 'currency', 'usd',
             'unit_amount', 900 + 1000 * (g % 4), 'product', 'prod_' || (g % 4),
             'lookup_key', 'plan_' || (g % 4),
             'recurring', jsonb_build_object('interval', 'month', 'interval_count', 1))))),
       false, NULL, CASE WHEN g % 100 = 7 THEN 1793000000 END, NULL,
       1792800000, 1795400000, NULL, 1760000000, NULL
FROM generate_series(1, {n}) g;
CREATE TABLE public.users (id bigint, email text, stripe_customer_id text,
                           has_paid_access boolean, plan text);
INSERT INTO public.users
SELECT g, 'user' || g || '@example.com', 'cus_' || g, g % 100 NOT IN (3, 7) OR g % 100 = 7,
       'plan_' || (g % 4)
FROM generate_series(1, {n}) g;
ALTER TABLE stripe.customers ADD PRIMARY KEY (id);
ALTER TABLE stripe.subscriptions ADD PRIMARY KEY (id);
ALTER TABLE public.users ADD PRIMARY KEY (id);
VACUUM (FREEZE, ANALYZE);
"""

#: The benchmark server's settings (this script only; the tests' servers keep theirs).
#: tests/dbservers.py already turns fsync, full_page_writes and synchronous_commit off
#: (throwaway data). For loading 10M rows: WAL kept minimal and rarely checkpointed;
#: autovacuum off, since the load ends with an explicit VACUUM (FREEZE, ANALYZE) so that
#: neither mode pays hint-bit writes or a background vacuum during its run.
SERVER_SETTINGS = (
    "shared_buffers=2GB",
    "work_mem=64MB",
    "maintenance_work_mem=1GB",
    "max_wal_size=16GB",
    "checkpoint_timeout=1h",
    "wal_level=minimal",
    "max_wal_senders=0",
    "autovacuum=off",
    # statements over 10 s logged with their duration: the statement's time within a run
    "log_min_duration_statement=10000",
)

#: What the in-process run reads out of the server: the rows of these tables.
_READ_BYTES = """
SELECT (SELECT sum(pg_column_size(s.*)) FROM stripe.subscriptions s)
     + (SELECT sum(pg_column_size(c.*)) FROM stripe.customers c)
     + (SELECT sum(pg_column_size(u.*)) FROM public.users u)
"""


def _generate(server: Any, n: int) -> float:
    started = time.perf_counter()
    for statement in _GENERATE.replace("{n}", str(n)).split(";"):
        if statement.strip():
            server.execute(statement)
    return time.perf_counter() - started


#: The database reads' deadlines (connect to last row, 600 s by default) raised for 10M.
_CONFIG = "[app]\ntimeout_seconds = 14400\n[billing]\nmirror_timeout_seconds = 14400\n"


def _command(exe: Path, url: str, output: Path, engine: bool) -> list[str]:
    config = output.parent / "billdrift.toml"
    config.write_text(_CONFIG, encoding="utf-8")
    return [
        str(exe), "check", "--app", url, "--app-table", "public.users", "--billing", url,
        "--as-of", AS_OF, "--format", "json", "--output", str(output), "--config", str(config),
        *(["--engine", "postgres"] if engine else []),
    ]  # fmt: skip


def _logged_statement_seconds(server: Any) -> float:
    """The longest statement the server logged (log_min_duration_statement): the pushed-down
    statement's own time inside the push-down run, without running it again."""
    text = server.log.read_text("utf-8", errors="replace")
    found = [float(ms) for ms in re.findall(r"duration: ([0-9.]+) ms", text)]
    return max(found, default=0.0) / 1000


def _findings(path: Path) -> list[dict[str, Any]]:
    findings: list[dict[str, Any]] = json.loads(path.read_text("utf-8"))["findings"]
    return findings


def _pushed_bytes(url: str) -> tuple[int, float]:
    """The size of what the pushed-down statement returns, and how long it took."""
    from billdrift.config import AppConfig, BillingConfig, load_config
    from billdrift.core.engine import Inputs
    from billdrift.core.plan import build_plan
    from billdrift.core.policy import from_config
    from billdrift.infra.db.connect import connect
    from billdrift.infra.db.urls import resolve
    from billdrift.sources.pushdown.postgres import _fetch, dialect, prepare

    config = load_config(None)
    as_of = __import__("datetime").datetime.fromisoformat(AS_OF)
    with connect(resolve(url)) as conn:
        target = prepare(conn, AppConfig(table="public.users"), BillingConfig())
        plan = build_plan(Inputs([target.billing], target.app, from_config(config), as_of))
        statement = dialect.statement(plan, target.canonical, {"bd_guard": target.guard})
        started = time.perf_counter()
        rows = _fetch(conn, statement)
        took = time.perf_counter() - started
    return len(str(rows[0][0]).encode("utf-8")), took


def _progress(message: str) -> None:
    """One timestamped line with the load average: long runs report as they go."""
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[{stamp} UTC, load {load}] {message}", file=sys.stderr, flush=True)


def bench_size(n: int, repeat: int, exe: Path) -> dict[str, Any]:
    sys.path.insert(0, str(BENCH.parent))
    from tests.dbservers import PostgresServer

    server = PostgresServer(list(SERVER_SETTINGS))
    try:
        _progress(f"{n:,}: generating")
        generated = _generate(server, n)
        _progress(f"{n:,}: generated in {generated:.0f} s")
        url = server.admin_url
        read_bytes = int(server.execute(_READ_BYTES)[0][0])
        runs: dict[str, list[Measurement]] = {"postgres": [], "in-process": []}
        with tempfile.TemporaryDirectory(prefix="billdrift-pushdown-") as tmp:
            work = Path(tmp)
            for _ in range(repeat):
                for name in runs:
                    output = work / f"{name}.json"
                    measured = measure(
                        _command(exe, url, output, name == "postgres"),
                        work,
                        work / f"{name}.out",
                        work / f"{name}.err",
                        TIMEOUT_S,
                    )
                    if measured.returncode != 1:
                        err = (work / f"{name}.err").read_text("utf-8")[-2000:]
                        raise BenchFailure(f"{name}: exit {measured.returncode}: {err}")
                    runs[name].append(measured)
                    _progress(
                        f"{n:,} {name}: wall {measured.wall_seconds:.1f} s, "
                        f"peak RSS {measured.peak_rss / 1024**2:,.0f} MB, longest statement "
                        f"logged so far {_logged_statement_seconds(server):.1f} s"
                    )
            pushed, in_process = (
                _findings(work / "postgres.json"),
                _findings(work / "in-process.json"),
            )
        if pushed != in_process:
            raise BenchFailure("pushed-down and in-process findings differ")
        kinds: dict[str, int] = {}
        for finding in pushed:
            kinds[finding["kind"]] = kinds.get(finding["kind"], 0) + 1
        expected = {"paid_but_blocked": n // 100, "unpaid_but_active": n // 100}
        expected = {kind: count for kind, count in expected.items() if count}
        if kinds != expected:
            raise BenchFailure(f"expected {expected}, found {kinds}")
        result_bytes, statement_seconds = _pushed_bytes(url)
        _progress(f"{n:,}: statement alone {statement_seconds:.1f} s, {result_bytes:,} bytes")
    finally:
        server.stop()
    return {
        "n": n,
        "generated_seconds": generated,
        "runs": runs,
        "findings": len(pushed),
        "read_bytes": read_bytes,
        "result_bytes": result_bytes,
        "statement_seconds": statement_seconds,
    }


def _row(name: str, runs: list[Measurement], moved: int) -> str:
    walls = [run.wall_seconds for run in runs]
    peak = max(run.peak_rss for run in runs) / 1024**2
    return (
        f"| {name} | {statistics.median(walls):.1f} s | {min(walls):.1f} s | "
        f"{peak:,.0f} MB | {moved / 1024**2:,.1f} MB |"
    )


def _median(runs: list[Measurement]) -> float:
    return statistics.median(run.wall_seconds for run in runs)


def _curve(results: list[dict[str, Any]]) -> list[str]:
    """The scaling curve: each size's median wall, and the same minus the smallest size's
    (the fixed start-up cost: interpreter, imports, connecting, introspection, planning)."""
    base = {mode: _median(results[0]["runs"][mode]) for mode in ("postgres", "in-process")}
    lines = [
        f"Fixed start-up cost (the {results[0]['n']:,}-row run): `--engine postgres` "
        f"{base['postgres']:.1f} s, in-process {base['in-process']:.1f} s.",
        "",
        "| rows each side | `--engine postgres` wall (above start-up) | peak RSS | "
        "bytes out | in-process wall (above start-up) | peak RSS | bytes out |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        cells = [f"{result['n']:,}"]
        for mode, moved in (("postgres", "result_bytes"), ("in-process", "read_bytes")):
            runs = result["runs"][mode]
            wall = _median(runs)
            peak = max(run.peak_rss for run in runs) / 1024**2
            cells += [
                f"{wall:.1f} s ({wall - base[mode]:.1f} s)",
                f"{peak:,.0f} MB",
                f"{result[moved] / 1024**2:,.1f} MB",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def markdown(results: list[dict[str, Any]], repeat: int) -> str:
    lines = [
        f"- CPU: {cpu_model()}",
        "- " + software(("billdrift", "duckdb", "pyarrow", "sqlglot")),
        f"- {repeat} runs per mode, alternating; peak RSS of billdrift (psutil + wait4)",
        "",
        *_curve(results),
        "",
    ]
    for result in results:
        n = result["n"]
        lines += [
            f"**{n:,} subscriptions x {n:,} accounts** (generated in "
            f"{result['generated_seconds']:.0f} s; {result['findings']:,} findings, identical "
            f"both ways; the pushed-down statement alone: {result['statement_seconds']:.1f} s)",
            "",
            "| mode | median wall | best | peak memory | bytes out of the server |",
            "|---|---|---|---|---|",
            _row("`--engine postgres`", result["runs"]["postgres"], result["result_bytes"]),
            _row(
                "in-process (both sides read)", result["runs"]["in-process"], result["read_bytes"]
            ),
            "",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,10000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    exe = billdrift_executable()
    results = []
    for size in (int(text) for text in args.sizes.split(",")):
        try:
            results.append(bench_size(size, args.repeat, exe))
        except BenchFailure as error:
            print(f"FAILED at {size:,}: {error}", file=sys.stderr)
            return 1
    text = markdown(results, args.repeat)
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
