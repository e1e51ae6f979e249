"""Benchmark `billdrift check` against the one-query-per-subscription DIY loop.

Usage::

    python bench/run.py [--sizes 10000,100000,1000000] [--repeat 3] [--markdown PATH]

For each size N the harness

1. generates N accounts x N subscriptions with bench/generate.py (cached under
   bench/data/, regenerated when generate.py or the arguments change);
2. runs, `--repeat` times, in the data directory::

       billdrift check --billing billing.csv --app app.csv --config billdrift.toml \\
           --as-of 2026-11-22T00:00:00Z --format json --output out.json

   with the ``billdrift`` next to ``sys.executable``, measuring wall time (process start
   to exit) and peak RSS: psutil sums the RSS of the process and all its descendants
   every ~10 ms, and ``os.wait4`` returns the kernel's high-water mark (ru_maxrss) of that
   one child (and its reaped descendants); the larger of the two is reported;
3. verifies every run: exit code 1 (high-severity drift), ``summary.by_kind`` equal to
   expected.json for every kind (a kind that was not injected must be absent or 0),
   ``summary.findings`` and ``len(findings)`` equal to the expected total;
4. runs bench/naive_loop.py once on the same data (measured the same way) and checks
   it finds exactly the injected paid_but_blocked cases.

With --profile, billdrift runs once more per size under cProfile (not timed in the
table) and the top functions by cumulative time are printed.

With --app-source postgresql, app.csv is first loaded (COPY, not timed) into a
throwaway PostgreSQL server (tests/dbservers.py) and billdrift reads the app side
from it: ``--app postgresql://... --app-table app_accounts``. The naive loop is
skipped in that mode (its baseline is the SQLite one).

Any mismatch, crash or timeout exits non-zero: a fast but wrong result does not pass.
The results table goes to stdout and, with --markdown, to a file.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from machine import cpu_model, software

BENCH = Path(__file__).resolve().parent
AS_OF = "2026-11-22T00:00:00Z"
#: How often the process tree's RSS is sampled. Each sample walks /proc to find
#: descendants (about 1 ms of CPU): every 10 ms that took a tenth of one of the two
#: cores from the run being measured. The kernel's high-water mark (wait4's
#: ru_maxrss) is exact for the process itself; sampling only adds descendants.
POLL_SECONDS = 0.1
TARGET_SIZE = 1_000_000
TARGET_WALL_SECONDS = 5.0
TARGET_RSS_BYTES = 1_500_000_000  # 1.5 GB (decimal), i.e. ~1430 MiB
MIB = 1024 * 1024
BUSY_WARN_PERCENT = 20.0


class BenchFailure(Exception):
    """A run crashed, timed out or produced the wrong findings."""


@dataclass(frozen=True)
class Measurement:
    wall_seconds: float
    polled_peak_rss: int  # bytes, sum over the process tree, sampled
    maxrss: int  # bytes, kernel high-water mark from wait4
    cpu_seconds: float  # user + system time of the child and its reaped descendants
    returncode: int

    @property
    def peak_rss(self) -> int:
        return max(self.polled_peak_rss, self.maxrss)


@dataclass(frozen=True)
class SizeResult:
    size: int
    accounts: int
    subscriptions: int
    runs: list[Measurement]
    findings: int
    naive: Measurement | None
    naive_report: dict[str, Any] | None
    busy_percent: float  # CPU used by other processes just before the runs

    @property
    def best(self) -> float:
        return min(run.wall_seconds for run in self.runs)

    @property
    def median(self) -> float:
        return statistics.median(run.wall_seconds for run in self.runs)

    @property
    def peak_rss(self) -> int:
        return max(run.peak_rss for run in self.runs)

    @property
    def best_cpu(self) -> float:
        return min(self.runs, key=lambda run: run.wall_seconds).cpu_seconds


# --- measuring ---------------------------------------------------------------------------


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            continue
    return total


def _watch(
    proc: subprocess.Popen[bytes], started: float, timeout: float
) -> tuple[float, int, Any, int]:
    """Poll until `proc` exits: (wall seconds, wait status, its rusage, polled peak RSS)."""
    root = psutil.Process(proc.pid)
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            return time.perf_counter() - started, status, usage, peak
        if time.perf_counter() - started > timeout:
            raise BenchFailure(f"timed out after {timeout:g} s: {' '.join(map(str, proc.args))}")
        peak = max(peak, _tree_rss(root))
        time.sleep(POLL_SECONDS)


def measure(cmd: list[str], cwd: Path, stdout: Path, stderr: Path, timeout: float) -> Measurement:
    """Run `cmd`, polling its tree's RSS, and reap it with wait4 for its ru_maxrss."""
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        try:
            wall, status, usage, peak = _watch(proc, started, timeout)
        except BaseException:
            proc.kill()  # timeout or Ctrl-C: leave no benchmark process behind
            proc.wait()
            raise
    proc.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return Measurement(wall, peak, usage.ru_maxrss * 1024, cpu, proc.returncode)


def busy_cpu_percent(seconds: float = 1.0) -> float:
    """System-wide CPU use over `seconds` while the harness sleeps: other people's load."""
    return psutil.cpu_percent(interval=seconds)


# --- data --------------------------------------------------------------------------------


def ensure_data(size: int, seed: int, root: Path) -> tuple[Path, dict[str, Any]]:
    """Generate (or reuse) the data set for one size; returns its dir and expectations."""
    directory = root / f"n{size}-s{seed}"
    generator = BENCH / "generate.py"
    args = ["--accounts", str(size), "--subscriptions", str(size), "--seed", str(seed)]
    stamp = hashlib.sha256(generator.read_bytes() + " ".join(args).encode()).hexdigest()
    stamp_file = directory / ".stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        print(f"[{size}] reusing {directory}")
    else:
        started = time.perf_counter()
        cmd = [sys.executable, str(generator), *args, "--out", str(directory)]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        stamp_file.write_text(stamp)
        print(f"[{size}] generated in {time.perf_counter() - started:.1f} s -> {directory}")
    expected = json.loads((directory / "expected.json").read_text())
    return directory, expected


# --- billdrift ---------------------------------------------------------------------------


def billdrift_executable(override: Path | None = None) -> Path:
    exe = override.resolve() if override else Path(sys.executable).parent / "billdrift"
    if not exe.exists():
        raise BenchFailure(f"billdrift executable not found: {exe}")
    return exe


def billdrift_command(exe: Path, app: list[str] | None = None) -> list[str]:
    return [
        str(exe),
        "check",
        "--billing",
        "billing.csv",
        *(app or ["--app", "app.csv"]),
        "--config",
        "billdrift.toml",
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--output",
        "out.json",
    ]


def _examples(report: dict[str, Any], kind: str, limit: int = 5) -> list[str]:
    keys = ("account_id", "customer_id", "subscription_id")
    found = [f for f in report.get("findings", []) if f.get("kind") == kind][:limit]
    return ["/".join(str(f.get(key)) for key in keys) for f in found]


def verify_report(directory: Path, expected: dict[str, Any], returncode: int) -> int:
    """Check one billdrift run; returns the number of findings or raises BenchFailure."""
    stderr = (directory / "billdrift.stderr").read_text(errors="replace")[-2000:]
    if returncode != 1:
        raise BenchFailure(f"billdrift exit code {returncode}, expected 1\n{stderr}")
    try:
        report = json.loads((directory / "out.json").read_text())
        by_kind: dict[str, int] = report["summary"]["by_kind"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BenchFailure(f"unreadable out.json: {error!r}\n{stderr}") from None
    want: dict[str, int] = expected["by_kind"]
    problems = [
        f"  {kind}: expected {want.get(kind, 0)}, got {by_kind.get(kind, 0)}; "
        f"examples (account/customer/subscription): {_examples(report, kind)}"
        for kind in sorted(set(want) | set(by_kind))
        if by_kind.get(kind, 0) != want.get(kind, 0)
    ]
    total = expected["total"]
    count = report["summary"].get("findings")
    if count is not None and count != total:
        problems.append(f"  summary.findings: expected {total}, got {count}")
    if len(report.get("findings", [])) != total:
        problems.append(f"  len(findings): expected {total}, got {len(report['findings'])}")
    if report.get("verdict") != "FAIL":
        problems.append(f"  verdict: expected FAIL, got {report.get('verdict')!r}")
    if problems:
        raise BenchFailure(f"wrong findings in {directory / 'out.json'}:\n" + "\n".join(problems))
    return total


def run_billdrift(
    directory: Path, expected: dict[str, Any], args: argparse.Namespace
) -> list[Measurement]:
    cmd = billdrift_command(billdrift_executable(args.billdrift), getattr(args, "app_args", None))
    repeat, timeout = args.repeat, args.timeout
    runs = []
    for attempt in range(1, repeat + 1):
        (directory / "out.json").unlink(missing_ok=True)
        run = measure(
            cmd, directory, directory / "billdrift.stdout", directory / "billdrift.stderr", timeout
        )
        verify_report(directory, expected, run.returncode)
        print(
            f"    billdrift run {attempt}: {run.wall_seconds:.2f} s (CPU {run.cpu_seconds:.2f} s), "
            f"peak RSS {run.peak_rss / MIB:.0f} MiB (polled {run.polled_peak_rss / MIB:.0f}, "
            f"maxrss {run.maxrss / MIB:.0f}), findings OK"
        )
        runs.append(run)
    return runs


# --- naive loop --------------------------------------------------------------------------


def run_naive(
    directory: Path, expected: dict[str, Any], timeout: float
) -> tuple[Measurement, dict[str, Any]]:
    cmd = [sys.executable, str(BENCH / "naive_loop.py"), "--data", ".", "--json"]
    stdout, stderr = directory / "naive.stdout", directory / "naive.stderr"
    run = measure(cmd, directory, stdout, stderr, timeout)
    if run.returncode != 0:
        raise BenchFailure(f"naive loop failed:\n{stderr.read_text()[-2000:]}")
    report: dict[str, Any] = json.loads(stdout.read_text())
    want = expected["by_kind"]["paid_but_blocked"]
    if report["paid_but_blocked"] != want:
        raise BenchFailure(
            f"naive loop found {report['paid_but_blocked']} paid_but_blocked, expected {want}"
        )
    print(
        f"    naive loop: {report['loop_seconds']:.2f} s for {report['queries']} queries "
        f"(+{report['setup_seconds']:.2f} s SQLite setup, not counted)"
    )
    return run, report


# --- profiling -------------------------------------------------------------------------


#: The command run in-process under cProfile, the profile written in a ``finally``:
#: ``python -m cProfile`` never wrote it, because billdrift's entry point ends the
#: process with ``os._exit`` (billdrift.infra.runtime.leave) before cProfile's own exit
#: code runs. argv: the profile's path, then billdrift's arguments.
_PROFILED = """
import cProfile, sys
from billdrift.cli.app import main
profile = cProfile.Profile()
profile.enable()
try:
    main(sys.argv[2:], standalone_mode=False)
finally:
    profile.disable()
    profile.dump_stats(sys.argv[1])
"""


def profile_billdrift(directory: Path, args: argparse.Namespace, top: int = 30) -> None:
    """Run billdrift once more under cProfile and print where the time goes."""
    exe = billdrift_executable(args.billdrift)
    profile = directory / "billdrift.prof"
    cmd = [sys.executable, "-c", _PROFILED, str(profile), *billdrift_command(exe)[1:]]
    run = measure(
        cmd, directory, directory / "profile.stdout", directory / "profile.stderr", args.timeout
    )
    print(f"    profiled run: {run.wall_seconds:.2f} s (with profiler overhead) -> {profile}")
    stats = pstats.Stats(str(profile))
    stats.strip_dirs().sort_stats("cumulative").print_stats(top)


# --- reporting ---------------------------------------------------------------------------


def environment() -> list[str]:
    memory = psutil.virtual_memory().total / 1024**3
    return [
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores (nproc), {memory:.0f} GiB RAM",
        "- " + software(("billdrift", "duckdb", "pyarrow")),
    ]


def _ratio(value: float) -> str:
    return f"{value:.1f}x" if value >= 1 else f"{value:.2f}x"


def markdown_table(results: list[SizeResult], repeat: int) -> str:
    lines = [
        "| accounts x subscriptions | billdrift best (s) | billdrift median (s) | CPU of best (s) "
        "| peak RSS (MiB) | findings | naive loop (s) | naive queries | speedup |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        naive = result.naive_report
        naive_wall = f"{naive['loop_seconds']:.2f}" if naive else "-"
        queries = f"{naive['queries']:,}" if naive else "-"
        speedup = _ratio(naive["loop_seconds"] / result.best) if naive else "-"
        lines.append(
            f"| {result.accounts:,} x {result.subscriptions:,} | {result.best:.2f} "
            f"| {result.median:.2f} | {result.best_cpu:.2f} | {result.peak_rss / MIB:.0f} "
            f"| {result.findings:,} "
            f"| {naive_wall} | {queries} | {speedup} |"
        )
    lines.append("")
    lines.append(
        f"billdrift: best and median of {repeat} runs, each verified against expected.json; "
        "peak RSS is the maximum over those runs (process tree). Naive loop: one run, loop "
        "phase only (building the SQLite file is not counted); speedup = naive / billdrift best. "
        "CPU = user + system seconds of the fastest run (can exceed wall on several cores)."
    )
    return "\n".join(lines)


def target_lines(results: list[SizeResult]) -> list[str]:
    lines = [
        f"WARNING: {result.size:,}: the machine was {result.busy_percent:.0f}% busy with other "
        "processes before the runs; timings are not representative."
        for result in results
        if result.busy_percent > BUSY_WARN_PERCENT
    ]
    for result in results:
        if result.size < TARGET_SIZE:
            continue
        wall_ok = result.best < TARGET_WALL_SECONDS
        rss_ok = result.peak_rss < TARGET_RSS_BYTES
        verdict = "met" if wall_ok and rss_ok else "MISSED"
        lines.append(
            f"Target at {result.size:,} (< {TARGET_WALL_SECONDS:.0f} s, < 1.5 GB): {verdict} "
            f"(best {result.best:.2f} s, peak {result.peak_rss / 1e9:.2f} GB)"
        )
    return lines


# --- main --------------------------------------------------------------------------------


def bench_size(size: int, args: argparse.Namespace) -> SizeResult:
    directory, expected = ensure_data(size, args.seed, args.data_dir)
    busy = busy_cpu_percent()
    if busy > BUSY_WARN_PERCENT:
        print(f"    WARNING: the machine is {busy:.0f}% busy before the runs; timings are noisy")
    if args.app_source == "postgresql":
        with postgres_app(directory) as url:
            args.app_args = ["--app", url, "--app-table", "app_accounts"]
            runs = run_billdrift(directory, expected, args)
        args.app_args = None
    else:
        runs = run_billdrift(directory, expected, args)
    if args.profile:
        profile_billdrift(directory, args)
    naive = naive_report = None
    if not args.skip_naive and args.app_source == "csv":
        naive, naive_report = run_naive(directory, expected, args.timeout)
    return SizeResult(
        size,
        expected["accounts"],
        expected["subscriptions"],
        runs,
        expected["total"],
        naive,
        naive_report,
        busy,
    )


@contextlib.contextmanager
def postgres_app(directory: Path) -> Iterator[str]:
    """A throwaway PostgreSQL server holding app.csv as table app_accounts (load not timed)."""
    sys.path.insert(0, str(BENCH.parent))
    import psycopg
    from tests.dbservers import PostgresServer

    server = PostgresServer()
    try:
        started = time.perf_counter()
        with psycopg.connect(server.admin_url, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE app_accounts (id text PRIMARY KEY, email text, "
                "stripe_customer_id text, has_paid_access boolean, plan text)"
            )
            with (
                conn.cursor() as cursor,
                cursor.copy("COPY app_accounts FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
                (directory / "app.csv").open("rb") as source,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            conn.execute("VACUUM ANALYZE app_accounts")
        print(f"    loaded app.csv into PostgreSQL in {time.perf_counter() - started:.1f} s")
        yield server.admin_url
    finally:
        server.stop()


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark billdrift check vs a DIY loop")
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated N")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--markdown", type=Path, help="also write the results here")
    parser.add_argument("--data-dir", type=Path, default=BENCH / "data")
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument(
        "--profile", action="store_true", help="also run billdrift under cProfile per size"
    )
    parser.add_argument(
        "--billdrift", type=Path, help="billdrift executable (default: next to sys.executable)"
    )
    parser.add_argument(
        "--app-source",
        choices=("csv", "postgresql"),
        default="csv",
        help="read the app side from app.csv or from a throwaway PostgreSQL loaded with it",
    )
    args = parser.parse_args(argv)
    args.sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size]
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def compile_package(exe: Path) -> None:
    """Byte-compile the billdrift package the measured executable imports.

    ``pip install`` compiles a package's modules; an editable checkout has no
    bytecode until Python writes it, and never does where PYTHONDONTWRITEBYTECODE
    is set (as on the machine these figures come from): every run would then
    compile every billdrift module again, about 0.1 s that no installed copy pays.
    """
    python = exe.parent / "python"
    locate = "import billdrift, pathlib; print(pathlib.Path(billdrift.__file__).parent)"
    package = subprocess.run(
        [str(python), "-c", locate], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run([str(python), "-m", "compileall", "-q", package], check=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        compile_package(billdrift_executable(args.billdrift))
        results = []
        for size in args.sizes:
            print(f"[{size}] benchmarking")
            results.append(bench_size(size, args))
    except (BenchFailure, subprocess.CalledProcessError) as error:
        print(f"BENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    text = "\n".join(
        ["", *environment(), "", markdown_table(results, args.repeat), "", *target_lines(results)]
    )
    print(text)
    if args.markdown:
        args.markdown.write_text(text.lstrip() + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
