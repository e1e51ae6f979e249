"""Recording alone, timed inside the process (issue 18): ``usecases.recording.record``.

The check runs once per round in this process; only the recording call is timed
(wall and this process's CPU), each round on a fresh copy of a store that already
holds `--earlier` recorded runs of the same data (one: every finding turns from new
to ongoing; two or more: the nightly steady state). Less noisy on a busy machine than
whole processes (``bench/history_overhead.py``), which is the figure the target names.
The store is a SQLite file, or with ``--postgres`` a database on that server (copied
per round with ``CREATE DATABASE ... TEMPLATE``; the CPU is this process's, not the
server's). The cyclic garbage collector is off, as the CLI pauses it around a check.

    PYTHONPATH=src python bench/record_phase.py --data /work/benchdata/1m --earlier 2
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from billdrift.config import Config, load_config
from billdrift.core.report import Report
from billdrift.usecases.check import check
from billdrift.usecases.recording import record


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql)  # type: ignore[arg-type]


def _flushed(path: Path) -> None:
    """The copied store on disk before the timed run, as a nightly run finds its store:
    else the run's commit (``synchronous = FULL``) also writes out the whole copy."""
    with path.open("rb+") as copy:
        os.fsync(copy.fileno())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="billing.csv, app.csv...")
    parser.add_argument("--earlier", type=int, default=2, help="runs in the store before")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a server URL: the store is a database there")
    options = parser.parse_args()
    os.chdir(options.data)
    gc.disable()
    settings = load_config("billdrift.toml")

    def at(location: str) -> Config:
        history = settings.history.model_copy(update={"location": location})
        return settings.model_copy(update={"history": history})

    def checked() -> Report:
        return check(["billing.csv"], "app.csv", config=settings, as_of="2026-11-22T00:00:00Z")

    work = Path(tempfile.mkdtemp(prefix="billdrift-record-phase-"))
    base = options.postgres.rpartition("/")[0] if options.postgres else ""
    names = ("billdrift_phase_seed", "billdrift_phase_round")
    try:
        if options.postgres:
            for name in names:
                _admin(options.postgres, f"DROP DATABASE IF EXISTS {name}")
            _admin(options.postgres, f"CREATE DATABASE {names[0]}")
            seed = f"{base}/{names[0]}"
        else:
            seed = str(work / "seed.sqlite")
        for _ in range(options.earlier):
            record(at(seed), checked(), datetime.now(UTC), datetime.now(UTC))
        times = []
        for _ in range(options.rounds):
            report = checked()
            if options.postgres:
                _admin(options.postgres, f"DROP DATABASE IF EXISTS {names[1]}")
                _admin(options.postgres, f"CREATE DATABASE {names[1]} TEMPLATE {names[0]}")
                location = f"{base}/{names[1]}"
            else:
                for stale in work.glob("store.sqlite*"):
                    stale.unlink()
                shutil.copy(seed, work / "store.sqlite")
                _flushed(work / "store.sqlite")
                location = str(work / "store.sqlite")
            wall, cpu = time.perf_counter(), time.process_time()
            record(at(location), report, datetime.now(UTC), datetime.now(UTC))
            times.append((time.perf_counter() - wall, time.process_time() - cpu))
            print(f"recording: wall {times[-1][0]:.3f} s, CPU {times[-1][1]:.3f} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if options.postgres:
            for name in names:
                _admin(options.postgres, f"DROP DATABASE IF EXISTS {name}")
    wall_median = statistics.median(w for w, _ in times)
    cpu_median = statistics.median(c for _, c in times)
    print(f"median: wall {wall_median:.3f} s, CPU {cpu_median:.3f} s")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
