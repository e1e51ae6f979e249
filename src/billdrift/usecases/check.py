"""Run a check: read both sides, reconcile, return the Report.

This is what every front-end calls (the CLI's ``check`` and ``demo``, and the web
app, webhook listener and agent server to come). It never prints or exits: a
failure to read or a bad setting is raised as a :class:`~billdrift.errors.BilldriftError`
for the front-end to present, and everything else comes back inside the Report
(verdict, findings, skipped rows, errors).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from billdrift.config import WAREHOUSE_TARGETS, Config, load_config
from billdrift.core.engine import Inputs, reconcile
from billdrift.core.instants import InstantError, acceptable, parse_instant
from billdrift.core.model import AppData, BillingData, Verdict
from billdrift.core.policy import from_config
from billdrift.core.report import Report
from billdrift.errors import ConfigError
from billdrift.infra.runtime import collector_paused, release_read_buffers
from billdrift.sources.progress import NO_PROGRESS, Progress
from billdrift.sources.pushdown.freshness import checked
from billdrift.sources.registry import read_sources
from billdrift.usecases.overrides import with_overrides


def run_check(
    config: Config, as_of: datetime, strict: bool = False, progress: Progress = NO_PROGRESS
) -> Report:
    """Read both sides named in `config` and reconcile them at `as_of`.

    Raises BilldriftError when an input cannot be read at all or none is given;
    with `strict`, any skipped row turns the verdict to ERROR.
    """
    if config.engine.target in WAREHOUSE_TARGETS:  # both sides: the warehouse's tables
        from billdrift.usecases.pushdown import run_pushdown

        return run_pushdown(config, as_of)
    if not config.billing.sources:
        raise ConfigError("no billing input: pass --billing FILE (or set billing.sources)")
    if not config.app.source:
        raise ConfigError("no app input: pass --app FILE_OR_URL (or set app.source)")
    if config.engine.target != "in-process":
        from billdrift.usecases.pushdown import run_pushdown  # sqlglot only when pushing down

        return run_pushdown(config, as_of)
    with collector_paused():  # see billdrift.infra.runtime
        billing, app = read_sources(
            config.billing.sources, config.app.source, config.billing, config.app, progress
        )
        release_read_buffers()  # see billdrift.infra.runtime
        bound = config.billing.max_sync_age_hours
        billing = [checked(data, as_of, bound) for data in billing]  # stale: an ERROR
        return check_read(config, billing, app, as_of, strict)


def check_read(
    config: Config,
    billing: Sequence[BillingData],
    app: AppData,
    as_of: datetime,
    strict: bool = False,
    targeted: bool = False,
) -> Report:
    """The rules of `config` over inputs already read: :func:`run_check`'s second half,
    also what a targeted check (`targeted`: one customer's slice of both sides) runs."""
    policy = from_config(config)
    inputs = Inputs(billing=billing, app=app, policy=policy, as_of=as_of, targeted=targeted)
    report = reconcile(inputs)
    if strict and report.skips and report.verdict is not Verdict.ERROR:
        report = replace(
            report,
            verdict=Verdict.ERROR,
            errors=(f"{len(report.skips)} rows could not be read and --strict is set",),
        )
    return report


def as_of_instant(value: datetime | str | None) -> datetime:
    """An evaluation instant: now (to the second) when None; an ISO-8601 text is
    parsed as ``--as-of`` is (a date means midnight UTC, no zone means UTC)."""
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    if isinstance(value, datetime):
        try:
            return acceptable(value)
        except InstantError as error:
            raise ConfigError(f"as_of: {error}") from None
    return parse_instant(
        value, "--as-of", "an ISO-8601 date or instant such as 2026-11-22 or 2026-11-22T09:30:00Z"
    )


def check(
    billing: str | Sequence[str] | None = None,
    app: str | None = None,
    *,
    config: Config | str | Path | None = None,
    as_of: datetime | str | None = None,
    strict: bool = False,
    app_table: str | None = None,
    plans: Mapping[str, str] | None = None,
    grace_days: int | None = None,
    progress: Progress = NO_PROGRESS,
) -> Report:
    """Compare billing data with app access and return the immutable Report.

    `billing` is one or more billing inputs (export files, ``stripe``, ``paddle``, a
    mirror database URL) and `app` the app's accounts (a CSV or SQLite file, a
    database URL or ``env:NAME``), exactly as the CLI's ``--billing`` and ``--app``
    take them; `config` is a :class:`Config` or the path of a TOML file, and the
    other arguments win over it as the CLI's flags do. Nothing is printed; inputs
    that cannot be read raise :class:`~billdrift.errors.BilldriftError`.
    """
    settings = config if isinstance(config, Config) else load_config(config)
    settings = with_overrides(
        settings,
        billing=(billing,) if isinstance(billing, str) else tuple(billing or ()),
        app=app,
        app_table=app_table,
        plans=plans,
        grace_days=grace_days,
    )
    return run_check(settings, as_of_instant(as_of), strict, progress)
