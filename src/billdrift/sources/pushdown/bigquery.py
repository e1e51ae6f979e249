"""BigQuery through google-cloud-bigquery (the ``bigquery`` extra). Untested against a
real BigQuery here (no project is reachable); the tests hand the statements to a stub
client.

URL: ``bigquery://PROJECT/DATASET?location=US`` (the dataset is the default for the
canonical tables' unqualified names). Credentials come from the environment only, as
Google's libraries find them: ``GOOGLE_APPLICATION_CREDENTIALS`` (a service account
key file) or the machine's own identity; nothing secret is read from the URL or the
config. Every statement is a query job running a ``WITH ... SELECT``, so a role with
``bigquery.dataViewer`` and ``bigquery.jobUser`` suffices. Rows are fetched as Arrow
(``RowIterator.to_arrow``); BigQuery hands over nested arrays and structs as such.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote

from billdrift.errors import ConfigError
from billdrift.sources.pushdown import warehouse

NAME = "bigquery"
EXTRA = "bigquery"
SECRETS = ("GOOGLE_APPLICATION_CREDENTIALS",)


def arguments(url: SplitResult) -> dict[str, Any]:
    if not url.hostname:
        raise ConfigError("a bigquery:// URL names the project: bigquery://PROJECT/DATASET")
    if url.username:
        raise ConfigError(
            "a bigquery:// URL names no user: credentials come from the environment "
            "(GOOGLE_APPLICATION_CREDENTIALS)"
        )
    (dataset,) = warehouse.path_parts(url, ("dataset",), _this())
    project = url.netloc  # a project id may hold characters a host name may not
    found: dict[str, Any] = {"project": unquote(project), "dataset": unquote(dataset)}
    return found | warehouse.options(url, ("location",))


def connect(arguments: dict[str, Any], environ: Mapping[str, str]) -> warehouse.Session:
    bigquery = warehouse.imported(_this(), "google.cloud.bigquery", "google-cloud-bigquery")
    client = bigquery.Client(project=arguments["project"], location=arguments.get("location"))
    config = bigquery.QueryJobConfig(
        default_dataset=f"{arguments['project']}.{arguments['dataset']}",
        use_legacy_sql=False,
    )
    return _Session(client, config)


class _Session:
    """BigQuery's client runs query jobs and hands back their results, with no DB-API
    cursor to open and close: the one target not on :class:`warehouse.CursorSession`."""

    def __init__(self, client: Any, config: Any) -> None:
        self._client = client
        self._config = config

    def rows(self, sql: str) -> list[dict[str, Any]]:
        result = self._client.query(sql, job_config=self._config).result()
        found: list[dict[str, Any]] = result.to_arrow().to_pylist()
        return found

    def close(self) -> None:
        self._client.close()


def _this() -> warehouse.Connector:
    return warehouse.connector(NAME)
