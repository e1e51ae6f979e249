"""One alternating series: billdrift builds and the naive baseline, run A, B, C, A, B, C...

Usage::

    python bench/series.py --build before=main --build after=HEAD \
        --sizes 10,10000,100000,1000000 [--runs 5] [--markdown FILE]
    python bench/series.py --data DIR --build after=SRC [--no-naive] [--format text] ...
    python bench/series.py --sizes 10,10000,100000,1000000,10000000 --build now=HEAD \
        --no-naive --runs 3 --curve [--markdown FILE]
    python bench/series.py --data DIR --build now=HEAD --reads-only now [--runs 9]
    python bench/series.py --data DIR --build before=REV --build after=HEAD --mask --no-naive

One command for the whole curve: each build is a git revision (exported with
``git archive`` from this checkout) or a ``src`` directory, run as
``PYTHONPATH=SRC python -m billdrift check`` on a data set's billing.csv and app.csv
(JSON to a file in a temporary directory, as ``bench/run.py`` does); the naive
baseline is ``bench/naive_baseline.py``. With ``--sizes`` each data set is
N accounts x N subscriptions from ``bench/generate.py --seed 42``, generated once
into ``--data-root`` and reused; with ``--data`` one given directory is used. Every
run is a fresh process reaped with :func:`os.wait4`: wall time from spawn to
exit, CPU (user + system) and the kernel's peak RSS for that child. Runs of the
different commands alternate, so a machine whose speed drifts (this VM shared by
several people) slows them alike; the table gives each command's median and
minimum and billdrift's medians (wall and CPU) as ratios to the baseline's: on a
loaded machine only the CPU figures compare.

With ``--curve`` each build also gets a scaling-curve table: the smallest size's run
(10 rows: interpreter, imports, configuration, DuckDB start) is the fixed start-up
cost, and each larger size's median minus it is the part that grows with the data,
given per row as well (issue 17: "the fixed start-up cost separated").

With ``--reads-only NAME`` the series also runs ``bench/reads_only.py`` on build NAME:
the same start, imports and reads of both files as its check, and nothing after, so
the table shows how much of the ratio is spent before any rule runs.

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
READS_ONLY = Path(__file__).with_name("reads_only.py")
GENERATE = Path(__file__).with_name("generate.py")
REPOSITORY = Path(__file__).resolve().parent.parent


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


def billdrift(
    data: Path, output: Path, report_format: str = "json", mask: bool = False
) -> list[str]:
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
        report_format,
        "--output",
        str(output),
        *(["--mask"] if mask else []),
    ]


HEADER = (
    "| size (accounts x subscriptions) | command | runs | wall median (s) | wall min (s) "
    "| CPU median (s) | peak RSS max (MiB) | ratio to baseline, wall median "
    "| ratio to baseline, CPU median |\n|---|---|---:|---:|---:|---:|---:|---:|---:|"
)


def table(size: str, results: dict[str, list[Run]], baseline: str | None) -> list[str]:
    """One row per command, as the lines of a markdown table under HEADER."""
    lines = []
    floor = statistics.median(r.wall for r in results[baseline]) if baseline else None
    cpu_floor = statistics.median(r.cpu for r in results[baseline]) if baseline else None
    for name, runs in results.items():
        median = statistics.median(r.wall for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        ratio = f"{median / floor:.2f}" if floor else "-"
        cpu_ratio = f"{cpu / cpu_floor:.2f}" if cpu_floor else "-"
        lines.append(
            f"| {size} | {name} | {len(runs)} | {median:.2f} | {min(r.wall for r in runs):.2f} "
            f"| {cpu:.2f} | {max(r.peak_mib for r in runs):.0f} | {ratio} | {cpu_ratio} |"
        )
    return lines


CURVE_HEADER = (
    "| rows each side | wall median (s) | above start-up (s) | per 1,000 rows (ms) "
    "| CPU median (s) | CPU above start-up (s) | peak RSS max (MiB) |\n"
    "|---:|---:|---:|---:|---:|---:|---:|"
)


def curve(sizes: list[int], results: list[dict[str, list[Run]]], name: str) -> list[str]:
    """One build's scaling curve: each size's medians, and the same minus the smallest
    size's (the fixed start-up cost), the growing part also per 1,000 rows."""
    walls = [statistics.median(r.wall for r in by[name]) for by in results]
    cpus = [statistics.median(r.cpu for r in by[name]) for by in results]
    lines = [
        f"Fixed start-up cost of `{name}` (the {sizes[0]:,}-row run): {walls[0]:.2f} s wall, "
        f"{cpus[0]:.2f} s CPU.",
        "",
        CURVE_HEADER,
    ]
    for size, wall, cpu, by in zip(sizes, walls, cpus, results, strict=True):
        above = wall - walls[0]
        per = f"{1e6 * above / size:.3f}" if size > sizes[0] else "-"
        peak = max(r.peak_mib for r in by[name])
        lines.append(
            f"| {size:,} | {wall:.2f} | {above:.2f} | {per} | {cpu:.2f} | {cpu - cpus[0]:.2f} "
            f"| {peak:.0f} |"
        )
    return lines


def export(name: str, reference: str, work: Path) -> Path:
    """`reference` as a ``src`` directory: itself if it is one, else the ``src`` of
    that git revision of this checkout, exported under `work`."""
    if Path(reference).is_dir():
        return Path(reference).resolve()
    target = work / "builds" / name
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", reference, "src"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def dataset(size: int, root: Path) -> Path:
    """N accounts x N subscriptions (seed 42), generated the first time it is asked for."""
    data = root / f"d{size}"
    if not (data / "app.csv").exists():
        subprocess.run(
            [
                sys.executable,
                str(GENERATE),
                "--accounts",
                str(size),
                "--subscriptions",
                str(size),
                "--out",
                str(data),
                "--seed",
                "42",
            ],
            check=True,
        )
    return data


def series(
    data: Path,
    sources: dict[str, Path],
    runs: int,
    naive: bool,
    work: Path,
    report_format: str = "json",
    reads_only: str | None = None,
    mask: bool = False,
) -> tuple[dict[str, list[Run]], str | None]:
    """Every command `runs` times, alternating, on one data set."""
    commands: dict[str, tuple[list[str], dict[str, str]]] = {}
    for name, source in sources.items():
        env = {**os.environ, "PYTHONPATH": str(source)}
        output = work / f"{name}.{report_format}"
        commands[name] = (billdrift(data, output, report_format, mask), env)
        if name == reads_only:
            command = [sys.executable, str(READS_ONLY), "--data", str(data)]
            commands[f"{name}, reads only"] = (command, env)
    baseline = "naive baseline" if naive else None
    if baseline:
        command = [sys.executable, str(BASELINE), "--data", str(data)]
        commands[baseline] = ([*command, "--output", str(work / "naive.jsonl")], dict(os.environ))
    results: dict[str, list[Run]] = {name: [] for name in commands}
    for index in range(runs):
        for name, (command, env) in commands.items():
            run = measure(command, work, env)
            results[name].append(run)
            print(
                f"{data.name} {index + 1}/{runs} {name}: {run.wall:.2f} s wall, "
                f"{run.cpu:.2f} s CPU, {run.peak_mib:.0f} MiB, exit {run.code}",
                flush=True,
            )
    return results, baseline


def _load() -> str:
    with open("/proc/loadavg") as load:
        return " ".join(load.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", type=Path, help="one data set (billing.csv, app.csv...)")
    where.add_argument("--sizes", help="comma-separated N: N accounts x N subscriptions each")
    parser.add_argument("--data-root", type=Path, default=Path("/tmp/billdrift-series-data"))
    parser.add_argument("--build", action="append", default=[], help="NAME=GIT_REV or NAME=SRC")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument(
        "--format",
        default="json",
        choices=("json", "text", "markdown", "html", "csv"),
        help="billdrift's report format, written to a file (json: the issue-17 series; "
        "text is what a terminal user gets)",
    )
    parser.add_argument("--mask", action="store_true", help="billdrift's report masked (--mask)")
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--curve", action="store_true", help="scaling curve per build")
    parser.add_argument(
        "--reads-only",
        metavar="NAME",
        help="also run bench/reads_only.py on build NAME: start, imports and reads alone",
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="billdrift-series-"))
    references = dict(item.split("=", 1) for item in args.build)
    sources = {name: export(name, reference, work) for name, reference in references.items()}
    if args.reads_only is not None and args.reads_only not in sources:
        parser.error(f"--reads-only {args.reads_only}: no --build of that name")
    for source in sources.values():
        compileall.compile_dir(source, quiet=1)
    if args.data:
        sets = [(args.data.name, args.data.resolve())]
    else:
        sizes = [int(size) for size in args.sizes.split(",")]
        sets = [(f"{size:,}", dataset(size, args.data_root)) for size in sizes]
    lines = [HEADER]
    every: list[dict[str, list[Run]]] = []
    for size, data in sets:
        print(f"{size}: load average {_load()} at the start", flush=True)
        results, baseline = series(
            data,
            sources,
            args.runs,
            not args.no_naive,
            work,
            args.format,
            args.reads_only,
            args.mask,
        )
        every.append(results)
        lines += table(size, results, baseline)
        print(f"{size}: load average {_load()} at the end", flush=True)
    if args.curve and args.sizes:
        for name in sources:
            lines += ["", *curve([int(n) for n in args.sizes.split(",")], every, name)]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n")


if __name__ == "__main__":
    main()
