"""What every in-process check does before its first rule: start, import, read both files.

Usage::

    PYTHONPATH=SRC python bench/reads_only.py --data DIR

Reads DIR/billing.csv and DIR/app.csv through billdrift's own sources, as
``billdrift check`` does (the same configuration, DIR/billdrift.toml; the same
process set-up: imports loaded with the collector paused, the process left without
teardown), then exits: no stage, no rule, no report. Every byte is checked as
UTF-8, every line counted and every value parsed and placed on its line, which is
what lets a check name the row it could not read.

``bench/series.py --reads-only NAME`` runs it in the alternating series beside the
full check and the naive baseline: its ratio to the baseline is the part of
billdrift's ratio spent before any rule runs (issue 17).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory with both CSVs")
    args = parser.parse_args()
    from billdrift.infra.runtime import collector_paused, leave, loading

    with loading():
        from billdrift.config import load_config
        from billdrift.sources.registry import read_sources
        from billdrift.usecases.overrides import with_overrides
    data = args.data
    config = with_overrides(
        load_config(data / "billdrift.toml"),
        billing=(str(data / "billing.csv"),),
        app=str(data / "app.csv"),
    )
    with collector_paused():
        billing, app = read_sources(
            config.billing.sources, config.app.source, config.billing, config.app
        )
    rows = sum(part.subscriptions.num_rows for part in billing) + app.accounts.num_rows
    print(f"{rows} rows read")
    leave(0)


if __name__ == "__main__":
    main()
