"""What recording a run in a SQLite history store adds to a check (issue 18).

Alternating rounds of the same check, alone and with ``--history``, each history run
on a fresh copy of a store that already holds `--earlier` runs of the same data (one:
every finding turns from new to ongoing; two or more: the nightly steady state, where
nothing changes). Reports wall and CPU medians and the overhead.

    python bench/history_overhead.py --data /work/benchdata/1m --earlier 2 --rounds 5
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHECK = [
    "check",
    "--billing",
    "billing.csv",
    "--app",
    "app.csv",
    "--config",
    "billdrift.toml",
    "--as-of",
    "2026-11-22T00:00:00Z",
    "--format",
    "json",
]


def _run(args: list[str], data: Path, env: dict[str, str]) -> tuple[float, float]:
    """One command's wall and CPU seconds (exit 1, drift found, is expected)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "billdrift", *args], cwd=data, env=env, capture_output=True
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"billdrift failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="billing.csv, app.csv...")
    parser.add_argument("--src", default="src", help="the billdrift source tree to run")
    parser.add_argument("--earlier", type=int, default=2, help="runs in the store before")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(Path(options.src).resolve())}
    work = Path(tempfile.mkdtemp(prefix="billdrift-history-overhead-"))
    try:
        seed, store = work / "seed.db", work / "store.db"
        output = ["--output", str(work / "report.json")]
        for _ in range(options.earlier):
            _run([*_CHECK, *output, "--history", f"sqlite:///{seed}"], options.data, env)
        times: dict[str, list[tuple[float, float]]] = {"alone": [], "history": []}
        for _ in range(options.rounds):
            times["alone"].append(_run([*_CHECK, *output], options.data, env))
            for stale in work.glob("store.db*"):
                stale.unlink()
            shutil.copy(seed, store)
            history = ["--history", f"sqlite:///{store}"]
            times["history"].append(_run([*_CHECK, *output, *history], options.data, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in times.items()}
    for name, runs in times.items():
        cpu = statistics.median(c for _, c in runs)
        print(f"{name}: wall median {wall[name]:.2f} s, CPU median {cpu:.2f} s")
    extra = wall["history"] - wall["alone"]
    print(f"overhead: +{extra:.2f} s wall, {100 * extra / wall['alone']:.0f} % of the check")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
