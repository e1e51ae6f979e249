"""The fixed cost of one command line, per source tree: CPU and wall time of whole
processes, run alternately (issue 17: ``--help`` and a small check are what a small
SaaS runs most).

Usage::

    python bench/start_cpu.py --build main=/path/to/main/src --build new=src \\
        --runs 20 -- check --help

Each build is a ``src`` directory put on ``PYTHONPATH`` for ``python -m billdrift
ARGS``; the runs alternate between the builds (A, B, A, B...) so that load on a
shared machine falls on both alike. CPU is user + system time of the child from
``getrusage``: under load, the comparable figure. Byte-compile each tree first
(``python -m compileall -q SRC``) where ``PYTHONDONTWRITEBYTECODE`` is set, or
every run compiles it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time


def _run(src: str, args: list[str]) -> tuple[float, float]:
    """CPU seconds and wall seconds of one ``python -m billdrift ARGS`` with `src`."""
    env = {**os.environ, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "billdrift", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", action="append", required=True, metavar="NAME=SRC")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("args", nargs=argparse.REMAINDER, help="billdrift's arguments")
    options = parser.parse_args()
    builds = dict(build.split("=", 1) for build in options.build)
    args: list[str] = options.args[1:] if options.args[:1] == ["--"] else options.args
    cpu: dict[str, list[float]] = {name: [] for name in builds}
    wall: dict[str, list[float]] = {name: [] for name in builds}
    for _ in range(options.runs):
        for name, src in builds.items():
            spent, took = _run(src, args)
            cpu[name].append(spent)
            wall[name].append(took)
    print(f"`billdrift {' '.join(args)}`, {options.runs} alternating runs")
    print("| build | CPU median (s) | CPU min (s) | wall median (s) | wall min (s) |")
    print("|---|---:|---:|---:|---:|")
    for name in builds:
        print(
            f"| {name} | {statistics.median(cpu[name]):.3f} | {min(cpu[name]):.3f} "
            f"| {statistics.median(wall[name]):.3f} | {min(wall[name]):.3f} |"
        )


if __name__ == "__main__":
    main()
