"""Alerts: tell people about new drift where they already look (Slack, a webhook, email).

The flow, for the CLI::

    settings = config.alerts                     # validated with the config (ConfigError)
    sinks = sinks_from_config(settings)          # ConfigError if a secret's env var is unset
    ...run, write the report...
    alerts = compose_alerts(report, new, reopened, settings.alert_on, link,
                            max_findings=settings.max_findings)
    deliveries = send_all(sinks, alerts)         # never raises; print delivery_lines(...)

Every sink is registered in :data:`SINKS`, keyed by the name of its ``[alerts.NAME]``
table; a present table turns the sink on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from billdrift.infra.retry import RetryPolicy
from billdrift.outputs.alerts.compose import MAX_FINDINGS, compose_alerts, finding_key
from billdrift.outputs.alerts.delivery import delivery_lines, send_all
from billdrift.outputs.alerts.email_smtp import EmailSink
from billdrift.outputs.alerts.interface import Alert, AlertFinding, AlertSink, Delivery
from billdrift.outputs.alerts.settings import AlertOn, AlertSettings
from billdrift.outputs.alerts.slack import SlackSink
from billdrift.outputs.alerts.webhook import WebhookSink, verify_signature

#: Every sink, keyed by its ``[alerts.<name>]`` table (and AlertSettings attribute).
SINKS: dict[str, type[AlertSink]] = {
    sink.name: sink for sink in (SlackSink, WebhookSink, EmailSink)
}


def sinks_from_config(
    settings: AlertSettings, environ: Mapping[str, str] | None = None
) -> list[AlertSink]:
    """The configured sinks, secrets read from `environ` (default: the process env).

    Call it before the run: a missing secret is a ConfigError (exit 2) naming the
    key and the variable, not a surprise after an hour of reconciling. With
    ``alert_on = "never"`` no sink is built and no secret is needed.
    """
    if settings.alert_on == "never":
        return []
    env = os.environ if environ is None else environ
    return [
        sink.from_settings(settings, env)
        for name, sink in SINKS.items()
        if getattr(settings, name) is not None
    ]


__all__ = [
    "MAX_FINDINGS",
    "SINKS",
    "Alert",
    "AlertFinding",
    "AlertOn",
    "AlertSettings",
    "AlertSink",
    "Delivery",
    "EmailSink",
    "RetryPolicy",
    "SlackSink",
    "WebhookSink",
    "compose_alerts",
    "delivery_lines",
    "finding_key",
    "send_all",
    "sinks_from_config",
    "verify_signature",
]
