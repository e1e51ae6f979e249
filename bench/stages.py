"""Wall time of each stage of the in-process plan, and of fetching the rules' rows.

Usage::

    python bench/stages.py --data DIR [--runs 3] [--as-of 2026-11-22T00:00:00Z]

Reads DIR/billing.csv and DIR/app.csv once (DIR/billdrift.toml) with whichever
billdrift is first on PYTHONPATH, then builds the workspace `--runs` times, each on
a fresh DuckDB connection: every stage (``core.rules.stages`` and the rules'
stages) is created and timed on its own, then the rules' reported rows are fetched
as the engine fetches them (``core.findings._fetch_all``) and the report's questions
asked. Printed per step: the first run (the process still touching fresh memory,
as a one-shot CLI run does) and the fastest, in seconds; steps under 5 ms are left
out. The figures the issue-17 stage sections compare between builds.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from billdrift.config import load_config
from billdrift.core import engine, findings, pipeline
from billdrift.core.load import load
from billdrift.core.policy import from_config
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.stages import STAGES
from billdrift.infra import duck
from billdrift.sources.registry import read_sources
from billdrift.usecases.check import as_of_instant
from billdrift.usecases.overrides import with_overrides


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with both CSVs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--as-of", default="2026-11-22T00:00:00Z")
    args = parser.parse_args()
    config = with_overrides(
        load_config(str(args.data / "billdrift.toml")),
        billing=(str(args.data / "billing.csv"),),
        app=str(args.data / "app.csv"),
        app_table=None,
        plans=None,
        grace_days=None,
    )
    if config.app.source is None:
        raise SystemExit(f"{args.data}/billdrift.toml names no app source")
    billing, app = read_sources(
        config.billing.sources, config.app.source, config.billing, config.app
    )
    inputs = engine.Inputs(billing, app, from_config(config), as_of_instant(args.as_of))
    context = engine.context(inputs)
    rules = [rule for rule in ALL_RULES if rule.applies(context)]
    times: dict[str, list[float]] = {}

    def timed(name: str, started: float) -> None:
        times.setdefault(name, []).append(time.perf_counter() - started)

    for _ in range(args.runs):
        con = duck.connect()
        try:
            provided = set(load(con, inputs.billing, app, inputs.policy, inputs.as_of).relations)
            stages = [s for s in STAGES if s.name not in provided]
            stages += findings.rule_stages(rules)
            for stage in pipeline.execution_order(stages, provided):
                started = time.perf_counter()
                pipeline.run(con, [stage], context, provided)
                provided.add(stage.name)
                timed(stage.name, started)
            started = time.perf_counter()
            for query in engine.QUESTIONS[:8]:  # the completeness hints' ask only on need
                con.execute(query).fetchall()
            timed("questions", started)
            reported = findings._reported(con, rules, exceptions=False, in_process=True)
            jobs: list[tuple[str, findings.Finish]] = [
                (findings.worded(rule, query, columns), findings._as_orjson_writes)
                for rule, (query, columns) in zip(rules, reported, strict=True)
            ]
            started = time.perf_counter()
            if hasattr(findings, "_fetch_all"):
                findings._fetch_all(con, jobs)
            else:  # a build from before the fetches ran side by side
                for query, finish in jobs:
                    findings._fetch(con, query, finish)
            timed("fetch (every rule in SQL)", started)
        finally:
            con.close()
    print(f"{'step':32s} {'first':>7s} {'fastest':>7s}")
    for name, spent in times.items():
        if max(spent) >= 0.005:
            print(f"{name:32s} {spent[0]:7.3f} {min(spent):7.3f}")
    first = sum(spent[0] for spent in times.values())
    print(f"{'total':32s} {first:7.3f} {sum(min(spent) for spent in times.values()):7.3f}")


if __name__ == "__main__":
    main()
