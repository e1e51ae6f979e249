"""What a front-end says over the config file: its flags win, unset ones leave it be.

One function so the CLI, the public API and later front-ends override the same
settings the same way (a flag given is a value; None or empty means "not given").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from billdrift.config import Config


def with_overrides(
    config: Config,
    *,
    app: str | None = None,
    app_table: str | None = None,
    billing: Sequence[str] = (),
    grace_days: int | None = None,
    plans: Mapping[str, str] | None = None,
    format: str | None = None,
    output: str | None = None,
    fail_on: str | None = None,
    mask: bool = False,
    history: str | None = None,
    alert_on: str | None = None,
) -> Config:
    """`config` with every given override applied. Values are not validated again
    here: the front-end checks its own input (the CLI's choices and ranges)."""
    policy = config.policy
    if grace_days is not None:
        policy = policy.model_copy(update={"grace_days": grace_days})
    app_config = config.app
    if app:
        app_config = app_config.model_copy(update={"source": app})
    if app_table:
        app_config = app_config.model_copy(update={"table": app_table})
    billing_config = config.billing
    if billing:
        billing_config = billing_config.model_copy(update={"sources": tuple(billing)})
    output_config = config.output
    for key, value in (("format", format), ("output", output), ("fail_on", fail_on)):
        if value is not None:
            output_config = output_config.model_copy(update={key: value})
    if mask:
        output_config = output_config.model_copy(update={"mask": True})
    history_config = config.history
    if history:
        history_config = history_config.model_copy(update={"location": history})
    alerts = config.alerts
    if alert_on:
        alerts = alerts.model_copy(update={"alert_on": alert_on})
    return config.model_copy(
        update={
            "policy": policy,
            "app": app_config,
            "billing": billing_config,
            "output": output_config,
            "plans": {**config.plans, **(plans or {})},
            "history": history_config,
            "alerts": alerts,
        }
    )
