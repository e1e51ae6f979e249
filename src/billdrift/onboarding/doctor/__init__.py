"""``billdrift doctor``: is this set-up ready for ``billdrift check``, and if not, why?

Each check has a name, a status (``ok``, ``warn`` or ``fail``), a detail and,
for every warning or failure, a concrete fix. The checks follow the path a
``check`` run takes: the config file, the environment variables it names, the
app side (reachable, the table, the mapped columns and their types, the row
count, read-only) and every billing input (recognized, rows), then which rules
cannot run and why. A failure stops only the checks that depend on it, so one
run shows every independent problem. Nothing is written, and no secret is
shown: database URLs appear redacted, environment variables by name, and every
text is scrubbed once more before it leaves :func:`run_doctor`.

Exit codes follow ``check``: 0 all ok, 1 warnings only, 2 any failure.

The library part returns a :class:`DoctorReport` and never prints or exits.
This module runs the checks in order; each group lives in a module of its own,
in the modules of this package: the report and the run collecting it
(:mod:`.report`), the config file and environment (:mod:`.setup`),
the app side (:mod:`.app`, :mod:`.app_table`,
:mod:`.column_types`), the billing side (:mod:`.billing`), the rules the
set-up leaves blind (:mod:`.rules`), row
counts read by both sides (:mod:`.rows`), the fixes both sides word
alike (:mod:`.wording`) and the text or JSON form (:mod:`.render`).
"""

from __future__ import annotations

from collections.abc import Sequence

from billdrift.onboarding.doctor.app import app_checks
from billdrift.onboarding.doctor.billing import billing_checks
from billdrift.onboarding.doctor.column_types import type_kind
from billdrift.onboarding.doctor.render import render, render_json, render_text
from billdrift.onboarding.doctor.report import Check, Collector, DoctorReport, Status
from billdrift.onboarding.doctor.rules import rules_checks
from billdrift.onboarding.doctor.setup import config_checks, environment_checks

__all__ = [
    "Check",
    "DoctorReport",
    "Status",
    "render",
    "render_json",
    "render_text",
    "run_doctor",
    "type_kind",
]


def run_doctor(
    config_path: str | None = None,
    app: str | None = None,
    app_table: str | None = None,
    billing: Sequence[str] = (),
) -> DoctorReport:
    """Every check, in the order ``check`` would meet the problems."""
    run = Collector()
    config = config_checks(run, config_path)
    options = config.app
    if app:
        options = options.model_copy(update={"source": app})
    if app_table:
        options = options.model_copy(update={"table": app_table})
    sources = tuple(billing) or config.billing.sources
    run.guarded("environment", lambda: environment_checks(run, options, sources))
    run.guarded("app source", lambda: app_checks(run, options, config.policy))
    run.guarded("billing source", lambda: billing_checks(run, config, sources))
    run.guarded("rules", lambda: rules_checks(run, config))
    return run.report()
