"""A Spark session for running a plan (issue 17), pyspark imported only here and only
when asked for: it is the optional ``spark`` extra, and a check that does not push
down to Spark never pays for starting a JVM.

``local[N]`` runs Spark in this process's JVM on N cores, bound to loopback only;
any other master URL (``spark://...``, ``yarn``, ``sc://`` for Spark Connect) runs
the same statements on a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from billdrift.errors import ConfigError

_INSTALL = "pip install 'billdrift[spark]'"

#: Local mode's settings, in this one place (any [engine.spark] conf entry wins). A
#: check is a few dozen small statements whose cost is Spark's per-job and
#: per-statement overhead more than its rows, so each setting trades a little
#: throughput on big data for fewer jobs and less compiling:
LOCAL_CONF = {
    # a broadcast join runs its small side as a job of its own before the query (the
    # demo's plan: 127 jobs with broadcasts, 49 without, 45 s -> 35 s under load);
    # sort-merge joins stay inside the query's one job
    "spark.sql.autoBroadcastJoinThreshold": "-1",
    # adaptive execution submits every shuffle stage as a job of its own (287 jobs)
    "spark.sql.adaptive.enabled": "false",
    # expressions interpreted, not compiled to Java (Janino) per statement: compiling
    # costs seconds per statement on loaded cores (the demo: 80-100 s with codegen,
    # 45-55 s without), more than it saves on a check's rows
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}


def local_conf(master: str) -> dict[str, str]:
    """:data:`LOCAL_CONF` plus one shuffle partition per core of a ``local[N]``
    master (Spark's default 200 partitions cost a task each, per stage)."""
    cores = master.removeprefix("local").strip("[]").split(",")[0] or "1"
    count = str(os.cpu_count() or 1) if cores == "*" else cores
    return {
        **LOCAL_CONF,
        "spark.sql.shuffle.partitions": count,
    }


def pyspark_sql() -> Any:
    """The ``pyspark.sql`` module, or a ConfigError (exit 2) naming the extra to install."""
    try:
        import pyspark.sql
    except ImportError:
        raise ConfigError(f"running on Spark needs pyspark: {_INSTALL}") from None
    return pyspark.sql


def session(master: str, conf: Mapping[str, str], app_name: str = "billdrift") -> Any:
    """A SparkSession on `master` with `conf` applied (an existing one is reused: Spark
    allows one per JVM). Local mode listens on 127.0.0.1 only, shows no UI and takes
    :func:`local_conf` under `conf`."""
    sql = pyspark_sql()
    if master.startswith("local"):
        conf = {**local_conf(master), **conf}
    builder = sql.SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = builder.config("spark.driver.bindAddress", "127.0.0.1").config(
            "spark.driver.host", "127.0.0.1"
        )
        builder = builder.config("spark.ui.enabled", "false").config(
            "spark.ui.showConsoleProgress", "false"
        )
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    for key, value in conf.items():  # a reused session takes the runtime ones too
        if spark.conf.isModifiable(key):  # not spark.driver.memory and the like
            spark.conf.set(key, value)
    return spark
