"""The ``[alerts]`` settings: what the keys mean, and the names the sinks use.

The models are part of the one pydantic configuration (:mod:`billdrift.config.alerts`,
the ``alerts`` field of :class:`~billdrift.config.Config`), so the table is
validated when the config is loaded; :meth:`AlertSettings.from_mapping`
validates a table on its own. They live there, not here, because the core
imports the config and must not import the alert sinks.
Every error is a :class:`~billdrift.errors.ConfigError` that names the full key
(``alerts.email.port``) and what was expected, like the rest of the config.

Secrets never live in the file: the Slack webhook URL (it holds a token), the
HMAC secret and the SMTP password are named by the environment variable that
holds them (``*_env`` keys). A sink table being present turns that sink on.

Example::

    [alerts]
    alert_on = "new"          # urgent | new | all | never
    retries = 3               # retries of a failed delivery (so 4 attempts at most)
    backoff_seconds = 1.0     # first retry wait; doubles each time (jittered)
    timeout_seconds = 10.0    # the longest one attempt may take, connect to last byte
    max_findings = 10         # findings listed in one alert
    report_link = "https://ci.example.com/billdrift/latest.html"  # optional
    mask = "emails"           # none | emails (default: ids shown) | all (ids too)

    [alerts.slack]
    webhook_env = "SLACK_WEBHOOK_URL"
    tiers = ["urgent", "review"]   # optional, on every sink

    [alerts.webhook]
    url = "https://ops.example.com/hooks/billdrift"   # or url_env = "..."
    secret_env = "BILLDRIFT_WEBHOOK_SECRET"

    [alerts.email]
    host = "smtp.example.com"
    port = 587
    starttls = true           # or ssl = true (port 465); not both
    username = "billdrift@example.com"
    password_env = "SMTP_PASSWORD"
    from = "billdrift@example.com"
    to = ["ops@example.com"]
"""

from __future__ import annotations

from billdrift.config import (
    ALERT_ON_VALUES,
    MASK_MODES,
    TIERS,
    AlertOn,
    AlertSettings,
    EmailSettings,
    MaskMode,
    SlackSettings,
    Tier,
    WebhookSettings,
)

__all__ = [
    "ALERT_ON_VALUES",
    "MASK_MODES",
    "TIERS",
    "AlertOn",
    "AlertSettings",
    "EmailSettings",
    "MaskMode",
    "SlackSettings",
    "Tier",
    "WebhookSettings",
]
