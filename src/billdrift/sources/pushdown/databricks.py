"""Databricks through databricks-sql-connector (the ``databricks`` extra). Untested
against a real Databricks workspace here (none is reachable); the same Spark SQL runs
on local Spark in the Spark tests, and the tests hand the statements to a stub
connection.

URL: ``databricks://HOST/HTTP_PATH?catalog=C&schema=S`` (HTTP_PATH as the SQL
warehouse's connection details show it, e.g. ``/sql/1.0/warehouses/abc123``). Secret,
from the environment only: ``DATABRICKS_TOKEN`` (a personal access or OAuth token).
Databricks has no read-only session: every statement is a ``WITH ... SELECT`` after
``SET TIME ZONE 'UTC'``, so give the principal SELECT (and USE) grants only. Rows are
fetched as Arrow (``fetchall_arrow``), arrays and structs as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote

from billdrift.errors import ConfigError
from billdrift.sources.pushdown import warehouse

NAME = "databricks"
EXTRA = "databricks"
SECRETS = ("DATABRICKS_TOKEN",)


def arguments(url: SplitResult) -> dict[str, Any]:
    if not url.hostname or url.path.strip("/") == "":
        raise ConfigError(
            "a databricks:// URL names the workspace host and the SQL warehouse's HTTP "
            "path: databricks://HOST/sql/1.0/warehouses/ID?catalog=C&schema=S"
        )
    if url.username:
        raise ConfigError(
            "a databricks:// URL names no user: the token comes from DATABRICKS_TOKEN"
        )
    found: dict[str, Any] = {"server_hostname": url.hostname, "http_path": unquote(url.path)}
    return found | warehouse.options(url, ("catalog", "schema"))


def connect(arguments: dict[str, Any], environ: Mapping[str, str]) -> warehouse.Session:
    sql = warehouse.imported(_this(), "databricks.sql", "databricks-sql-connector")
    if not environ.get("DATABRICKS_TOKEN"):
        raise ConfigError("--engine databricks: set DATABRICKS_TOKEN in the environment")
    connection = sql.connect(**arguments, access_token=environ["DATABRICKS_TOKEN"])
    return warehouse.CursorSession(connection, _fetch)


def _fetch(cursor: Any) -> list[dict[str, Any]]:
    """Arrow rows, arrays and structs as such."""
    found: list[dict[str, Any]] = cursor.fetchall_arrow().to_pylist()
    return found


def _this() -> warehouse.Connector:
    return warehouse.connector(NAME)
