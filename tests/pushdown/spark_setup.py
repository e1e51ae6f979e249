"""One Spark session for the whole test run (it takes seconds to start), and canonical
relations written as Parquet files Spark reads, so that a plan can run on Spark over
exactly the rows an in-process run reads."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from billdrift.core.engine import Inputs
from billdrift.core.load import load
from billdrift.core.model import Skip
from billdrift.infra import duck
from billdrift.infra.spark import session

_DIRS = itertools.count()


def start() -> Any:
    return session("local[2]", {}, app_name="billdrift-tests")


def write_parquet(root: Path, inputs: Inputs) -> tuple[dict[str, str], tuple[Skip, ...]]:
    """The canonical relations of `inputs` as loading leaves them, one Parquet file each
    under a fresh directory; returns each relation's Spark SQL and the unused copies."""
    folder = root / f"canon_{next(_DIRS)}"
    folder.mkdir(parents=True)
    con = duck.connect()
    try:
        loaded = load(con, inputs.billing, inputs.app, inputs.policy, inputs.as_of)
        names = (
            "billing_subscriptions",
            "billing_items",
            "app_accounts",
            "app_access_signals",
            "unreadable_rows",
            "billing_repeats",
        )
        for name in names:
            con.execute(f"COPY {name} TO '{folder / name}.parquet' (FORMAT parquet)")
    finally:
        con.close()
    canonical = {name: f"SELECT * FROM parquet.`{folder / name}.parquet`" for name in names}
    return canonical, loaded.skips
