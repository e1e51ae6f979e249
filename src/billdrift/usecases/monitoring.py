"""One monitored check: what a recurring run does around the reconciliation.

The order is the promise that nothing is lost: alert settings and secrets are
checked first (a missing webhook secret fails before an hour of fetching), then
the check runs, the run is recorded in the history store, the report is
published (the front-end's `publish`: the CLI writes the file, a web app keeps
it), and only then are alerts sent, whose failures come back as values. A store
that cannot be written does not stop the report from being published; it makes
the outcome an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from billdrift.config import Config
from billdrift.core.report import Report
from billdrift.errors import EXIT_ERROR, BilldriftError, ConfigError
from billdrift.infra.runtime import collector_paused
from billdrift.sources.progress import NO_PROGRESS, Progress
from billdrift.usecases.check import run_check

if TYPE_CHECKING:  # a plain check never loads the alert sinks or the history store
    from billdrift.outputs.alerts.interface import Delivery
    from billdrift.outputs.render.history_points import RunPoint

#: Receives the finished report (and, with a history store, the recent runs to chart)
#: after the run is recorded and before alerts go out.
Publish = Callable[[Report, "Sequence[RunPoint] | None"], None]


@dataclass(frozen=True)
class Outcome:
    """What a monitored check did: the report as published, alert deliveries, and
    the history store's failure if recording failed (the report was still published)."""

    report: Report
    deliveries: tuple[Delivery, ...] = ()
    history_error: BilldriftError | None = None

    @property
    def exit_code(self) -> int:
        return EXIT_ERROR if self.history_error is not None else self.report.exit_code


def monitored_check(
    config: Config,
    as_of: datetime,
    publish: Publish,
    strict: bool = False,
    progress: Progress = NO_PROGRESS,
) -> Outcome:
    """Check, record (with `config.history.location`), publish, then alert (with
    `[alerts]`). The cyclic garbage collector is paused for the whole run (see
    :mod:`billdrift.infra.runtime`); a `watch` loop collects between runs."""
    if config.output.fail_on.startswith("new") and not config.history.location:
        raise ConfigError(
            f"fail_on = {config.output.fail_on!r} (--fail-on new) tells new findings from "
            "ongoing ones by the run history: set a history store with --history PATH_OR_URL "
            "or [history] location in the config"
        )
    with collector_paused():
        if not config.history.location and not config.alerts.enabled:
            report = run_check(config, as_of, strict, progress)
            publish(report, None)
            return Outcome(report)
        return _recorded_and_alerted(config, as_of, publish, strict, progress)


def _recorded_and_alerted(
    config: Config, as_of: datetime, publish: Publish, strict: bool, progress: Progress
) -> Outcome:
    # Imported here: a plain check never loads the history store or the alert sinks.
    from billdrift.history.lifecycle import Lifecycle
    from billdrift.usecases.alerting import alert, prepare_alerts
    from billdrift.usecases.recording import record

    alerting = prepare_alerts(config)
    started = datetime.now(UTC)
    report = run_check(config, as_of, strict, progress)
    lifecycle: Lifecycle | None = None
    history: tuple[RunPoint, ...] | None = None
    history_error: BilldriftError | None = None
    if config.history.location:
        try:
            recorded = record(config, report, started, datetime.now(UTC))
            report, lifecycle, history = recorded.report, recorded.lifecycle, recorded.history
        except BilldriftError as error:
            history_error = error
    publish(report, history)
    deliveries = alert(alerting, report, lifecycle, config.output.output)
    return Outcome(report, tuple(deliveries), history_error)
