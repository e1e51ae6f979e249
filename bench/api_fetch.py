"""Benchmark `billdrift check --billing stripe` against a rate-limited, slow local Stripe.

Usage::

    python bench/api_fetch.py [--subscriptions 20000] [--rate 25,100] [--latency 0.05,0.2]
        [--pacing 1.0] [--concurrency N] [--wait-idle 120] [--work-dir DIR] [--markdown PATH]
        [--gc-probe]

What is measured, and why. Reading Stripe's API is bound by two things billdrift
does not control: the request rate (about 25 requests/s in test mode, 100/s
live, for the whole account, shared with the user's own app; and 25/s for any one
endpoint, so a subscription walk, one endpoint, gets W = min(R, 25)) and the
latency of each request. A full fetch costs one request per 100 subscriptions, so the fastest
possible fetch is about ``requests / rate`` seconds; the questions are how close
billdrift gets to the allowed rate without tripping 429s (issue 4: at least 90%),
and how few requests an incremental run needs (issue 4: under 5% of a full one).
For every (rate R, latency L) scenario (default: R 25 and 100, L 0.05 and 0.2 s):

1. a fresh fake Stripe (tests/fakes/stripe_fake.py) runs in a CHILD PROCESS on
   127.0.0.1, populated with N subscriptions (seed 42), ``rate_limit`` R (requests
   per sliding 1 s window, a 429 above it), ``endpoint_rate_limit`` 25 (the same,
   per endpoint: Stripe's default) and ``latency`` L (slept before every answer).
   Its own process, so the fake's CPU never competes with the client for
   one GIL; it records each request's start and end and its own CPU time;
2. the real CLI runs, end to end, in a subprocess::

       billdrift check --billing stripe --app app.csv --config billdrift.toml \\
           --as-of ... --format json --output out.json

   with STRIPE_API_KEY a test-mode key (R <= 25) or a live-mode key (R > 25), and
   ``[billing.stripe]`` setting ``api_base`` (the fake) and ``snapshot_dir``.
   ``app.csv`` has one account per customer of the fake (access granted when the
   customer holds an active, trialing or past-due subscription);
3. three runs, in this order:

   * **full @R**: ``max_requests_per_second = R`` and
     ``max_requests_per_second_per_endpoint = W`` (x ``--pacing``): billdrift paced at
     the server's limits. Does it reach 90% of W without 429s?
   * then 1% of the subscriptions change through the fake store's helpers (a
     third canceled, a third set to past_due (or back to active), a third given
     one more seat), each appending the event Stripe would;
   * **incremental**: the same snapshot directory, so billdrift reads only
     ``/v1/events`` since the snapshot;
   * **full, default pacing**: no pacing settings (billdrift then leaves headroom for
     the user's app: 20/s in test mode, 60/s live, 20/s per endpoint) and a fresh snapshot
     directory: what a user gets out of the box, and the reference full fetch of
     the changed data. Incremental ratio = incremental requests / its requests;

4. measures at the server (``time.monotonic()`` in the fake's process): requests,
   429s, fetch seconds = first request's arrival to the last answer, achieved
   rate = successful requests / fetch seconds and its % of W, subscriptions per
   second, the busiest 1 s window of arrivals, requests in flight on average, and
   (printed, for diagnosis) requests per second over time, the first arrivals and
   the longest time with nothing in flight. Also the CLI's wall time (process start
   to exit: imports, reconciliation and the report included), the CPU of billdrift
   and of the fake, and the cores other processes used meanwhile (a warning above
   0.25: on a shared machine, scheduling delays distort the pacing). Each request
   log is kept as ``<scenario>-<run>.requests.json`` in ``--work-dir``;
5. verifies every run and exits non-zero otherwise: exit code 0 or 1; the source's
   request count equals the server's; the subscription ids billdrift read (its
   snapshot, written from exactly what it fetched) equal the fake's, none missing,
   none extra; the incremental run really was incremental, and its snapshot
   (subscriptions and items, every column) and findings equal those of the full
   fetch that follows it on the same data.

Even a perfect client stays a little under R on a short fetch: the first page and
the ``created``-filter probe are sequential, and the last answer comes L after the
last request. The results table goes to stdout and, with --markdown, to a file.

``--gc-probe`` is a diagnosis instead of the benchmark: billdrift's
``SubscriptionWalk`` runs in this process against the same fake, first with the
cyclic garbage collector on (as the CLI runs), then off, timing every full
collection, to show how much of the rate and how many 429s the collector's pauses
cost (threads stall, then send their overdue requests in a burst).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psutil
import pyarrow as pa
import pyarrow.parquet as pq

from machine import cpu_model, software

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SEED = 42
TEST_KEY = "sk_test_51BilldriftBenchKey0000000000000"
LIVE_KEY = "sk_live_51BilldriftBenchKey0000000000000"
#: Stripe's documented account-wide limits: at or below this, a scenario uses a test key.
TEST_MODE_MAX_RATE = 25.0
#: Stripe's documented default limit per endpoint, which the fake enforces too.
ENDPOINT_LIMIT = 25.0
TARGET_RATE_FRACTION = 0.90
TARGET_INCREMENTAL_RATIO = 0.05
CHANGED_FRACTION = 0.01
MUTABLE_STATUSES = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})
ENTITLED_STATUSES = frozenset({"active", "trialing", "past_due"})
#: The machine counts as idle below this (percent of all cores, over one second).
IDLE_PERCENT = 10.0
OTHER_LOAD_WARN_CORES = 0.25


class BenchFailure(Exception):
    """A run crashed, timed out, or read something other than what the server holds."""


# --- the fake server, in its own process ---------------------------------------------------


def serve(
    conn: Connection, subscriptions: int, seed: int, now: int, rate: float, latency: float
) -> None:
    """Child process: run FakeStripe and obey commands sent over `conn` until "stop"."""
    sys.path.insert(0, str(ROOT))
    from tests.fakes.stripe_fake import FakeStripe

    fake = FakeStripe(
        keys={TEST_KEY: None, LIVE_KEY: None},
        rate_limit=rate,
        endpoint_rate_limit=ENDPOINT_LIMIT,
        latency=latency,
    )
    fake.populate(subscriptions, seed, now=now)
    # Every request's start and end (time.monotonic(), this process), status and thread (one
    # per kept-alive connection): the fake logs arrivals only.
    served: list[tuple[float, float, str, int | None, dict[str, str], str]] = []
    dispatch = fake._dispatch

    def timed(request: Any) -> Any:
        start = time.monotonic()
        response = dispatch(request)
        status = None if response is None else response.status
        thread = threading.current_thread().name
        served.append((start, time.monotonic(), request.path, status, dict(request.params), thread))
        return response

    fake._dispatch = timed  # type: ignore[method-assign]
    fake.start()
    conn.send(fake.url)
    store = fake.store
    cpu = time.process_time()
    while True:
        command, *args = conn.recv()
        if command == "reset":
            fake.reset_stats()
            served.clear()
            cpu = time.process_time()
            conn.send(None)
        elif command == "stats":
            conn.send(
                {
                    "max_per_second": fake.stats().max_per_second,
                    "log": list(served),
                    "cpu": time.process_time() - cpu,
                }
            )
        elif command == "ids":
            conn.send(sorted(sub["id"] for sub in store.subscriptions))
        elif command == "app":
            entitled: dict[str, bool] = {}
            for sub in store.subscriptions:
                grants = sub["status"] in ENTITLED_STATUSES
                entitled[sub["customer"]] = entitled.get(sub["customer"], False) or grants
            rows = [
                (c["id"], c.get("email"), entitled.get(c["id"], False)) for c in store.customers
            ]
            conn.send(rows)
        elif command == "mutate":
            conn.send(_mutate(store, *args))
        elif command == "stop":
            fake.stop()
            conn.send(None)
            return
        else:
            conn.send(f"unknown command {command!r}")


def _mutate(store: Any, fraction: float, seed: int) -> int:
    """Change `fraction` of all subscriptions through the store's event-writing helpers."""
    rng = random.Random(seed)
    everything = store.subscriptions
    candidates = [sub for sub in everything if sub["status"] in MUTABLE_STATUSES]
    chosen = rng.sample(candidates, round(len(everything) * fraction))
    for number, sub in enumerate(chosen):
        if number % 3 == 0:
            store.cancel_subscription(sub["id"])
        elif number % 3 == 1:
            store.update_subscription(
                sub["id"], status="past_due" if sub["status"] == "active" else "active"
            )
        else:
            items = [{**item, "quantity": item["quantity"] + 1} for item in sub["items"]["data"]]
            store.update_subscription(sub["id"], items=items)
    return len(chosen)


class FakeServer:
    """The parent's handle on the child process running FakeStripe for one scenario."""

    def __init__(self, scenario: Scenario, subscriptions: int, seed: int, now: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=serve,
            args=(child, subscriptions, seed, now, scenario.rate, scenario.latency),
            name="fake-stripe",
            daemon=True,
        )
        self._process.start()
        child.close()
        if not self._conn.poll(300):
            self.close()
            raise BenchFailure("the fake Stripe server did not start within 300 s")
        self.url: str = self._conn.recv()

    def call(self, *command: Any) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def close(self) -> None:
        if self._process.is_alive():
            with contextlib.suppress(OSError, EOFError):
                self.call("stop")
            self._process.join(10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()


# --- one billdrift run ---------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    rate: float
    latency: float

    @property
    def live(self) -> bool:
        return self.rate > TEST_MODE_MAX_RATE

    @property
    def mode(self) -> str:
        return "live" if self.live else "test"

    @property
    def walk_limit(self) -> float:
        """What a subscription walk (one endpoint) can get from the server: W."""
        return min(self.rate, ENDPOINT_LIMIT)

    @property
    def default_pacing(self) -> float:
        """What billdrift paces a walk at when nothing is set (rate_limits.py)."""
        return min(60.0 if self.live else 20.0, 20.0)

    @property
    def name(self) -> str:
        return f"{self.mode}-{self.rate:g}-{self.latency:g}"


@dataclass
class Run:
    """One `billdrift check` and what the server saw of it."""

    scenario: Scenario
    label: str
    pacing: float | None  # max_requests_per_second as configured; None: billdrift's default
    concurrency: int | None  # billing.stripe.concurrency; None: billdrift chooses
    peak_in_flight: int  # most requests in flight at once at the server: threads in use
    subscriptions: int
    requests: int
    rate_limited: int
    fetch_seconds: float  # first request's arrival to the last answer, at the server
    in_flight: float  # requests being served, on average over the fetch
    idle_gap: float  # longest time within the fetch with no request in flight (seconds)
    cli_seconds: float
    cli_cpu: float  # user + system seconds of the billdrift process
    server_cpu: float  # CPU seconds of the fake's process during the run
    other_load: float  # cores busy with other processes during the run, on average
    peak_window: int
    per_second: list[int]
    first_arrivals: list[float]  # ms after the first request, of the first few requests
    description: str
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pacing_text(self) -> str:
        if self.pacing is None:
            return f"unset ({self.scenario.default_pacing:g})"
        return f"{self.pacing:g}"

    @property
    def admitted_rate(self) -> float:
        return (self.requests - self.rate_limited) / self.fetch_seconds

    @property
    def rate_fraction(self) -> float:
        return self.admitted_rate / self.scenario.walk_limit

    @property
    def subscriptions_per_second(self) -> float:
        return self.subscriptions / self.fetch_seconds


def billdrift_executable() -> Path:
    exe = Path(sys.executable).parent / "billdrift"
    if not exe.exists():
        raise BenchFailure(f"billdrift executable not found: {exe}")
    return exe


def write_config(
    path: Path,
    api_base: str,
    snapshots: Path,
    pacing: float | None,
    concurrency: int | None,
    endpoint_pacing: float | None = None,
) -> None:
    lines = [
        "# Written by bench/api_fetch.py",
        "[billing.stripe]",
        f'api_base = "{api_base}"',
        f'snapshot_dir = "{snapshots}"',
        "incremental = true",
    ]
    if pacing is not None:
        lines.append(f"max_requests_per_second = {pacing:g}")
    if endpoint_pacing is not None:
        lines.append(f"max_requests_per_second_per_endpoint = {endpoint_pacing:g}")
    if concurrency is not None:
        lines.append(f"concurrency = {concurrency}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_check(
    server: FakeServer,
    scenario: Scenario,
    label: str,
    work: Path,
    snapshots: Path,
    pacing: float | None,
    args: argparse.Namespace,
) -> Run:
    """Run the CLI once against the fake (its counters reset first) and measure it."""
    name = f"{scenario.name}-{re.sub(r'[^a-zA-Z0-9.]+', '-', label).strip('-')}"
    config, output = work / f"{name}.toml", work / f"{name}.json"
    endpoint = None if pacing is None else scenario.walk_limit * args.pacing
    write_config(config, server.url, snapshots, pacing, args.concurrency, endpoint)
    cmd = [
        str(billdrift_executable()),
        "check",
        "--billing",
        "stripe",
        "--app",
        str(work / f"{scenario.name}-app.csv"),
        "--config",
        str(config),
        "--as-of",
        args.as_of,
        "--format",
        "json",
        "--output",
        str(output),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRIPE_")}
    env.update(STRIPE_API_KEY=LIVE_KEY if scenario.live else TEST_KEY, CI="1")
    output.unlink(missing_ok=True)
    server.call("reset")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = _busy_cpu_seconds()
    started = time.perf_counter()
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        raise BenchFailure(f"{name}: timed out after {args.timeout:g} s") from None
    cli_seconds = time.perf_counter() - started
    machine_busy = _busy_cpu_seconds() - machine_before
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise BenchFailure(f"{name}: exit code {done.returncode}\n{done.stderr[-3000:]}")
    report = json.loads(output.read_text(encoding="utf-8"))
    description = next(s["description"] for s in report["sources"] if s["side"] == "billing")
    stats = server.call("stats")
    log: list[tuple[float, float, str, int | None, dict[str, str], str]] = stats["log"]
    if not log:
        raise BenchFailure(f"{name}: the server saw no request")
    log.sort(key=lambda entry: entry[0])
    first = log[0][0]
    fetch_seconds = max(entry[1] for entry in log) - first
    offsets = [entry[0] - first for entry in log]
    timeline = [
        {
            "start_ms": round(1000 * (start - first), 1),
            "end_ms": round(1000 * (end - first), 1),
            "path": path,
            "status": status,
            "params": params,
            "connection": thread,
        }
        for start, end, path, status, params, thread in log
    ]
    (work / f"{name}.requests.json").write_text(json.dumps(timeline, indent=1), encoding="utf-8")
    per_second = Counter(int(offset) for offset in offsets)
    idle_gap, busy_until = 0.0, log[0][1]
    for start, end, *_ in log[1:]:  # the longest time with no request in flight at the server
        idle_gap = max(idle_gap, start - busy_until)
        busy_until = max(busy_until, end)
    cli_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    client_requests = _number(r"([\d,]+) requests", description)
    if client_requests != len(log):
        raise BenchFailure(
            f"{name}: billdrift counted {client_requests} requests, the server {len(log)}"
        )
    return Run(
        scenario=scenario,
        label=label,
        pacing=pacing,
        concurrency=args.concurrency,
        peak_in_flight=_peak_in_flight(log),
        subscriptions=_number(r"([\d,]+) subscriptions", description),
        requests=len(log),
        rate_limited=sum(1 for entry in log if entry[3] == 429),
        fetch_seconds=fetch_seconds,
        in_flight=sum(end - start for start, end, *_ in log) / fetch_seconds,
        idle_gap=idle_gap,
        cli_seconds=cli_seconds,
        cli_cpu=cli_cpu,
        server_cpu=stats["cpu"],
        other_load=max(0.0, machine_busy - cli_cpu - stats["cpu"]) / cli_seconds,
        peak_window=stats["max_per_second"],
        per_second=[per_second.get(second, 0) for second in range(int(offsets[-1]) + 1)],
        first_arrivals=[round(1000 * offset, 1) for offset in offsets[:12]],
        description=description,
        findings=report["findings"],
    )


def _peak_in_flight(
    log: Sequence[tuple[float, float, str, int | None, dict[str, str], str]],
) -> int:
    """Most requests being served at the same moment."""
    events = sorted([(start, 1) for start, *_ in log] + [(entry[1], -1) for entry in log])
    peak = current = 0
    for _, change in events:  # at equal times an end (-1) sorts before a start (+1)
        current += change
        peak = max(peak, current)
    return peak


def _busy_cpu_seconds() -> float:
    """CPU seconds every process on the machine has used so far (all cores)."""
    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def _number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    if found is None:
        raise BenchFailure(f"no match for {pattern!r} in the source description: {text!r}")
    return int(found.group(1).replace(",", ""))


# --- verification --------------------------------------------------------------------------


def snapshot_tables(snapshots: Path) -> tuple[pa.Table, pa.Table]:
    """The snapshot billdrift wrote (exactly what it read), without generation tags."""
    found = [p for p in snapshots.glob("stripe-*") if p.is_dir() and "." not in p.name]
    if len(found) != 1:
        raise BenchFailure(f"expected one snapshot in {snapshots}, found {found}")
    subs = pq.read_table(found[0] / "subscriptions.parquet").replace_schema_metadata(None)
    items = pq.read_table(found[0] / "items.parquet").replace_schema_metadata(None)
    return subs, items


def verify_ids(run: Run, snapshots: Path, expected: list[str]) -> None:
    """The subscriptions billdrift read are exactly the fake's: none missing, none extra."""
    subs, _ = snapshot_tables(snapshots)
    read = subs["subscription_id"].to_pylist()
    if len(read) != len(set(read)):
        raise BenchFailure(f"{run.label}: the snapshot holds duplicate subscription ids")
    if set(read) != set(expected) or run.subscriptions != len(expected):
        missing, extra = set(expected) - set(read), set(read) - set(expected)
        raise BenchFailure(
            f"{run.label}: read {len(read)} subscriptions ({run.subscriptions} reported), the "
            f"fake holds {len(expected)}; missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}"
        )


def verify_same(incremental: Path, full: Path, inc_run: Run, full_run: Run) -> None:
    """The incremental snapshot (every column) and findings equal a fresh full fetch's."""
    pairs = zip(
        ("subscriptions", "items"), snapshot_tables(incremental), snapshot_tables(full), strict=True
    )
    for name, left, right in pairs:
        if left.schema != right.schema:
            raise BenchFailure(f"incremental vs full: {name} schemas differ")
        keys = [(column, "ascending") for column in left.column_names]
        if not left.sort_by(keys).equals(right.sort_by(keys)):
            raise BenchFailure(
                f"incremental vs full: {name} differ ({left.num_rows} vs {right.num_rows} rows)"
            )
    if inc_run.findings != full_run.findings:
        raise BenchFailure(
            f"incremental vs full: {len(inc_run.findings)} vs {len(full_run.findings)} findings"
        )


# --- reporting -----------------------------------------------------------------------------


def environment() -> list[str]:
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        "- " + software(("billdrift", "httpx", "orjson")),
        f"- billdrift code: {billdrift_origin()}",
    ]


def billdrift_origin() -> str:
    """Where the CLI imports billdrift from and, for this checkout, which commit it is."""
    found = subprocess.run(
        [sys.executable, "-c", "import billdrift; print(billdrift.__file__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    package = Path(found.stdout.strip()).parent
    if not package.is_relative_to(ROOT / "src"):
        return f"{package} (not this checkout)"

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = git("status", "--porcelain", "--", "src")
    changes = " plus uncommitted changes to src/" if dirty else ""
    return f"this checkout, commit {git('rev-parse', '--short', 'HEAD')}{changes}"


def markdown_table(runs: Sequence[Run]) -> str:
    lines = [
        "| mode | limit R (req/s) | latency (s) | run | max_requests_per_second | threads (peak) "
        "| subscriptions | requests | fetch (s) | req/s | % of W | 429s | subs/s "
        "| peak 1-s window | mean in flight | CLI wall (s) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        s = run.scenario
        lines.append(
            f"| {s.mode} | {s.rate:g} | {s.latency:g} | {run.label} | {run.pacing_text} "
            f"| {run.concurrency or 'auto'} ({run.peak_in_flight}) | {run.subscriptions:,} "
            f"| {run.requests:,} "
            f"| {run.fetch_seconds:.2f} | {run.admitted_rate:.1f} "
            f"| {100 * run.rate_fraction:.0f}% | {run.rate_limited} "
            f"| {run.subscriptions_per_second:,.0f} | {run.peak_window} | {run.in_flight:.1f} "
            f"| {run.cli_seconds:.2f} |"
        )
    return "\n".join(lines)


def incremental_table(results: Sequence[ScenarioResult]) -> str:
    lines = [
        "| mode | limit R | latency (s) | changed subscriptions | incremental requests "
        "| full-fetch requests | ratio | incremental fetch (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        s, inc, full = result.scenario, result.incremental, result.default
        lines.append(
            f"| {s.mode} | {s.rate:g} | {s.latency:g} | {result.changed:,} | {inc.requests:,} "
            f"| {full.requests:,} | {100 * result.ratio:.1f}% | {inc.fetch_seconds:.2f} |"
        )
    return "\n".join(lines)


def verdict_lines(results: Sequence[ScenarioResult]) -> list[str]:
    lines = []
    for result in results:
        s, run = result.scenario, result.full
        ok = run.rate_fraction >= TARGET_RATE_FRACTION and run.rate_limited == 0
        lines.append(
            f"- {s.mode} R={s.rate:g} L={s.latency:g}, max_requests_per_second "
            f"{run.pacing_text}: "
            f"{100 * run.rate_fraction:.0f}% of W={s.walk_limit:g}, {run.rate_limited} 429s: "
            f"{'met' if ok else 'MISSED'} (target >= 90% of W, no 429s); incremental "
            f"{100 * result.ratio:.1f}% of a full fetch's requests: "
            f"{'met' if result.ratio < TARGET_INCREMENTAL_RATIO else 'MISSED'} (target < 5%)"
        )
    for result in results:
        for run in (result.full, result.incremental, result.default):
            if run.other_load > OTHER_LOAD_WARN_CORES:
                lines.append(
                    f"- WARNING: {result.scenario.name}, {run.label}: other processes kept "
                    f"{run.other_load:.2f} cores busy during the run; not representative"
                )
    return lines


def print_run(run: Run) -> None:
    print(
        f"    {run.label:<22} {run.requests:>4} requests in {run.fetch_seconds:6.2f} s "
        f"= {run.admitted_rate:6.1f} req/s ({100 * run.rate_fraction:3.0f}% of "
        f"{run.scenario.walk_limit:g}), {run.rate_limited} x 429, peak window {run.peak_window}, "
        f"{run.in_flight:.1f} in flight (peak {run.peak_in_flight}), "
        f"longest idle gap {1000 * run.idle_gap:.0f} ms; "
        f"CLI {run.cli_seconds:.2f} s wall, {run.cli_cpu:.2f} s CPU; "
        f"fake {run.server_cpu:.2f} s CPU; other processes {run.other_load:.2f} cores"
    )
    print(f"      requests per second: {' '.join(map(str, run.per_second))}")
    print(f"      first arrivals (ms): {' '.join(f'{ms:g}' for ms in run.first_arrivals)}")
    print(f"      {run.description}")


# --- main ----------------------------------------------------------------------------------


@dataclass
class ScenarioResult:
    scenario: Scenario
    full: Run  # paced at R (or --pacing x R)
    incremental: Run
    default: Run  # default pacing, fresh snapshot: the reference full fetch
    changed: int

    @property
    def ratio(self) -> float:
        return self.incremental.requests / self.default.requests


def bench_scenario(scenario: Scenario, work: Path, args: argparse.Namespace) -> ScenarioResult:
    print(f"[{scenario.mode} mode, R={scenario.rate:g}/s, L={scenario.latency:g} s]")
    started = time.perf_counter()
    server = FakeServer(scenario, args.subscriptions, SEED, int(time.time()))
    try:
        print(
            f"    fake Stripe at {server.url}, {args.subscriptions:,} subscriptions, separate "
            f"process (populated in {time.perf_counter() - started:.1f} s)"
        )
        write_app_csv(work / f"{scenario.name}-app.csv", server.call("app"))
        first, second = work / f"{scenario.name}-snapshot-a", work / f"{scenario.name}-snapshot-b"
        for directory in (first, second):
            directory.mkdir(parents=True)
        wait_until_idle(args.wait_idle)
        pacing = scenario.rate * args.pacing
        label = "full @R" if args.pacing == 1 else f"full @{args.pacing:g}R"
        full = run_check(server, scenario, label, work, first, pacing, args)
        verify_ids(full, first, server.call("ids"))
        print_run(full)
        changed = server.call("mutate", CHANGED_FRACTION, SEED)
        print(f"    changed {changed} subscriptions (events appended)")
        inc = run_check(server, scenario, "incremental", work, first, pacing, args)
        expected = server.call("ids")
        verify_ids(inc, first, expected)
        if "incremental" not in inc.description:
            raise BenchFailure(f"the second run was not incremental: {inc.description}")
        print_run(inc)
        default = run_check(server, scenario, "full, default pacing", work, second, None, args)
        verify_ids(default, second, expected)
        print_run(default)
        verify_same(first, second, inc, default)
        print(
            "    verified: every run read exactly the fake's subscription ids; the incremental "
            "snapshot and findings equal the fresh full fetch's"
        )
    finally:
        server.close()
    return ScenarioResult(scenario, full, inc, default, changed)


# --- diagnosis: the walk in this process, cyclic GC on and off -----------------------------


@dataclass
class ProbeRun:
    scenario: Scenario
    gc: str
    threads: int
    requests: int
    rate_limited: int
    seconds: float
    ok_requests: int
    pauses: list[float]  # gen-2 collections over 20 ms, seconds

    @property
    def rate_fraction(self) -> float:
        return self.ok_requests / self.seconds / self.scenario.walk_limit


class GcTimer:
    """A ``gc.callbacks`` hook timing every full (generation 2) collection."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        elif info["generation"] == 2:
            self.pauses.append(time.perf_counter() - self._began)


def gc_probe(scenario: Scenario, args: argparse.Namespace) -> list[ProbeRun]:
    """Run billdrift's SubscriptionWalk here, in this process, against a fresh fake, with
    the cyclic garbage collector on (as the CLI runs) and then off, timing each full
    collection. Not the end-to-end figure: a diagnosis of where the pacing is lost.
    Verifies that every subscription was read."""
    print(f"[gc probe: {scenario.mode} mode, R={scenario.rate:g}/s, L={scenario.latency:g} s]")
    server = FakeServer(scenario, args.subscriptions, SEED, int(time.time()))
    try:
        expected = set(server.call("ids"))
        wait_until_idle(args.wait_idle)
        runs = [_probe_once(server, scenario, args, expected, gc_on) for gc_on in (True, False)]
    finally:
        server.close()
    return runs


def _probe_once(
    server: FakeServer,
    scenario: Scenario,
    args: argparse.Namespace,
    expected: set[str],
    gc_on: bool,
) -> ProbeRun:
    import gc

    from billdrift.config import StripeApiConfig
    from billdrift.sources.billing.stripe_api import stripe_client
    from billdrift.sources.billing.stripe_key import StripeKey
    from billdrift.sources.billing.stripe_walk import SubscriptionWalk

    options = StripeApiConfig(
        api_base=server.url,
        max_requests_per_second=scenario.rate * args.pacing,
        max_requests_per_second_per_endpoint=scenario.walk_limit * args.pacing,
        concurrency=args.concurrency,
    )
    client, _notes = stripe_client(
        options, StripeKey(LIVE_KEY if scenario.live else TEST_KEY, "KEY")
    )
    timer = GcTimer()
    server.call("reset")
    gc.callbacks.append(timer)
    if not gc_on:
        gc.disable()
    try:
        walk = SubscriptionWalk(client, options.concurrency)
        started = time.perf_counter()
        found = set(walk.run())
        seconds = time.perf_counter() - started
    finally:
        gc.enable()
        gc.callbacks.remove(timer)
        client.close()
    if found != expected:
        raise BenchFailure(f"gc probe: read {len(found)} subscriptions, not the fake's")
    log = server.call("stats")["log"]
    run = ProbeRun(
        scenario,
        "on" if gc_on else "off",
        walk.threads,
        len(log),
        sum(1 for entry in log if entry[3] == 429),
        seconds,
        sum(1 for entry in log if entry[3] == 200),
        [pause for pause in timer.pauses if pause > 0.02],
    )
    print(
        f"    GC {run.gc}: {run.threads} threads, {run.requests} requests, "
        f"{run.rate_limited} x 429, {seconds:.2f} s, {100 * run.rate_fraction:.0f}% of W; "
        f"full collections over 20 ms: "
        f"{' '.join(f'{1000 * p:.0f} ms' for p in run.pauses) or 'none'}"
    )
    gc.collect()
    time.sleep(1.5)  # let the server's 1 s window empty before the next run
    return run


def probe_table(runs: Sequence[ProbeRun]) -> str:
    lines = [
        "| mode | limit R | latency (s) | cyclic GC | threads | requests | 429s | walk (s) "
        "| % of W | full collections > 20 ms (ms) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        s = run.scenario
        pauses = ", ".join(f"{1000 * pause:.0f}" for pause in run.pauses) or "-"
        lines.append(
            f"| {s.mode} | {s.rate:g} | {s.latency:g} | {run.gc} | {run.threads} "
            f"| {run.requests:,} | {run.rate_limited} | {run.seconds:.2f} "
            f"| {100 * run.rate_fraction:.0f}% | {pauses} |"
        )
    return "\n".join(lines)


def wait_until_idle(limit: float) -> None:
    """Wait (up to `limit` seconds) until other processes leave the cores alone."""
    started = time.monotonic()
    while (busy := psutil.cpu_percent(interval=1.0)) > IDLE_PERCENT:
        waited = time.monotonic() - started
        if waited > limit:
            print(f"    WARNING: the machine is still {busy:.0f}% busy; running anyway")
            return
        if waited < 1.5:
            print(f"    waiting for an idle machine ({busy:.0f}% busy with other processes)")


def write_app_csv(path: Path, rows: list[tuple[str, str | None, bool]]) -> None:
    """One app account per customer of the fake, access as its subscriptions grant."""
    lines = ["id,email,stripe_customer_id,has_paid_access"]
    for number, (customer, email, entitled) in enumerate(rows, 1):
        lines.append(f"acct_{number:06d},{email or ''},{customer},{'t' if entitled else 'f'}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark billdrift's Stripe API fetch")
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument(
        "--rate",
        default="25,100",
        help="comma-separated server limits R (req/s); R <= 25 uses a test-mode key, else live",
    )
    parser.add_argument("--latency", default="0.05,0.2", help="comma-separated seconds/request")
    parser.add_argument(
        "--pacing",
        type=float,
        default=1.0,
        help="pacing of the first full run, as a fraction of R and W [1.0]",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        help="billing.stripe.concurrency of every run [unset: billdrift chooses]",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per CLI run")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=120.0,
        help="before each scenario, wait up to this many seconds for an idle machine [120]",
    )
    parser.add_argument(
        "--gc-probe",
        action="store_true",
        help="diagnosis instead: the walk in this process with the cyclic GC on, then off",
    )
    parser.add_argument("--markdown", type=Path, help="also write the results here")
    parser.add_argument(
        "--work-dir", type=Path, help="keep configs, reports, snapshots and request logs here"
    )
    args = parser.parse_args(argv)
    args.rates = [float(value) for value in args.rate.split(",") if value]
    args.latencies = [float(value) for value in args.latency.split(",") if value]
    args.as_of = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scenarios = [Scenario(rate, latency) for rate in args.rates for latency in args.latencies]
    if args.gc_probe:
        try:
            probes = [run for scenario in scenarios for run in gc_probe(scenario, args)]
        except BenchFailure as error:
            print(f"BENCHMARK FAILED: {error}", file=sys.stderr)
            return 1
        return report(args, [probe_table(probes)])
    results: list[ScenarioResult] = []
    with tempfile.TemporaryDirectory(prefix="billdrift-api-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        try:
            for scenario in scenarios:
                results.append(bench_scenario(scenario, work, args))
        except BenchFailure as error:
            print(f"BENCHMARK FAILED: {error}", file=sys.stderr)
            return 1
    runs = [run for result in results for run in (result.full, result.default)]
    tables = [markdown_table(runs), incremental_table(results), "\n".join(verdict_lines(results))]
    return report(args, tables)


def report(args: argparse.Namespace, tables: list[str]) -> int:
    """Print the machine facts and the tables; with --markdown, write them there too."""
    text = "\n\n".join(["\n".join(environment()), *tables])
    print(f"\n{text}")
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
