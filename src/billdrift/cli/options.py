"""Options several commands share, declared once so their names and help agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from billdrift.errors import ConfigError
from billdrift.outputs.render import RENDERERS

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(sorted(RENDERERS))
SEVERITIES = click.Choice(["high", "medium", "low"])
ALERT_ON = click.Choice(["urgent", "new", "all", "never"])


def output_options(func: F) -> F:
    """--format, --output, --mask, --debug: how a report is presented."""
    for option in reversed(
        [
            click.option("--format", "format", type=FORMATS, help="Output format [text]."),
            click.option("--output", "output", help="Write the report here (once complete)."),
            click.option("--mask", is_flag=True, help="Mask emails and ids in the report."),
            click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
        ]
    ):
        func = option(func)
    return func


def parse_plans(pairs: Sequence[str]) -> dict[str, str]:
    """``--plan KEY=PLAN`` values as a mapping."""
    plans = {}
    for pair in pairs:
        key, sep, plan = pair.partition("=")
        if not sep or not key.strip() or not plan.strip():
            raise ConfigError(f"--plan: expected PRICE_OR_LOOKUP_KEY=PLAN; got {pair!r}")
        plans[key.strip()] = plan.strip()
    return plans
