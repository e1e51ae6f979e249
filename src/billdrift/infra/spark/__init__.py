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


def pyspark_sql() -> Any:
    """The ``pyspark.sql`` module, or a ConfigError (exit 2) naming the extra to install."""
    try:
        import pyspark.sql
    except ImportError:
        raise ConfigError(f"running on Spark needs pyspark: {_INSTALL}") from None
    return pyspark.sql


def session(master: str, conf: Mapping[str, str], app_name: str = "billdrift") -> Any:
    """A SparkSession on `master` with `conf` applied (an existing one is reused: Spark
    allows one per JVM). Local mode listens on 127.0.0.1 only and shows no UI."""
    sql = pyspark_sql()
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
