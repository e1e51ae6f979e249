"""`billdrift check --engine spark` and `--explain` from the command line, over the
demo's canonical relations written as Parquet and CSV files (one local Spark session
for the test run: tests/pushdown/conftest.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from billdrift.config import load_config
from billdrift.core.engine import Inputs
from billdrift.core.load import load
from billdrift.core.policy import from_config
from billdrift.infra import duck
from billdrift.sources.registry import read_sources
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths

AS_OF = DEMO_AS_OF.isoformat().replace("+00:00", "Z")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args))
    return result.exit_code, result.stdout, result.stderr


def demo_config() -> str:
    return str(demo_paths().config)


def in_process() -> tuple[int, dict[str, Any]]:
    paths = demo_paths()
    code, out, err = run(
        "check", "--billing", str(paths.billing), "--app", str(paths.app),
        "--config", demo_config(), "--as-of", AS_OF, "--format", "json",
    )  # fmt: skip
    assert code == 1, err
    return code, json.loads(out)


def write_canonical(root: Path, csv: bool = False) -> tuple[Path, Path]:
    """The demo's canonical relations as loading leaves them, billing and app apart."""
    paths = demo_paths()
    config = load_config(str(paths.config))
    billing, app = read_sources([str(paths.billing)], str(paths.app), config.billing, config.app)
    inputs = Inputs(billing, app, from_config(config), DEMO_AS_OF)
    con = duck.connect()
    try:
        load(con, inputs.billing, inputs.app, inputs.policy, inputs.as_of)
        for side, names in {
            "billing": ("billing_subscriptions", "billing_items"),
            "app": ("app_accounts", "app_access_signals"),
        }.items():
            (root / side).mkdir(parents=True)
            for name in names:
                kind = "csv" if csv and side == "app" else "parquet"
                path = root / side / f"{name}.{kind}"
                options = "FORMAT csv, HEADER" if kind == "csv" else "FORMAT parquet"
                con.execute(f"COPY {name} TO '{path}' ({options})")
    finally:
        con.close()
    return root / "billing", root / "app"


def on_spark(billing: Path, app: Path, *extra: str) -> tuple[int, str, str]:
    return run(
        "check", "--engine", "spark", "--billing", str(billing), "--app", str(app),
        "--config", demo_config(), "--as-of", AS_OF, "--format", "json", *extra,
    )  # fmt: skip


def test_engine_spark_reports_the_findings_of_the_in_process_check(
    spark_session: Any, tmp_path: Path
) -> None:
    _, expected = in_process()
    billing, app = write_canonical(tmp_path, csv=True)  # app side as CSV, billing as Parquet
    code, out, err = on_spark(billing, app)
    assert code == 1, err
    report = json.loads(out)
    assert report["findings"] == expected["findings"]
    assert report["summary"] == expected["summary"]


def test_explain_prints_the_spark_sql_and_runs_no_check(spark_session: Any, tmp_path: Path) -> None:
    billing, app = write_canonical(tmp_path)
    code, out, err = on_spark(billing, app, "--explain", "--grace-days", "11")
    assert code == 0, err
    assert "USING parquet OPTIONS (path" in out
    assert "CREATE OR REPLACE TEMPORARY VIEW `subscriptions_evaluated`" in out  # read once
    assert "CACHE TABLE `customers`" in out  # read by several stages: computed once
    assert "CAST(11 AS INT) AS `grace_days`" in out
    assert '"findings"' not in out


def test_a_missing_table_is_a_configuration_error_naming_where_it_was_looked_for(
    tmp_path: Path,
) -> None:
    (tmp_path / "billing").mkdir()
    code, _, err = on_spark(tmp_path / "billing", tmp_path)
    assert code == 2
    assert "billing_subscriptions.parquet" in err and "[engine.spark] tables" in err


def test_without_pyspark_the_run_exits_2_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    billing, app = write_canonical(tmp_path)
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the extra were not installed
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    code, _, err = on_spark(billing, app)
    assert code == 2
    assert "pip install 'billdrift[spark]'" in err
