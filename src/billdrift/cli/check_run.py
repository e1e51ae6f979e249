"""What ``billdrift check``, ``demo`` and ``watch`` run once click has parsed their
arguments: the configuration, the check through :mod:`billdrift.usecases`, the report
and the alert deliveries. :mod:`billdrift.cli.check` declares the commands and imports
this module only to run one, so their ``--help`` and argument errors load no engine."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from billdrift.cli.exits import attempt, run_command
from billdrift.cli.options import config_file, parse_also_outputs, parse_plans
from billdrift.cli.progress import progress_for_terminal
from billdrift.cli.publish import AlsoOutputs, emit, emit_error
from billdrift.config import Config, load_config
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.errors import EXIT_ERROR, BilldriftError, ConfigError
from billdrift.infra.runtime import keep_until_exit
from billdrift.outputs.render.history_points import RunPoint
from billdrift.usecases.check import as_of_instant, run_check
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths
from billdrift.usecases.monitoring import monitored_check
from billdrift.usecases.overrides import format_mismatch, with_overrides


def _configured(config_path: str | Path | None, flags: dict[str, Any], warn: bool = True) -> Config:
    """The config file with the flags applied over it; with `warn`, a format that
    contradicts the output file's extension is pointed out on stderr."""
    plans = parse_plans(flags.pop("plan", None) or ())
    config = with_overrides(load_config(config_path), plans=plans, **flags)
    mismatch = format_mismatch(config.output)
    if warn and mismatch is not None:
        click.echo(f"billdrift: warning: {mismatch}", err=True)
    return config


def _run_monitored(config: Config, when: datetime, strict: bool, also: AlsoOutputs = ()) -> int:
    """One monitored check presented on the terminal: report, then deliveries."""

    def publish(report: Report, history: Sequence[RunPoint] | None) -> None:
        emit(report, config, history, also=also)

    outcome = monitored_check(config, when, publish, strict, progress_for_terminal())
    keep_until_exit(outcome)  # freed with the process: see billdrift.infra.runtime
    for delivery in outcome.deliveries:
        status = "sent" if delivery.ok else f"FAILED ({delivery.error})"
        click.echo(f"billdrift: alert via {delivery.sink}: {status}", err=True)
    if outcome.history_error is not None:
        click.echo(f"billdrift: error: could not record the run: {outcome.history_error}", err=True)
    return outcome.exit_code


def run_check_command(
    config_path: str | None,
    as_of: str | None,
    strict: bool,
    debug: bool,
    also_output: tuple[str, ...],
    engine: str | None,
    explain: bool,
    flags: dict[str, Any],
) -> None:
    """``billdrift check``: see :func:`billdrift.cli.check.check`."""
    config = Config()
    when = datetime.now(UTC).replace(microsecond=0)
    also: AlsoOutputs = ()

    def body() -> int:
        nonlocal config, when, also
        # The flags alone first: a config file that fails to load still gets its error
        # written as --format and --output ask (an ERROR document, not nothing).
        with contextlib.suppress(BilldriftError):
            config = _configured(None, dict(flags), warn=False)
        also = parse_also_outputs(also_output)
        config = _configured(config_file(config_path), flags)
        if engine is not None:
            config = config.model_copy(
                update={"engine": config.engine.model_copy(update={"target": engine})}
            )
        when = as_of_instant(as_of)
        if explain:
            return _explain(config, when)
        return _run_monitored(config, when, strict, also)

    run_command(body, debug, lambda message: emit_error(message, config, when, also))


def _explain(config: Config, when: datetime) -> int:
    """Print the SQL a pushed-down check would run, without running it."""
    if config.engine.target == "in-process":
        raise ConfigError(
            "--explain shows the SQL run inside a database: add --engine postgres, "
            '--engine spark or a warehouse (or [engine] target = "postgres")'
        )
    from billdrift.usecases.pushdown import explain_pushdown

    click.echo(explain_pushdown(config, when), nl=False)
    return 0


#: What the demo tells a new user to run on their own data (printed to stderr last).
_NEXT_STEPS = """\
Next, on your own data:
  billdrift init --app users.csv --billing subscriptions.json  # or --app env:DATABASE_URL
  billdrift doctor                                              # is the setup sound?
  billdrift check                                               # 0 in sync, 1 drift, 2 error"""


def run_demo(debug: bool, flags: dict[str, Any]) -> None:
    """``billdrift demo``: see :func:`billdrift.cli.check.demo`."""
    paths = demo_paths()
    config = Config()

    def body() -> int:
        nonlocal config
        config = _configured(
            str(paths.config), {**flags, "billing": [str(paths.billing)], "app": str(paths.app)}
        )
        report = run_check(config, DEMO_AS_OF)
        emit(report, config)
        click.echo(
            f"billdrift demo: {report.verdict.value} (`billdrift check` would exit "
            f"{report.exit_code}). Data: {paths.directory}",
            err=True,
        )
        click.echo(_NEXT_STEPS, err=True)
        return 0 if report.verdict is not Verdict.ERROR else EXIT_ERROR

    run_command(body, debug, lambda message: emit_error(message, config, DEMO_AS_OF))


def run_watch(
    every: str,
    config_path: str | None,
    max_runs: int | None,
    strict: bool,
    debug: bool,
    flags: dict[str, Any],
) -> None:
    """``billdrift watch``: see :func:`billdrift.cli.check.watch`."""
    from billdrift.usecases.schedule.every import parse_every
    from billdrift.usecases.schedule.watch import Watch

    def body() -> int:
        seconds = parse_every(every)
        config = _configured(config_file(config_path), flags)

        def run_once() -> int:
            when = datetime.now(UTC).replace(microsecond=0)
            return attempt(  # one failed run must not end the watch
                lambda: _run_monitored(config, when, strict),
                debug,
                lambda message: emit_error(message, config, when),
            )

        def report(code: int, took: float) -> None:
            click.echo(f"billdrift watch: run finished, exit code {code}, {took:.1f} s", err=True)

        return Watch(run_once, seconds, report, max_runs).loop()

    run_command(body, debug)
