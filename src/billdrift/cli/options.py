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
#: --fail-on: a severity, or new[:SEVERITY] (only new or reopened findings fail; needs history).
FAIL_ON = click.Choice(["high", "medium", "low", "new", "new:high", "new:medium", "new:low"])
ALERT_ON = click.Choice(["urgent", "new", "all", "never"])


def _apply(func: F, options: Sequence[Callable[[F], F]]) -> F:
    """`options` applied so that --help lists them in the order given."""
    for option in reversed(options):
        func = option(func)
    return func


def source_options(func: F) -> F:
    """--billing, --app, --app-table: where the data comes from (check, watch, doctor)."""
    return _apply(
        func,
        [
            click.option(
                "--billing",
                "billing",
                multiple=True,
                metavar="SOURCE",
                help="Billing data, repeatable: an export file (Stripe JSON/JSONL, Stripe-style "
                "CSV, Paddle JSON; detected from the content, KIND:FILE forces one), `stripe` "
                "or `paddle` for the provider's API (key from $STRIPE_API_KEY or "
                "$PADDLE_API_KEY), or a Stripe mirror's database URL (postgresql://..., "
                "mysql://..., or env:NAME naming a variable that holds one).",
            ),
            click.option(
                "--app",
                "app",
                metavar="FILE_OR_URL",
                help="App accounts: a CSV file, a SQLite file, a database URL (postgresql://, "
                "mysql://, mariadb://, sqlite:///) or env:NAME naming a variable that holds "
                "one [app.source].",
            ),
            click.option(
                "--app-table",
                "app_table",
                metavar="NAME",
                help="Table to read from a database [app.table, else the one that looks "
                "like accounts].",
            ),
        ],
    )


def rule_options(func: F) -> F:
    """--grace-days, --plan, --fail-on, --strict: how findings are judged (check, watch)."""
    return _apply(
        func,
        [
            click.option(
                "--grace-days",
                "grace_days",
                type=click.IntRange(min=0),
                help="Days a past_due subscription keeps access (dunning grace) [7].",
            ),
            click.option(
                "--plan",
                "plan",
                multiple=True,
                metavar="PRICE_OR_LOOKUP_KEY=PLAN",
                help="Map a price id, lookup key or product to an app plan. Repeatable.",
            ),
            click.option(
                "--fail-on",
                "fail_on",
                type=FAIL_ON,
                help="Exit 1 at this severity [high]; new[:SEVERITY] fails only on new or "
                "reopened findings (needs --history). Reviewed findings never fail a run "
                "with --history.",
            ),
            click.option("--strict", is_flag=True, help="Any unreadable row is an error (exit 2)."),
        ],
    )


def output_options(func: F) -> F:
    """--format, --output, --mask, --debug: how a report is presented."""
    return _apply(
        func,
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
        ],
    )


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
