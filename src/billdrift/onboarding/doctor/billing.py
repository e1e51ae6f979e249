"""Doctor, billing side: every billing input is reachable, recognized and has rows.

Each input is opened the way ``check`` opens it (``KIND:PATH``, a file whose
format is sniffed, or a database URL), then read for its row count and skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from billdrift.config import Config
from billdrift.core.model import Skip
from billdrift.errors import BilldriftError
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Timeouts, bounded
from billdrift.infra.db.urls import is_database_url, resolve
from billdrift.onboarding.doctor.report import Collector, fail, ok
from billdrift.onboarding.doctor.rows import read_rows
from billdrift.onboarding.doctor.wording import url_fix
from billdrift.onboarding.secrets import shown
from billdrift.sources.registry import billing_kinds, open_billing

MIRROR_SETTING = "billing.mirror_timeout_seconds"


def billing_checks(run: Collector, config: Config, sources: Sequence[str]) -> None:
    if not sources:
        run.add(
            fail(
                "billing source",
                "no billing input",
                "pass --billing FILE, or set billing.sources in the config file",
            )
        )
        return
    for spec in sources:
        _billing_one(run, spec, config)


def without_kind(spec: str) -> str:
    """``PATH`` or ``URL`` from ``KIND:PATH`` / ``KIND:URL``."""
    kind, sep, rest = spec.partition(":")
    return rest if sep and kind in billing_kinds() else spec


def _billing_one(run: Collector, spec: str, config: Config) -> None:
    target = without_kind(spec)
    database = is_database_url(target)
    label = shown(target) if database else Path(target).name
    name = f"billing source {label}"
    where = spec
    if database:
        try:
            url = resolve(target)
            run.urls.append(url)
            limits = Timeouts(config.billing.mirror_timeout_seconds, MIRROR_SETTING)
            with bounded(url.shown, limits) as deadline, connect(url, deadline) as conn:
                where = f"connected to {url.shown} ({conn.server_version()})"
        except BilldriftError as error:
            run.add(fail(name, str(error), url_fix(str(error), target)))
            return
    try:
        source = open_billing(spec, config.billing)
    except BilldriftError as error:
        message = str(error)
        if "cannot tell what" in message:
            fix = f"name the format as KIND:PATH, KIND one of {', '.join(billing_kinds())}"
        elif "empty" in message:
            fix = "export the subscriptions again"
        else:
            fix = "check the path given in billing.sources / --billing"
        run.add(fail(name, message, fix))
        return
    run.add(ok(name, f"{source.kind}: {where}"))

    def counts() -> tuple[int, tuple[Skip, ...]]:
        data = source.read()
        run.billing.append(data.subscriptions)
        return data.subscriptions.num_rows, data.skips

    read_rows(run, f"billing rows {label}", counts, config.policy, "subscriptions")
