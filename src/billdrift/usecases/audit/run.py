"""Running an audit with progress a person can watch: which step, since when, how many rows.

File sources read a million rows without reporting counts as they go (Arrow and
DuckDB read in bulk), so a run reports its steps instead: reading (with every
file and its size), comparing (with the rows each side held), done. Provider
APIs, which do count as they page, forward their counts through the same
callback. The run is ``check``'s own, step for step (the registry reads every
source in threads, the engine reconciles); it is split here only to say when
reading ends and comparing begins.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from billdrift.config import Config
from billdrift.core.engine import Inputs, reconcile
from billdrift.core.policy import from_config
from billdrift.core.report import Report
from billdrift.infra.runtime import collector_paused
from billdrift.sources.registry import read_sources
from billdrift.usecases.audit.choice import audit_config
from billdrift.usecases.audit.recognize import Recognition


@dataclass(frozen=True)
class Step:
    """One step of a run, as a progress display shows it."""

    #: ``reading``, ``comparing`` or ``done``.
    phase: str
    message: str
    #: Seconds since the run started.
    elapsed: float
    #: Rows read so far, by what they are ("accounts", "subscriptions"...).
    counts: dict[str, int] = field(default_factory=dict)


OnStep = Callable[[Step], None]


class _Forward:
    """Sources' :class:`~billdrift.sources.progress.Progress`, as steps."""

    def __init__(self, started: float, on_step: OnStep) -> None:
        self._started = started
        self._on_step = on_step

    def update(self, what: str, done: int, requests: int) -> None:
        elapsed = time.monotonic() - self._started
        message = f"reading {what}: {done:,} so far ({requests:,} requests)"
        self._on_step(Step("reading", message, elapsed, {what: done}))

    def close(self) -> None:
        pass


def run_audit(
    recognition: Recognition,
    as_of: datetime,
    on_step: OnStep = lambda step: None,
    base: Config | None = None,
) -> Report:
    """Reconcile the recognized files at `as_of` with the confirmed mapping.

    Raises ConfigError when the recognition is not ready and BilldriftError when
    a file cannot be read; everything else is in the Report.
    """
    config = audit_config(recognition, base)
    started = time.monotonic()

    def step(phase: str, message: str, counts: dict[str, int] | None = None) -> None:
        on_step(Step(phase, message, time.monotonic() - started, counts or {}))

    files = [(f.name, f.size) for f in recognition.billing] + [
        (recognition.app.name, recognition.app.size)
    ]
    step("reading", "reading " + ", ".join(f"{name} ({_size(size)})" for name, size in files))
    with collector_paused():  # see billdrift.infra.runtime
        billing, app = read_sources(
            config.billing.sources,
            str(config.app.source),
            config.billing,
            config.app,
            _Forward(started, on_step),
        )
        counts = {
            "subscriptions": sum(data.subscriptions.num_rows for data in billing),
            "accounts": app.accounts.num_rows,
        }
        step(
            "comparing",
            f"comparing {counts['accounts']:,} accounts with "
            f"{counts['subscriptions']:,} subscriptions",
            counts,
        )
        report = reconcile(
            Inputs(billing=billing, app=app, policy=from_config(config), as_of=as_of)
        )
    step("done", f"{report.verdict.value}: {len(report.findings):,} findings", counts)
    return report


def _size(size: int) -> str:
    """``12.3 MB``: decimal units, as file managers show them."""
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1000
    return f"{size} bytes"
