"""Command line: argument parsing, reading sources, writing output, exit codes.

Nothing else in the package prints or exits. Exit codes (a contract, see the
README): 0 pass (or findings below --fail-on), 1 drift at or above --fail-on,
2 any error (configuration, unreadable input, partial data), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from billdrift import __version__
from billdrift.cli.progress import progress_for_terminal
from billdrift.config import Config, load_config
from billdrift.core.engine import Inputs, reconcile
from billdrift.core.instants import parse_instant
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.errors import EXIT_ERROR, BilldriftError, ConfigError
from billdrift.infra.runtime import collector_paused
from billdrift.outputs.mask import mask_report
from billdrift.outputs.render import RENDERERS, render_bytes
from billdrift.sources.registry import read_sources
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths

EXIT_INTERRUPTED = 130


def parse_as_of(text: str | None) -> datetime:
    """ISO-8601 instant; a date means midnight UTC; no zone means UTC."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    return parse_instant(
        text,
        "--as-of",
        "an ISO-8601 date or instant such as 2026-11-22 or 2026-11-22T09:30:00Z",
    )


def parse_plans(pairs: Sequence[str]) -> dict[str, str]:
    plans = {}
    for pair in pairs:
        key, sep, plan = pair.partition("=")
        if not sep or not key.strip() or not plan.strip():
            raise ConfigError(f"--plan: expected PRICE_OR_LOOKUP_KEY=PLAN; got {pair!r}")
        plans[key.strip()] = plan.strip()
    return plans


def apply_flags(config: Config, flags: dict[str, Any]) -> Config:
    """Flags win over the config file; unset flags leave it alone."""
    policy = config.policy
    if flags.get("grace_days") is not None:
        policy = policy.model_copy(update={"grace_days": flags["grace_days"]})
    app = config.app
    if flags.get("app"):
        app = app.model_copy(update={"source": flags["app"]})
    if flags.get("app_table"):
        app = app.model_copy(update={"table": flags["app_table"]})
    billing = config.billing
    if flags.get("billing"):
        billing = billing.model_copy(update={"sources": tuple(flags["billing"])})
    output = config.output
    for key in ("format", "output", "fail_on"):
        if flags.get(key) is not None:
            output = output.model_copy(update={key: flags[key]})
    if flags.get("mask"):
        output = output.model_copy(update={"mask": True})
    plans = {**config.plans, **parse_plans(flags.get("plan") or ())}
    history = config.history
    if flags.get("history"):
        history = history.model_copy(update={"location": flags["history"]})
    alerts = config.alerts
    if flags.get("alert_on"):
        alerts = {**alerts, "alert_on": flags["alert_on"]}
    return config.model_copy(
        update={
            "policy": policy,
            "app": app,
            "billing": billing,
            "output": output,
            "plans": plans,
            "history": history,
            "alerts": alerts,
        }
    )


def run_check(config: Config, as_of: datetime, strict: bool = False) -> Report:
    """Read both sides and reconcile. Raises BilldriftError on any source failure."""
    if not config.billing.sources:
        raise ConfigError("no billing input: pass --billing FILE (or set billing.sources)")
    if not config.app.source:
        raise ConfigError("no app input: pass --app FILE_OR_URL (or set app.source)")
    billing, app = read_sources(
        config.billing.sources,
        config.app.source,
        config.billing,
        config.app,
        progress_for_terminal(),
    )
    report = reconcile(Inputs(billing=billing, app=app, config=config, as_of=as_of))
    if strict and report.skips and report.verdict is not Verdict.ERROR:
        report = replace(
            report,
            verdict=Verdict.ERROR,
            errors=(f"{len(report.skips)} rows could not be read and --strict is set",),
        )
    return report


def monitored_check(config: Config, as_of: datetime, strict: bool = False) -> int:
    """One check with what recurring runs need: the run recorded in the history
    store, the report written, then alerts for what is new. Returns the exit code.

    The cyclic garbage collector is paused for the check: its objects (findings,
    evidence, rows) hold no cycles, yet tens of thousands of them trigger full
    collections that free nothing. A `watch` loop collects between runs.
    """
    with collector_paused():
        return _monitored_check(config, as_of, strict)


def _monitored_check(config: Config, as_of: datetime, strict: bool) -> int:
    if not config.history.location and not config.alerts:
        return emit(run_check(config, as_of, strict), config)
    from billdrift.usecases import monitor  # here: plain checks do not import history and alerts

    alerting = monitor.prepare_alerts(config)
    started = datetime.now(UTC)
    report = run_check(config, as_of, strict)
    lifecycle = None
    history: tuple[Any, ...] | None = None
    history_error: BilldriftError | None = None
    if config.history.location:
        try:
            recorded = monitor.record(config, report, started, datetime.now(UTC))
            report, lifecycle, history = recorded.report, recorded.lifecycle, recorded.history
        except BilldriftError as error:  # still write the report, then exit 2
            history_error = error
    code = emit(report, config, history)
    for delivery in monitor.alert(alerting, report, lifecycle, config.output.output):
        status = "sent" if delivery.ok else f"FAILED ({delivery.error})"
        click.echo(f"billdrift: alert via {delivery.sink}: {status}", err=True)
    if history_error is not None:
        click.echo(f"billdrift: error: could not record the run: {history_error}", err=True)
        return EXIT_ERROR
    return code


def error_report(message: str, config: Config, as_of: datetime) -> Report:
    return Report(verdict=Verdict.ERROR, as_of=as_of, fail_on=config.fail_on, errors=(message,))


def write_output(document: bytes, output: str | None) -> None:
    """stdout, or the file replaced atomically once the whole report exists."""
    if output is None:
        click.echo(document, nl=False)
        return
    target = Path(output)
    try:
        with tempfile.NamedTemporaryFile(
            "wb", dir=target.parent or ".", delete=False, suffix=".tmp"
        ) as handle:
            handle.write(document)
        os.replace(handle.name, target)
    except OSError as error:
        raise BilldriftError(f"cannot write --output {output}: {error.strerror}") from None


def emit(report: Report, config: Config, history: Sequence[Any] | None = None) -> int:
    shown = mask_report(report) if config.output.mask else report
    document = render_bytes(config.output.format, shown, history=history)
    write_output(document, config.output.output)
    if config.output.output is not None or config.output.format != "text":
        counts = ", ".join(f"{n} {kind}" for kind, n in report.by_kind.items()) or "no findings"
        click.echo(f"billdrift: {report.verdict.value}: {counts}", err=True)
    return report.exit_code


def _fail(error: BaseException, config: Config, as_of: datetime, debug: bool) -> int:
    """Turn any failure into exit code 2 with a message; never exit 1 on an error."""
    if isinstance(error, BilldriftError):
        message = str(error)
    else:
        message = f"internal error: {type(error).__name__}: {error} (rerun with --debug)"
    click.echo(f"billdrift: error: {message}", err=True)
    if debug:
        traceback.print_exception(error, file=sys.stderr)
    if config.output.format != "text":
        with contextlib.suppress(BilldriftError):  # the message above already went out
            emit(error_report(message, config, as_of), config)
    return EXIT_ERROR


_FORMATS = click.Choice(sorted(RENDERERS))
_SEVERITIES = click.Choice(["high", "medium", "low"])


def _output_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--format", "format", type=_FORMATS, help="Output format [text]."),
            click.option("--output", "output", help="Write the report here (once complete)."),
            click.option("--mask", is_flag=True, help="Mask emails and ids in the report."),
            click.option("--debug", is_flag=True, help="Show tracebacks for errors."),
        ]
    ):
        func = option(func)
    return func


class _Commands(click.Group):
    """Groups that live in their own modules load when used, so `check` (the hot
    path) never imports the history store or the schedule writers."""

    LAZY = {
        "review": ("billdrift.cli.review", "review"),
        "schedule": ("billdrift.cli.schedule", "schedule"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            module, name = self.LAZY[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), name)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="billdrift")
def main() -> None:
    """Reconcile what your billing provider says with the access your app grants."""


@main.command()
@click.option(
    "--billing",
    "billing",
    multiple=True,
    metavar="FILE",
    help="Billing export: Stripe JSON/JSONL, Stripe-style CSV or Paddle JSON "
    "(auto-detected; KIND:FILE to force). Repeatable.",
)
@click.option("--app", "app", metavar="FILE_OR_URL", help="App accounts: CSV file or SQLite.")
@click.option("--app-table", "app_table", metavar="NAME", help="Table to read from a database.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML config.")
@click.option("--as-of", "as_of", metavar="ISO8601", help="Evaluate at this instant [now].")
@click.option("--grace-days", "grace_days", type=click.IntRange(min=0), help="Dunning grace [7].")
@click.option(
    "--plan",
    "plan",
    multiple=True,
    metavar="PRICE_OR_LOOKUP_KEY=PLAN",
    help="Map a price id, lookup key or product to an app plan. Repeatable.",
)
@click.option("--fail-on", "fail_on", type=_SEVERITIES, help="Exit 1 at this severity [high].")
@click.option("--strict", is_flag=True, help="Any unreadable row is an error (exit 2).")
@click.option(
    "--history",
    "history",
    metavar="PATH_OR_URL",
    help="Record the run in this history store (SQLite file or postgresql:// URL) and "
    "tell new, ongoing, reopened and resolved findings apart.",
)
@click.option(
    "--alert-on",
    "alert_on",
    type=click.Choice(["urgent", "new", "all", "never"]),
    help="What the configured alert sinks are sent [new].",
)
@_output_options
def check(
    config_path: str | None, as_of: str | None, strict: bool, debug: bool, **flags: Any
) -> None:
    """Compare billing data with app access and report drift."""
    config = Config()
    when = datetime.now(UTC).replace(microsecond=0)
    try:
        config = apply_flags(load_config(config_path), flags)
        when = parse_as_of(as_of)
        code = monitored_check(config, when, strict)
    except KeyboardInterrupt:
        click.echo("billdrift: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as error:  # every failure must exit 2, never 1
        code = _fail(error, config, when, debug)
    sys.exit(code)


@main.command()
@_output_options
def demo(debug: bool, **flags: Any) -> None:
    """Run a check on bundled sample data (no credentials, no network).

    The sample shows every kind of finding. Exits 0 once the report is shown;
    a real `check` on the same data would exit 1.
    """
    paths = demo_paths()
    config = Config()
    try:
        config = apply_flags(
            load_config(paths.config),
            {**flags, "billing": [str(paths.billing)], "app": str(paths.app)},
        )
        report = run_check(config, DEMO_AS_OF)
        emit(report, config)
        click.echo(
            f"billdrift demo: {report.verdict.value} (`billdrift check` would exit "
            f"{report.exit_code}). Data: {paths.directory}",
            err=True,
        )
        code = 0 if report.verdict is not Verdict.ERROR else EXIT_ERROR
    except Exception as error:
        code = _fail(error, config, DEMO_AS_OF, debug)
    sys.exit(code)


@main.command()
@click.option("--every", "every", required=True, metavar="DURATION", help="30m, 1h, 1d...")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML config.")
@click.option("--history", "history", metavar="PATH_OR_URL", help="History store.")
@click.option(
    "--alert-on", "alert_on", type=click.Choice(["urgent", "new", "all", "never"]), help="[new]"
)
@click.option("--max-runs", "max_runs", type=click.IntRange(min=1), hidden=True)
@_output_options
def watch(
    every: str, config_path: str | None, max_runs: int | None, debug: bool, **flags: Any
) -> None:
    """Run the check now and then every DURATION, in the foreground, until stopped.

    Runs never overlap; SIGTERM or Ctrl-C lets a run in progress finish and be
    recorded, then exits 0. Each run's outcome goes to stderr.
    """
    from billdrift.usecases.schedule.every import parse_every
    from billdrift.usecases.schedule.watch import Watch

    config = Config()
    try:
        seconds = parse_every(every)
        config = apply_flags(load_config(config_path), flags)
    except BilldriftError as error:
        click.echo(f"billdrift: error: {error}", err=True)
        sys.exit(EXIT_ERROR)

    def run_once() -> int:
        when = datetime.now(UTC).replace(microsecond=0)
        try:
            return monitored_check(config, when)
        except Exception as error:  # one failed run must not end the watch
            return _fail(error, config, when, debug)

    def report(code: int, took: float) -> None:
        click.echo(f"billdrift watch: run finished, exit code {code}, {took:.1f} s", err=True)

    sys.exit(Watch(run_once, seconds, report, max_runs).loop())


def write_new_file(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path`: atomically replaced with `force`, else only if it is new."""
    try:
        if force:
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
            ) as handle:
                handle.write(text)
            os.replace(handle.name, path)
        else:
            with path.open("x", encoding="utf-8") as new:
                new.write(text)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it") from None
    except OSError as error:
        raise BilldriftError(f"cannot write {path}: {error.strerror}") from None


@main.command()
@click.option(
    "--app",
    "app",
    required=True,
    metavar="FILE_OR_URL",
    help="App accounts: CSV file, SQLite file, database URL or env:NAME.",
)
@click.option("--app-table", "app_table", metavar="NAME", help="Use this table (else detected).")
@click.option(
    "--billing", "billing", multiple=True, metavar="FILE", help="Billing export(s) to list."
)
@click.option(
    "--output",
    "output",
    default="billdrift.toml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Config file to write.",
)
@click.option("--force", is_flag=True, help="Overwrite the config file if it exists.")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def init(
    app: str,
    app_table: str | None,
    billing: tuple[str, ...],
    output: str,
    force: bool,
    debug: bool,
) -> None:
    """Inspect the app's data and write a config file to edit.

    Finds the accounts table and what each column means, says what it could
    not find, and writes every setting explicitly. Database passwords are
    never written: use env:NAME.
    """
    # Imported here, not at the top: `check` is the hot path and must not pay for them.
    from billdrift.onboarding.init import plan_init
    from billdrift.onboarding.secrets import scrub_urls
    from billdrift.onboarding.summary import init_summary

    target = Path(output)
    try:
        if target.exists() and not force:
            raise ConfigError(f"{output} already exists; pass --force to overwrite it")
        result = plan_init(app, app_table, billing)
        write_new_file(target, result.text, force)
        click.echo(init_summary(result, output), nl=False)
        code = 0
    except KeyboardInterrupt:
        click.echo("billdrift: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as error:
        message = (
            str(error)
            if isinstance(error, BilldriftError)
            else (f"internal error: {type(error).__name__}: {error} (rerun with --debug)")
        )
        click.echo(f"billdrift: error: {scrub_urls(message)}", err=True)
        if debug:
            traceback.print_exception(error, file=sys.stderr)
        code = EXIT_ERROR
    sys.exit(code)


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="TOML config.")
@click.option("--app", "app", metavar="FILE_OR_URL", help="App accounts (overrides app.source).")
@click.option("--app-table", "app_table", metavar="NAME", help="Table to read from a database.")
@click.option(
    "--billing", "billing", multiple=True, metavar="FILE", help="Billing export. Repeatable."
)
@click.option(
    "--format",
    "format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def doctor(
    config_path: str | None,
    app: str | None,
    app_table: str | None,
    billing: tuple[str, ...],
    format: str,
    debug: bool,
) -> None:
    """Check a set-up: config, environment, connectivity, tables, columns, rows, privileges.

    Every warning and failure comes with a fix. Exits 0 when all is ok, 1 on
    warnings only, 2 on any failure. Secrets are never shown.
    """
    from billdrift.onboarding.doctor import render as render_doctor
    from billdrift.onboarding.doctor import run_doctor
    from billdrift.onboarding.secrets import scrub_urls

    try:
        report = run_doctor(config_path, app, app_table, billing)
        click.echo(render_doctor(report, format), nl=False)
        code = report.exit_code
    except KeyboardInterrupt:
        click.echo("billdrift: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as error:  # run_doctor turns expected failures into checks
        click.echo(
            f"billdrift: error: internal error: {type(error).__name__}: "
            f"{scrub_urls(str(error))} (rerun with --debug)",
            err=True,
        )
        if debug:
            traceback.print_exception(error, file=sys.stderr)
        code = EXIT_ERROR
    sys.exit(code)
