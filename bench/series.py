"""One alternating series: billdrift builds and the naive baseline, run A, B, C, A, B, C...

Usage::

    python bench/series.py --data DIR --build after=SRC [--build before=SRC2] \
        [--runs 5] [--no-naive] [--markdown FILE]

Each build is a ``src`` directory run as ``PYTHONPATH=SRC python -m billdrift check``
on DIR's billing.csv and app.csv (JSON to a file in a temporary directory, as
``bench/run.py`` does); the naive baseline is ``bench/naive_baseline.py``. Every
run is a fresh process reaped with :func:`os.wait4`: wall time from spawn to
exit, CPU (user + system) and the kernel's peak RSS for that child. Runs of the
different commands alternate, so a machine whose speed drifts (this VM shared by
several people) slows them alike; the table gives each command's median and
minimum and billdrift's median as a ratio to the baseline's.

Each build's ``src`` is byte-compiled first, as ``pip install`` does: this machine
sets ``PYTHONDONTWRITEBYTECODE``, so an editable tree would recompile at every run.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

AS_OF = "2026-11-22T00:00:00Z"
BASELINE = Path(__file__).with_name("naive_baseline.py")


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    peak_mib: float
    code: int


def measure(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """One fresh process, reaped with wait4 for its own CPU time and peak RSS."""
    started = time.perf_counter()
    child = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode)


def billdrift(data: Path, output: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "billdrift",
        "check",
        "--billing",
        str(data / "billing.csv"),
        "--app",
        str(data / "app.csv"),
        "--config",
        str(data / "billdrift.toml"),
        "--as-of",
        AS_OF,
        "--format",
        "json",
        "--output",
        str(output),
    ]


def table(results: dict[str, list[Run]], baseline: str | None) -> str:
    lines = [
        "| command | runs | wall median (s) | wall min (s) | CPU median (s) | peak RSS max (MiB) "
        "| ratio to baseline (median) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    floor = statistics.median(r.wall for r in results[baseline]) if baseline else None
    for name, runs in results.items():
        median = statistics.median(r.wall for r in runs)
        ratio = f"{median / floor:.2f}" if floor else "-"
        lines.append(
            f"| {name} | {len(runs)} | {median:.2f} | {min(r.wall for r in runs):.2f} "
            f"| {statistics.median(r.cpu for r in runs):.2f} "
            f"| {max(r.peak_mib for r in runs):.0f} | {ratio} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--build", action="append", default=[], help="NAME=SRC_DIR")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    data = args.data.resolve()
    builds = dict(item.split("=", 1) for item in args.build)
    for source in builds.values():
        compileall.compile_dir(source, quiet=1)
    work = Path(tempfile.mkdtemp(prefix="billdrift-series-"))
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for name, source in builds.items():
        env = {**os.environ, "PYTHONPATH": str(Path(source).resolve())}
        commands[name] = (billdrift(data, work / f"{name}.json"), env)
    baseline = None if args.no_naive else "naive baseline"
    if baseline:
        command = [sys.executable, str(BASELINE), "--data", str(data)]
        commands[baseline] = ([*command, "--output", str(work / "naive.jsonl")], dict(os.environ))
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for index in range(args.runs):
        for name, (command, env) in commands.items():
            run = measure(command, work, env)
            results[name].append(run)
            print(
                f"{index + 1}/{args.runs} {name}: {run.wall:.2f} s wall, {run.cpu:.2f} s CPU, "
                f"{run.peak_mib:.0f} MiB, exit {run.code}",
                flush=True,
            )
    with open("/proc/loadavg") as load:
        print(f"load average at the end: {load.read().split()[:3]}")
    text = table(results, baseline)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
