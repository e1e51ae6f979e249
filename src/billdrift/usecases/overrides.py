"""What a front-end says over the config file: its flags win, unset ones leave it be.

One function so the CLI, the public API and later front-ends override the same
settings the same way (a flag given is a value; None or empty means "not given").

The report format follows the output file's extension when nothing names a format
(``--output report.html`` writes HTML). Flags win over the config file, and within
each an explicit format wins over the extension: ``--format``, else the extension of
``--output``, else the config's ``format``, else the extension of its ``output``,
else text. A format that contradicts the extension is honoured; a front-end says so
(:func:`format_mismatch`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePath

from billdrift.config import Config, OutputConfig

#: Output file extensions (lower case) that say which report format a file holds.
FORMAT_BY_EXTENSION: dict[str, str] = {
    ".json": "json",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".csv": "csv",
    ".txt": "text",
}


def format_for_path(path: str | None) -> str | None:
    """The format `path`'s extension names (case-insensitive), or None for no path, no
    extension or one that names no format (``report.out``, ``/dev/stdout``)."""
    if not path:
        return None
    return FORMAT_BY_EXTENSION.get(PurePath(path).suffix.lower())


def format_mismatch(output: OutputConfig) -> str | None:
    """A warning when the report format is not the one the output file's extension
    names (the format was asked for explicitly, so it is written as asked)."""
    named = format_for_path(output.output)
    if named is None or named == output.format:
        return None
    return (
        f"writing the {output.format} format to {output.output} as asked, though its "
        f"extension says {named}"
    )


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
    if format is None and output is not None:
        format = format_for_path(output)
    elif format is None and "format" not in output_config.model_fields_set:
        format = format_for_path(output_config.output)  # the config file's own output
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
