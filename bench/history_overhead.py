"""What recording a run in a history store adds to a check (issue 18).

Alternating rounds of the same check, alone and with ``--history``, each history run
on a fresh copy of a store that already holds `--earlier` runs of the same data (one:
every finding turns from new to ongoing; two or more: the nightly steady state, where
nothing changes). Reports wall and CPU medians and the overhead. The store is a SQLite
file, or with ``--postgres`` a database on that server (the URL of a user that may
create databases: each round's store is a copy, ``CREATE DATABASE ... TEMPLATE``; the
CPU figure is this side's, not the server's).

    python bench/history_overhead.py --data /work/benchdata/1m --earlier 2 --rounds 5
    python bench/history_overhead.py --data /work/benchdata/1m --earlier 2 --rounds 5 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres
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


class _Postgres:
    """Seed and round databases on a PostgreSQL server (see the module)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.names = ("billdrift_overhead_seed", "billdrift_overhead_round")
        for name in self.names:
            self._admin(f"DROP DATABASE IF EXISTS {name}")
        self._admin(f"CREATE DATABASE {self.names[0]}")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(sql)  # type: ignore[arg-type]

    def location(self, name: str) -> str:
        base, _, _ = self.url.rpartition("/")
        return f"{base}/{name}"

    def seed(self) -> str:
        return self.location(self.names[0])

    def fresh(self) -> str:
        self._admin(f"DROP DATABASE IF EXISTS {self.names[1]}")
        self._admin(f"CREATE DATABASE {self.names[1]} TEMPLATE {self.names[0]}")
        return self.location(self.names[1])

    def drop(self) -> None:
        for name in self.names:
            self._admin(f"DROP DATABASE IF EXISTS {name}")


def _flushed(path: Path) -> None:
    """The copied store on disk before the timed run, as a nightly run finds its store:
    else the run's commit (``synchronous = FULL``) also writes out the whole copy."""
    with path.open("rb+") as copy:
        os.fsync(copy.fileno())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="billing.csv, app.csv...")
    parser.add_argument("--src", default="src", help="the billdrift source tree to run")
    parser.add_argument("--earlier", type=int, default=2, help="runs in the store before")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="a server URL: the store is a database there")
    options = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(Path(options.src).resolve())}
    work = Path(tempfile.mkdtemp(prefix="billdrift-history-overhead-"))
    server = _Postgres(options.postgres) if options.postgres else None
    try:
        seed, store = work / "seed.db", work / "store.db"
        output = ["--output", str(work / "report.json")]
        seeded = server.seed() if server else f"sqlite:///{seed}"
        for _ in range(options.earlier):
            _run([*_CHECK, *output, "--history", seeded], options.data, env)
        times: dict[str, list[tuple[float, float]]] = {"alone": [], "history": []}
        for _ in range(options.rounds):
            times["alone"].append(_run([*_CHECK, *output], options.data, env))
            if server:
                location = server.fresh()
            else:
                for stale in work.glob("store.db*"):
                    stale.unlink()
                shutil.copy(seed, store)
                _flushed(store)
                location = f"sqlite:///{store}"
            history = ["--history", location]
            times["history"].append(_run([*_CHECK, *output, *history], options.data, env))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if server:
            server.drop()
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in times.items()}
    for name, runs in times.items():
        cpu = statistics.median(c for _, c in runs)
        print(f"{name}: wall median {wall[name]:.2f} s, CPU median {cpu:.2f} s")
    extra = wall["history"] - wall["alone"]
    print(f"overhead: +{extra:.2f} s wall, {100 * extra / wall['alone']:.0f} % of the check")
    print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
