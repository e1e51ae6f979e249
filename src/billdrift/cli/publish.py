"""Presenting a report: render it, write it to stdout or ``--output``, say the verdict.

Data goes to stdout (or the file); the one-line summary goes to stderr, so a JSON
report piped to another program stays clean. A file is written only once the
whole report exists, through :func:`billdrift.infra.files.write_file`: a regular
file is replaced atomically (a failed run never leaves a truncated one), a device
or FIFO is written to, never replaced.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click

from billdrift.config import Config
from billdrift.core.model import Verdict
from billdrift.core.report import Report
from billdrift.errors import BilldriftError, ConfigError
from billdrift.infra.files import write_file
from billdrift.outputs.mask import mask_report
from billdrift.outputs.render import render_bytes
from billdrift.outputs.render.history_points import RunPoint


def write_output(document: bytes, output: str | None) -> None:
    """stdout, or the file replaced atomically once the whole report exists."""
    if output is None:
        click.echo(document, nl=False)
        return
    try:
        write_file(output, document)
    except OSError as error:
        raise BilldriftError(f"cannot write --output {output}: {error.strerror}") from None


def write_new_file(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path`: atomically replaced with `force`, else only if it is new."""
    try:
        if force:
            write_file(path, text.encode("utf-8"))
        else:
            with path.open("x", encoding="utf-8") as new:
                new.write(text)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it") from None
    except OSError as error:
        raise BilldriftError(f"cannot write {path}: {error.strerror}") from None


#: ``--also-output FORMAT=FILE`` pairs: the same report in more formats, from one run.
AlsoOutputs = Sequence[tuple[str, str]]


def emit(
    report: Report,
    config: Config,
    history: Sequence[RunPoint] | None = None,
    announce: bool = True,
    also: AlsoOutputs = (),
) -> int:
    """Render and write `report` as configured, then in each of the `also` formats to
    its file (one check, one history record, several documents: the GitHub Action keeps
    JSON, markdown and HTML); with `announce`, the verdict line (and for an ERROR, the
    reasons) goes to stderr."""
    shown = mask_report(report) if config.output.mask else report
    document = render_bytes(config.output.format, shown, history=history)
    write_output(document, config.output.output)
    for extra_format, path in also:
        write_output(render_bytes(extra_format, shown, history=history), path)
    if announce and report.verdict is Verdict.ERROR:  # why, wherever the report went
        click.echo(f"billdrift: ERROR: {'; '.join(report.errors) or 'see the report'}", err=True)
    elif announce and (config.output.output is not None or config.output.format != "text"):
        counts = ", ".join(f"{n} {kind}" for kind, n in report.by_kind.items()) or "no findings"
        click.echo(f"billdrift: {report.verdict.value}: {counts}", err=True)
    return report.exit_code


def emit_error(message: str, config: Config, as_of: datetime, also: AlsoOutputs = ()) -> None:
    """An ERROR report carrying `message`, wherever a report was asked for: a file
    (whatever its format: it must never keep showing the last good run as if it were
    this one; `also` files too) or a machine-readable stdout. Text on a terminal has had
    the message on stderr already."""
    if config.output.output is not None or config.output.format != "text" or also:
        report = Report(
            verdict=Verdict.ERROR, as_of=as_of, fail_on=config.fail_on, errors=(message,)
        )
        emit(report, config, announce=False, also=also)  # the message is on stderr already
