"""A check run inside the database that holds both sides (``--engine postgres``), on
Spark (``--engine spark``) or on a warehouse (``--engine snowflake``, ``bigquery``,
``redshift``, ``databricks``: untested here), and the SQL it would run (``--explain``).

Pushing down needs one database holding the app's accounts and the billing mirror:
the app source and every billing source must name the same database, or the run is
a configuration error saying so (reading the two over the wire and comparing them
in-process is what a check without ``--engine`` does).
"""

from __future__ import annotations

import importlib
from datetime import datetime
from types import ModuleType

from billdrift.config import WAREHOUSE_TARGETS, Config
from billdrift.core.policy import from_config
from billdrift.core.report import Report
from billdrift.errors import ConfigError
from billdrift.infra.db.urls import DatabaseUrl, is_database_url, resolve
from billdrift.sources.pushdown import ENGINES

_MIRROR_PREFIX = "stripe-mirror:"


def _same_database(config: Config) -> DatabaseUrl:
    """The one database both sides live in, or a ConfigError naming what differs."""
    target = config.engine.target
    app = config.app.source
    if not app or not is_database_url(app):
        raise ConfigError(
            f"--engine {target} runs the check inside the app's database: --app must be its "
            f"URL ({'no --app given' if not app else f'{app!r} is a file'})"
        )
    url = resolve(app)
    if url.dialect != "postgresql":
        raise ConfigError(f"--engine {target} needs a PostgreSQL database; --app is {url.shown}")
    if not config.billing.sources:
        raise ConfigError(
            f"--engine {target}: pass the database holding the Stripe mirror as --billing "
            "(the same URL as --app)"
        )
    for source in config.billing.sources:
        location = source.removeprefix(_MIRROR_PREFIX)
        billing = resolve(location) if is_database_url(location) else None
        if billing is None or _where(billing) != _where(url):
            raise ConfigError(
                f"--engine {target} runs the check inside one PostgreSQL database holding both "
                f"sides, but --billing {source!r} is not the database of --app ({url.shown}). "
                "Mirror Stripe into that database (stripe sync-engine, dj-stripe), or run "
                "without --engine to read both sides and compare them in-process"
            )
    return url


def _where(url: DatabaseUrl) -> tuple[str | None, int, str | None]:
    return (url.host, url.port or 5432, url.database)


def _engine(config: Config) -> ModuleType:
    return importlib.import_module(ENGINES[config.engine.target])


def _spark(config: Config) -> ModuleType:
    """The Spark runner; its own module imports pyspark only when a session starts."""
    return importlib.import_module(ENGINES["spark"])


def _one(sources: tuple[str, ...]) -> str | None:
    if len(sources) > 1:
        raise ConfigError("--engine spark reads one --billing directory (its canonical tables)")
    return sources[0] if sources else None


def _warehouse(config: Config) -> ModuleType | None:
    """The warehouse runner when the target is a warehouse (its connector is imported
    only when a run connects)."""
    if config.engine.target not in WAREHOUSE_TARGETS:
        return None
    return importlib.import_module("billdrift.sources.pushdown.warehouse")


def run_pushdown(config: Config, as_of: datetime) -> Report:
    """The check, run inside the database; only finding rows come back."""
    warehouse = _warehouse(config)
    if warehouse is not None:
        found: Report = warehouse.run(
            config.engine.target, config.engine.warehouse, from_config(config), as_of
        )
        return found
    if config.engine.target == "spark":
        spark: Report = _spark(config).run(
            config.engine.spark,
            _one(config.billing.sources),
            config.app.source,
            from_config(config),
            as_of,
        )
        return spark
    url = _same_database(config)
    report: Report = _engine(config).run(
        url, config.app, config.billing, from_config(config), as_of
    )
    return report


def explain_pushdown(config: Config, as_of: datetime) -> str:
    """The SQL a pushed-down check would run, per stage, with the policy's values."""
    warehouse = _warehouse(config)
    if warehouse is not None:
        sql: str = warehouse.explain(
            config.engine.target, config.engine.warehouse, from_config(config), as_of
        )
        return sql
    if config.engine.target == "spark":
        shown: str = _spark(config).explain(
            config.engine.spark,
            _one(config.billing.sources),
            config.app.source,
            from_config(config),
            as_of,
        )
        return shown
    url = _same_database(config)
    text: str = _engine(config).explain(url, config.app, config.billing, from_config(config), as_of)
    return text
