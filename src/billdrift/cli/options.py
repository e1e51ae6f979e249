"""Options several commands share, declared once so their names and help agree."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from billdrift.errors import ConfigError
from billdrift.infra.config_file import DEFAULT_NAME, ENV_VAR, find_config
from billdrift.outputs.render import RENDERERS

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = click.Choice(sorted(RENDERERS))
SEVERITIES = click.Choice(["high", "medium", "low"])
ALERT_ON = click.Choice(["urgent", "new", "all", "never"])


def output_options(func: F) -> F:
    """--format, --output, --mask, --debug: how a report is presented."""
    for option in reversed(
        [
            click.option(
                "--format",
                "format",
                type=FORMATS,
                help="Output format [the --output file's extension, else text].",
            ),
            click.option(
                "--output",
                "output",
                metavar="FILE",
                help="Write the report here, once complete (.json .md .html .csv .txt "
                "choose the format when --format is not given).",
            ),
            click.option("--mask", is_flag=True, help="Mask emails and ids in the report."),
            click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
        ]
    ):
        func = option(func)
    return func


#: Help of every command's --config: the one discovery rule (infra/config_file.py).
CONFIG_HELP = f"TOML config [${ENV_VAR}, else ./{DEFAULT_NAME} if present]."


def config_option(func: F) -> F:
    """--config FILE, found as every command finds it when not given."""
    return click.option(
        "--config", "config_path", type=click.Path(dir_okay=False), help=CONFIG_HELP
    )(func)


def config_file(given: str | None) -> Path | None:
    """The config file to use: `given`, else $BILLDRIFT_CONFIG, else ./billdrift.toml,
    else None (defaults). One not named on the command line is announced on stderr,
    so a run never reads a config nobody asked for without saying so."""
    found, how = find_config(given)
    if found is not None and how != "--config":
        click.echo(f"billdrift: config {found} ({how})", err=True)
    return found


def required_config_file(given: str | None) -> Path:
    """:func:`config_file` for commands that cannot work without one."""
    found = config_file(given)
    if found is None:
        raise ConfigError(
            f"no config file: pass --config FILE, set ${ENV_VAR}, or write ./{DEFAULT_NAME} "
            "(billdrift init does)"
        )
    return found


def parse_plans(pairs: Sequence[str]) -> dict[str, str]:
    """``--plan KEY=PLAN`` values as a mapping."""
    plans = {}
    for pair in pairs:
        key, sep, plan = pair.partition("=")
        if not sep or not key.strip() or not plan.strip():
            raise ConfigError(f"--plan: expected PRICE_OR_LOOKUP_KEY=PLAN; got {pair!r}")
        plans[key.strip()] = plan.strip()
    return plans


def parse_also_outputs(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """``--also-output FORMAT=FILE`` values as (format, file) pairs, formats checked."""
    parsed = []
    for pair in pairs:
        report_format, sep, path = pair.partition("=")
        if not sep or report_format not in RENDERERS or not path.strip():
            raise ConfigError(
                f"--also-output: expected FORMAT=FILE with FORMAT one of "
                f"{', '.join(sorted(RENDERERS))}; got {pair!r}"
            )
        parsed.append((report_format, path))
    return parsed
