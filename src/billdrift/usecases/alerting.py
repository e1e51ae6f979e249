"""Alerting on a run: secrets checked before the run, deliveries after.

Alerts are sent only once the run is recorded and its report written, and a
failed delivery is a value (:class:`Delivery`) for the front-end to report, never
an exception: an unreachable Slack must not lose a run or change its exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from billdrift.config import Config
from billdrift.core.model import Finding
from billdrift.core.report import Report
from billdrift.history.lifecycle import Lifecycle
from billdrift.outputs.alerts import sinks_from_config
from billdrift.outputs.alerts.compose import compose_alerts
from billdrift.outputs.alerts.delivery import send_all
from billdrift.outputs.alerts.interface import AlertSink, Delivery
from billdrift.outputs.alerts.settings import AlertSettings


@dataclass(frozen=True)
class Alerting:
    settings: AlertSettings
    sinks: tuple[AlertSink, ...]


def prepare_alerts(config: Config) -> Alerting:
    """Find the alert secrets *before* the run (the settings were validated with the
    config): a missing webhook secret must fail at once, not after an hour of fetching."""
    return Alerting(config.alerts, tuple(sinks_from_config(config.alerts)))


def alert(
    alerting: Alerting,
    report: Report,
    lifecycle: Lifecycle | None,
    report_link: str | None,
) -> list[Delivery]:
    """Send what is new (or, without history, every finding) to every sink."""
    if not alerting.sinks or not alerting.settings.enabled:
        return []
    new: Sequence[Finding] = report.findings if lifecycle is None else lifecycle.new
    reopened: Sequence[Finding] = () if lifecycle is None else lifecycle.reopened
    alerts = compose_alerts(
        report,
        new,
        reopened,
        alerting.settings.alert_on,
        alerting.settings.report_link or report_link,
        max_findings=alerting.settings.max_findings,
        mask=alerting.settings.mask,
        status_of=None if lifecycle is None else lifecycle.status_of,
    )
    return send_all(alerting.sinks, alerts)
