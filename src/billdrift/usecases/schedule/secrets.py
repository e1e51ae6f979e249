"""Which secrets a scheduled run needs: names of environment variables, never values.

A scheduler (a GitHub workflow, a crontab) must pass these to the run; the config
names them (``env:NAME`` sources, the provider keys, alert secrets).
"""

from __future__ import annotations

from billdrift.config import Config
from billdrift.infra.db.urls import ENV_PREFIX

#: Secrets a check can read, by where the config says the data comes from.
_PROVIDER_SECRETS = {"stripe": "STRIPE_API_KEY", "paddle": "PADDLE_API_KEY"}


def secrets_for(config: Config) -> list[str]:
    """Environment variables the configured run reads (names only, in a stable order)."""
    names: list[str] = []
    sources = [config.app.source or "", *config.billing.sources]
    for source in sources:
        if source.startswith(ENV_PREFIX):
            names.append(source[len(ENV_PREFIX) :])
        elif source in _PROVIDER_SECRETS:
            names.append(_PROVIDER_SECRETS[source])
    alerts = config.alerts
    if alerts.slack is not None:
        names.append(alerts.slack.webhook_env)
    if alerts.webhook is not None:
        names.append(alerts.webhook.secret_env)
    if alerts.email is not None and alerts.email.password_env is not None:
        names.append(alerts.email.password_env)
    return list(dict.fromkeys(names))
