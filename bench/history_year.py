"""A simulated year of nightly runs against one history store (issue 18).

What it answers: does the history stay small and fast for a large account that is
monitored every night? One run a day for `--runs` days (365), about `--findings`
findings (65,000, the 1M x 1M benchmark's order) of which `--churn` (1%) change each
run: a third change what they say (evidence, message, money), a third resolve and a
third appear. Each run is recorded through the library's recording path, the one
``billdrift check --history`` calls (:func:`billdrift.usecases.recording.record`: open
the store, record the run, prune by the retention policy if one is set, read the
chart's runs and the findings' reviews), so the figures are what users pay.

Measured per backend (SQLite file, PostgreSQL database):

* the store's size after the year (target: under 1 GB);
* recording time per run (median, p95, max) and the first and last run's;
* ``review``'s first page (the library call behind ``billdrift review`` and the web
  app; median of 5), also filtered by kind and by a text search, and the CLI's wall
  time (the interpreter's start included);
* the HTML trend section over the year's runs (reading them and rendering);
* SQLite only: the gzip-compressed tarball of the file, what a GitHub Actions
  workflow carries between runs as a cache or artifact;
* then a prune to 90 days of runs and 30 days of resolved findings, and the size after.

Run from the repository root::

    .venv/bin/python bench/history_year.py                      # 365 runs, both backends
    .venv/bin/python bench/history_year.py --runs 10 --findings 2000 --backends sqlite
    .venv/bin/python bench/history_year.py --postgres postgresql://u:p@host/db

Without ``--postgres`` a throwaway PostgreSQL server is started (the tests' helper,
tests/dbservers.py, needs Debian's postgresql package). Results are printed as a
markdown table and written as JSON to ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from billdrift.config import parse_config
from billdrift.core.model import Exposure, Finding, Kind, Severity
from billdrift.core.report import Report, decide_verdict
from billdrift.history import open_store, record_run, run_table
from billdrift.history.queue import QueueQuery
from billdrift.history.retention import Policy
from billdrift.outputs.render.history_points import RunPoint
from billdrift.outputs.render.html_trend import history_section
from billdrift.usecases import review as review_usecase
from billdrift.usecases.recording import record

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2026, 1, 1, 2, 0, tzinfo=UTC)
KINDS = (
    Kind.PAID_BUT_BLOCKED,
    Kind.UNPAID_BUT_ACTIVE,
    Kind.PLAN_DRIFT,
    Kind.ORPHANED_SUBSCRIPTION,
    Kind.MISSING_BILLING_LINK,
    Kind.STALE_BILLING_LINK,
    Kind.DUPLICATE_CUSTOMER,
)
SEVERITY = {Kind.PLAN_DRIFT: Severity.MEDIUM, Kind.DUPLICATE_CUSTOMER: Severity.LOW}
FIRST_PAGE_REPEATS = 5


@dataclass
class YearResult:
    backend: str
    runs: int
    findings_start: int
    findings_end: int
    record_seconds: list[float] = field(default_factory=list)
    #: This process's CPU seconds per run (a shared machine inflates wall time; a
    #: PostgreSQL server's own CPU is not in it).
    record_cpu_seconds: list[float] = field(default_factory=list)
    store_bytes: int = 0
    tarball_bytes: int | None = None
    tarball_seconds: float | None = None
    first_page_seconds: float = 0.0
    first_page_kind_seconds: float = 0.0
    first_page_search_seconds: float = 0.0
    cli_first_page_seconds: float = 0.0
    queue_total: int = 0
    trend_read_seconds: float = 0.0
    trend_render_seconds: float = 0.0
    pruned: dict[str, Any] = field(default_factory=dict)
    store_bytes_after_prune: int = 0
    prune_seconds: float = 0.0

    def summary(self) -> dict[str, Any]:
        times = sorted(self.record_seconds)
        data = asdict(self)
        data.pop("record_seconds")
        cpu = data.pop("record_cpu_seconds")
        data["record_cpu_median_seconds"] = statistics.median(cpu)
        data["record_median_seconds"] = statistics.median(times)
        data["record_p95_seconds"] = times[max(0, round(0.95 * len(times)) - 1)]
        data["record_max_seconds"] = times[-1]
        data["record_first_seconds"] = self.record_seconds[0]
        data["record_last_seconds"] = self.record_seconds[-1]
        return data


class Population:
    """The findings one run reports, and how they drift from run to run (seeded)."""

    def __init__(self, size: int, seed: int) -> None:
        self.random = random.Random(seed)
        self.next_id = 0
        self.version: dict[int, int] = {}
        self.findings: dict[int, Finding] = {}
        #: Each finding's row of the run's columns (``run_table.RunObservations.columns``).
        self.rows: dict[int, dict[str, Any]] = {}
        for _ in range(size):
            self._appear()

    def _finding(self, ident: int) -> Finding:
        kind = KINDS[ident % len(KINDS)]
        version = self.version[ident]
        amount = f"{19 + (ident % 7) * 10 + version}.00"
        account = None if kind is Kind.ORPHANED_SUBSCRIPTION else f"acct_{ident:06d}"
        return Finding(
            kind=kind,
            severity=SEVERITY.get(kind, Severity.HIGH),
            confidence=1.0,
            account_id=account,
            customer_id=f"cus_{ident:06d}",
            subscription_id=f"sub_{ident:06d}",
            exposure=None if kind is Kind.MISSING_BILLING_LINK else Exposure(amount, "USD"),
            message=(
                f"Stripe says sub_{ident:06d} is active (an entitling status), but the app "
                f"denies access to account {account} (has_paid_access=f); change {version}."
            ),
            fix="Grant access in the app, or cancel the subscription in Stripe.",
            evidence={
                "billing": {
                    "subscription_id": f"sub_{ident:06d}",
                    "status": "active",
                    "plan": "pro",
                    "amount": amount,
                    "current_period_end": (START + timedelta(days=30 + version)).isoformat(),
                },
                "app": {
                    "account_id": account,
                    "fields": {"has_paid_access": "f", "plan": "pro"},
                    "email": f"user{ident}@example.com",
                },
                "match": {"method": "customer_id", "confidence": 1.0},
            },
        )

    def _appear(self) -> None:
        ident = self.next_id
        self.next_id += 1
        self.version[ident] = 0
        self._set(ident)

    def _set(self, ident: int) -> None:
        finding = self._finding(ident)
        self.findings[ident] = finding
        # The finding's row of the run's columns, computed once per version with the
        # library's own function (what run_table.observations computes every run).
        single = run_table.observations_of((finding,), (), ())
        self.rows[ident] = {name: values[0] for name, values in single.columns.items()}

    def observations(self) -> run_table.RunObservations:
        """This run's observations from the cached rows (``--precomputed``): what
        run_table.observations builds from the report, without fingerprinting and
        hashing every unchanged finding again (tests/history/test_year_bench.py checks
        they agree). The evidence of the rows that need it is the findings' own."""
        rows = list(self.rows.values())
        columns = {name: [row[name] for row in rows] for name in rows[0]} if rows else {}
        findings = list(self.findings.values())
        return run_table.RunObservations(
            columns, findings, lambda ords: [findings[i].evidence for i in ords]
        )

    def drift(self, churn: float) -> None:
        """About `churn` of the findings change: a third reworded, a third resolved, a
        third new."""
        each = max(1, round(len(self.findings) * churn / 3))
        ids = self.random.sample(sorted(self.findings), 2 * each)
        for ident in ids[:each]:
            self.version[ident] += 1
            self._set(ident)
        for ident in ids[each:]:
            del self.findings[ident]
            del self.rows[ident]
        for _ in range(each):
            self._appear()

    def report(self, as_of: datetime) -> Report:
        findings = tuple(self.findings.values())
        return Report(
            verdict=decide_verdict(findings, (), (), Severity.HIGH),
            as_of=as_of,
            fail_on=Severity.HIGH,
            findings=findings,
            counts={"accounts": 1_000_000, "subscriptions": 1_000_000, "customers": 1_000_000},
        )


@contextlib.contextmanager
def _precomputed(population: Population, report: Report) -> Iterator[None]:
    """The library's run_table.observations answers `report` from the population's
    cached rows while recording it; everything else (the lifecycle, every write to
    the store) is the library's recording, unchanged."""
    real = run_table.observations

    def cached(given: Report) -> run_table.RunObservations:
        return population.observations() if given is report else real(given)

    run_table.observations = cached  # type: ignore[assignment]
    try:
        yield
    finally:
        run_table.observations = real  # type: ignore[assignment]


def _timed(func: Callable[[], object], repeats: int = 1) -> float:
    """Median wall seconds of `repeats` calls."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def simulate(
    location: str,
    backend: str,
    runs: int,
    findings: int,
    churn: float,
    seed: int = 42,
    progress: Callable[[str], None] = lambda _: None,
    workdir: Path | None = None,
    repeats: int = FIRST_PAGE_REPEATS,
    max_seconds: float | None = None,
    precomputed: bool = False,
) -> YearResult:
    """Record `runs` nightly runs into the (empty) store at `location`, then measure
    (each read `repeats` times, the median kept). With `max_seconds`, recording stops
    after the run that passes it (``runs`` then says how many were recorded): on a
    machine too loaded for the whole year, the figures of the part that ran."""
    population = Population(findings, seed)
    config = parse_config({"history": {"location": location}})
    result = YearResult(backend, runs, findings, 0)
    began = time.perf_counter()
    for day in range(runs):
        if max_seconds is not None and time.perf_counter() - began > max_seconds:
            result.runs = day
            progress(f"{backend}: stopped after {day} runs (--max-minutes)")
            break
        if day:
            population.drift(churn)
        as_of = START + timedelta(days=day)
        report = population.report(as_of)
        started, cpu = time.perf_counter(), time.process_time()
        if precomputed:
            with _precomputed(population, report), open_store(location) as store:
                record_run(store, report, as_of, as_of + timedelta(minutes=5))
        else:
            record(config, report, as_of, as_of + timedelta(minutes=5))
        result.record_seconds.append(time.perf_counter() - started)
        result.record_cpu_seconds.append(time.process_time() - cpu)
        if day % 5 == 0 or day == runs - 1:
            size = f", store {Path(location).stat().st_size:,} B" if backend == "sqlite" else ""
            progress(
                f"{backend}: run {day + 1}/{runs} recorded in {result.record_seconds[-1]:.2f} s "
                f"(CPU {result.record_cpu_seconds[-1]:.2f} s{size})"
            )
    result.findings_end = len(population.findings)
    _measure_reads(location, result, repeats)
    with open_store(location) as store:
        result.store_bytes = _size(store, location)
    if backend == "sqlite":
        result.tarball_bytes, result.tarball_seconds = _tarball(Path(location), workdir)
    now = START + timedelta(days=result.runs)
    with open_store(location) as store:
        started = time.perf_counter()
        pruned = store.prune(Policy(keep_runs_days=90, keep_resolved_days=30), now)
        compacted = store.compact()
        result.prune_seconds = time.perf_counter() - started
        result.pruned = {"runs": pruned.runs, "findings": pruned.findings, "spans": pruned.spans}
        result.store_bytes_after_prune = _size(store, location, compacted[1])
    return result


def _size(store: Any, location: str, known: int | None = None) -> int:
    if known is not None:
        return known
    if store.dialect == "sqlite":
        return Path(location).stat().st_size
    return int(store.size())


def _measure_reads(location: str, result: YearResult, repeats: int) -> None:
    result.first_page_seconds = _timed(lambda: review_usecase.queue(location), repeats)
    result.queue_total = review_usecase.queue(location).page.total
    by_kind = QueueQuery(kinds=("plan_drift",))
    result.first_page_kind_seconds = _timed(
        lambda: review_usecase.queue(location, by_kind), repeats
    )
    search = QueueQuery(text="acct_00042")
    result.first_page_search_seconds = _timed(
        lambda: review_usecase.queue(location, search), repeats
    )
    command = [sys.executable, "-m", "billdrift", "review", "--history", location]
    result.cli_first_page_seconds = _timed(
        lambda: subprocess.run(command, check=True, capture_output=True), min(3, repeats)
    )
    points: list[RunPoint] = []

    def read() -> None:
        with open_store(location) as store:
            points[:] = [
                RunPoint(r.finished_at, r.verdict.value, r.counts_by_kind, r.exposure_by_currency)
                for r in store.recent_runs(result.runs)
            ]

    result.trend_read_seconds = _timed(read, min(3, repeats))
    result.trend_render_seconds = _timed(lambda: history_section(points), min(3, repeats))


def _tarball(path: Path, workdir: Path | None) -> tuple[int, float]:
    """The store as a GitHub Actions workflow would carry it: a gzip tarball."""
    target = (workdir or path.parent) / "history.tar.gz"
    started = time.perf_counter()
    with tarfile.open(target, "w:gz") as tar:
        tar.add(path, arcname=path.name)
    seconds = time.perf_counter() - started
    size = target.stat().st_size
    target.unlink()
    return size, seconds


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    """`url`, or a throwaway server's database (stopped afterwards)."""
    if url:
        yield url
        return
    sys.path.insert(0, str(ROOT))
    from tests.dbservers import PostgresServer

    server = PostgresServer()
    try:
        yield server.admin_url
    finally:
        server.stop()


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value / 1_000_000:,.1f} MB"


def _cells(r: dict[str, Any]) -> dict[str, str]:
    """One result's column of the table, by row label."""
    pruned = r["pruned"]
    return {
        "runs recorded": f"{r['runs']}",
        "findings, first and last run": f"{r['findings_start']:,} / {r['findings_end']:,}",
        "store size after the year": _mb(r["store_bytes"]),
        "gzip tarball of the store (Actions cache)": _mb(r["tarball_bytes"]),
        "recording per run, median wall": f"{r['record_median_seconds']:.2f} s",
        "recording per run, median CPU (this process)": f"{r['record_cpu_median_seconds']:.2f} s",
        "recording per run, p95 / max wall": (
            f"{r['record_p95_seconds']:.2f} / {r['record_max_seconds']:.2f} s"
        ),
        "recording, first / last run": (
            f"{r['record_first_seconds']:.2f} / {r['record_last_seconds']:.2f} s"
        ),
        "review first page (library), open findings": (
            f"{r['first_page_seconds'] * 1000:.0f} ms ({r['queue_total']:,})"
        ),
        "review first page, --kind plan_drift / --search": (
            f"{r['first_page_kind_seconds'] * 1000:.0f} / "
            f"{r['first_page_search_seconds'] * 1000:.0f} ms"
        ),
        "`billdrift review` wall (process start included)": (
            f"{r['cli_first_page_seconds']:.2f} s"
        ),
        "HTML trend over the year: read runs / render": (
            f"{r['trend_read_seconds'] * 1000:.0f} / {r['trend_render_seconds'] * 1000:.0f} ms"
        ),
        "prune to 90 days of runs, 30 of resolved": (
            f"{pruned['runs']} runs, {pruned['findings']:,} findings, "
            f"{pruned['spans']:,} entries removed in {r['prune_seconds']:.1f} s"
        ),
        "store size after the prune (SQLite: VACUUM)": _mb(r["store_bytes_after_prune"]),
    }


def markdown(results: list[dict[str, Any]]) -> str:
    columns = [_cells(r) for r in results]
    lines = [
        "| | " + " | ".join(r["backend"] for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for label in columns[0]:
        lines.append(f"| {label} | " + " | ".join(c[label] for c in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=365)
    parser.add_argument("--findings", type=int, default=65_000)
    parser.add_argument("--churn", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres", help="a PostgreSQL URL [a throwaway server]")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--max-minutes", type=float, help="stop recording after this long (a partial year)"
    )
    parser.add_argument(
        "--precomputed",
        action="store_true",
        help="record each run with record_run, its observation table built from rows "
        "cached per finding version (no per-finding hashing of unchanged findings): "
        "the store gets the same rows, in about half the time",
    )
    args = parser.parse_args(argv)
    limit = None if args.max_minutes is None else args.max_minutes * 60
    results = []
    with tempfile.TemporaryDirectory(prefix="billdrift-year-") as tmp:
        for backend in args.backends.split(","):
            say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
            if backend == "sqlite":
                location = str(Path(tmp) / "history.sqlite")
                result = simulate(
                    location,
                    backend,
                    args.runs,
                    args.findings,
                    args.churn,
                    args.seed,
                    say,
                    Path(tmp),
                    max_seconds=limit,
                    precomputed=args.precomputed,
                )
            else:
                with postgres(args.postgres) as url:
                    result = simulate(
                        url,
                        backend,
                        args.runs,
                        args.findings,
                        args.churn,
                        args.seed,
                        say,
                        max_seconds=limit,
                        precomputed=args.precomputed,
                    )
            results.append(result.summary())
            say(json.dumps(results[-1], indent=2, default=str))
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
