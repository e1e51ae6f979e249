"""CPU of the Python side of a check: building the findings, the JSON, freeing the report.

Usage::

    cd DIR && python bench/findings_cpu.py NAME

Runs a check of DIR/billing.csv and DIR/app.csv (DIR/billdrift.toml, as of
2026-11-22) in this process with whichever billdrift is first on PYTHONPATH, and
prints the CPU time of fetching the rules' reported rows into Python
(``core.findings._fetch``, on its own thread: the queries' own threads not counted), of
the thread that turns those rows into findings (``core.findings.build``), of rendering
the JSON document and of freeing the report, each with ``time.thread_time()``: the
figures the issue-17 "findings columnar" sections compare between builds. Under load,
wall time says nothing; these do.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import billdrift.core.findings as findings
from billdrift.outputs.render.json_format import JsonRenderer
from billdrift.usecases.check import check


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("name", help="the label printed with the figures")
    args = parser.parse_args()
    gc.disable()  # as the CLI runs a check (billdrift.infra.runtime)
    spent = [0.0]
    fetching = [0.0]
    build = findings.build
    fetch = findings._fetch

    def fetched(*arguments: Any) -> Any:
        started = time.thread_time()
        try:
            return fetch(*arguments)
        finally:
            fetching[0] += time.thread_time() - started

    def timed(*arguments: Any) -> None:
        started = time.thread_time()
        build(*arguments)
        spent[0] += time.thread_time() - started

    findings.build = timed  # type: ignore[assignment]
    findings._fetch = fetched
    report = check("billing.csv", "app.csv", config="billdrift.toml", as_of="2026-11-22")
    started = time.thread_time()
    JsonRenderer().render_bytes(report)
    rendered = time.thread_time() - started
    started = time.thread_time()
    del report
    freed = time.thread_time() - started
    print(
        f"{args.name}: fetch {fetching[0]:.3f} s, build {spent[0]:.3f} s, render {rendered:.3f} s, "
        f"free report {freed:.3f} s CPU"
    )


if __name__ == "__main__":
    main()
