"""Benchmark `billdrift check --engine spark` (local mode) against the in-process check.

Usage::

    python bench/pushdown_spark.py [--sizes 10000 100000 1000000] [--root DIR]

For each size N the harness

1. generates (or reuses) bench/generate.py's N x N data set (billing.csv, app.csv,
   billdrift.toml), as bench/run.py does;
2. writes its canonical relations as Parquet, read and loaded by billdrift's own
   in-process sources (not timed: this is the table a lakehouse would already hold);
3. runs, once each (the first with ``--explain`` added too: the fixed start-up of
   JVM and session, so that the plan's own time is the difference)::

       billdrift check --engine spark --billing billing/ --app app/ --config billdrift.toml ...
       billdrift check --billing billing.csv --app app.csv --config billdrift.toml ...

   measuring wall time, the peak RSS of billdrift's own process (the Spark driver's
   Python side) and, apart, of the JVM it starts (psutil polling of the tree);
4. checks both runs report the same findings.

Any mismatch, crash or timeout exits non-zero.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from run import BenchFailure, billdrift_executable, ensure_data

AS_OF = "2026-11-22T00:00:00Z"
TIMEOUT_S = 3600.0
POLL_SECONDS = 0.05

#: Spark settings for the 2-core machine: a bigger driver heap than the 1 GB default
#: (local mode runs the executors in the driver's JVM); the rest is local mode's own
#: (billdrift.infra.spark.LOCAL_CONF).
SPARK_CONF = '[engine.spark]\nmaster = "local[2]"\nconf = { "spark.driver.memory" = "3g" }\n'


def canonical_parquet(directory: Path) -> None:
    """billing/ and app/ Parquet folders of the data set's canonical relations."""
    if (directory / "app" / "app_access_signals.parquet").exists():
        return
    code = f"""
from billdrift.config import load_config
from billdrift.core.load import load
from billdrift.core.policy import from_config
from billdrift.infra import duck
from billdrift.sources.registry import read_sources
from billdrift.usecases.check import as_of_instant
config = load_config("billdrift.toml")
billing, app = read_sources(["billing.csv"], "app.csv", config.billing, config.app)
con = duck.connect()
load(con, billing, app, from_config(config), as_of_instant({AS_OF!r}))
for side, names in (("billing", ("billing_subscriptions", "billing_items")),
                    ("app", ("app_accounts", "app_access_signals"))):
    for name in names:
        con.execute(f"COPY {{name}} TO '{{side}}/{{name}}.parquet' (FORMAT parquet)")
"""
    for side in ("billing", "app"):
        (directory / side).mkdir(exist_ok=True)
    subprocess.run([sys.executable, "-c", code], cwd=directory, check=True)


def measure(cmd: list[str], cwd: Path, output: Path) -> dict[str, float]:
    """Wall seconds, peak RSS of the root process and of its java descendants (MB)."""
    started = time.perf_counter()
    err = (cwd / f"{output.stem}.stderr").open("wb")
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
    root = psutil.Process(proc.pid)
    own = jvm = 0
    while proc.poll() is None:
        if time.perf_counter() - started > TIMEOUT_S:
            proc.kill()
            raise BenchFailure(f"timed out: {' '.join(cmd)}")
        try:
            own = max(own, root.memory_info().rss)
            java = [p for p in root.children(recursive=True) if "java" in p.name()]
            jvm = max(jvm, sum(p.memory_info().rss for p in java))
        except psutil.Error:
            pass
        time.sleep(POLL_SECONDS)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise BenchFailure(f"exit {proc.returncode}: {' '.join(cmd)} (see {err.name})")
    return {"wall_s": round(wall, 2), "billdrift_mb": own / 2**20, "jvm_mb": jvm / 2**20}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--root", type=Path, default=Path("/tmp/billdrift-bench"))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    exe = billdrift_executable()
    for size in args.sizes:
        directory, _ = ensure_data(size, args.seed, args.root)
        canonical_parquet(directory)
        (directory / "spark.toml").write_text(
            (directory / "billdrift.toml").read_text() + "\n" + SPARK_CONF
        )
        common = ["--as-of", AS_OF, "--format", "json", "--output"]
        # the fixed start-up: the same command with --explain starts the JVM and the
        # session and reads the access fields, but runs no plan
        startup = measure(
            [str(exe), "check", "--engine", "spark", "--billing", "billing", "--app", "app",
             "--config", "spark.toml", "--explain", *common, "explain.sql"],
            directory, directory / "explain.sql",
        )  # fmt: skip
        spark = measure(
            [str(exe), "check", "--engine", "spark", "--billing", "billing", "--app", "app",
             "--config", "spark.toml", *common, "spark.json"],
            directory, directory / "spark.json",
        )  # fmt: skip
        local = measure(
            [str(exe), "check", "--billing", "billing.csv", "--app", "app.csv",
             "--config", "billdrift.toml", *common, "local.json"],
            directory, directory / "local.json",
        )  # fmt: skip
        pushed = json.loads((directory / "spark.json").read_text())["findings"]
        kept = json.loads((directory / "local.json").read_text())["findings"]
        if pushed != kept:
            raise BenchFailure(f"[{size}] Spark and in-process findings differ")
        load = os.getloadavg()[0]
        plan_s = spark["wall_s"] - startup["wall_s"]
        print(
            f"| {size:,} | {spark['wall_s']} s | {startup['wall_s']} s | {plan_s:.1f} s | "
            f"{spark['billdrift_mb']:.0f} MB | "
            f"{spark['jvm_mb']:.0f} MB | {local['wall_s']} s | {local['billdrift_mb']:.0f} MB | "
            f"{len(pushed):,} | {load:.1f} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
