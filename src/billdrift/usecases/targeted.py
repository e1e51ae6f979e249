"""A targeted check: the same rules as ``check``, on one customer's slice of both sides.

What a webhook triggers (``billdrift listen``): the event names a customer and
nothing more is believed from it. Fetched fresh: that customer's subscriptions
from the provider's API (every status); read: only the app accounts linked to
that customer, its subscriptions or its email (a parameterized query, never a
table scan, never a write). The rules run on that slice, the run is recorded in
the history as a targeted run whose resolution step touches only that customer's
findings, and the configured alert sinks hear about new (or reopened) drift.

One :class:`TargetedChecker` serves every check of a listener: its API clients
(and so their pacers) are shared by all checks, so the provider's rate limits are
kept however many customers are checked at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from billdrift.config import Config
from billdrift.core.report import Report
from billdrift.errors import BilldriftError, ConfigError
from billdrift.history.lifecycle import Lifecycle, Scope
from billdrift.outputs.alerts.interface import Delivery
from billdrift.sources.app.interface import Slice
from billdrift.sources.billing.customer_fetch import CustomerFetcher
from billdrift.sources.billing.webhook_events import PROVIDERS, Provider
from billdrift.sources.registry import open_app
from billdrift.usecases.alerting import Alerting, alert, prepare_alerts
from billdrift.usecases.check import check_read
from billdrift.usecases.recording import record


@dataclass(frozen=True)
class TargetedOutcome:
    provider: Provider
    customer: str
    report: Report
    lifecycle: Lifecycle | None
    deliveries: tuple[Delivery, ...]
    #: Set when the run could not be recorded (the report was still made).
    history_error: BilldriftError | None = None

    @property
    def new(self) -> int:
        """New and reopened findings: what was alerted on."""
        if self.lifecycle is None:
            return len(self.report.findings)
        return len(self.lifecycle.new) + len(self.lifecycle.reopened)


class TargetedChecker:
    """Runs targeted checks for the providers whose API keys are configured."""

    def __init__(self, config: Config, providers: tuple[Provider, ...] = PROVIDERS) -> None:
        if not config.app.source:
            raise ConfigError("no app input: pass --app DATABASE_URL (or set app.source)")
        self.config = config
        self.alerting: Alerting = prepare_alerts(config)
        self.fetchers = {
            provider: CustomerFetcher(provider, config.billing) for provider in providers
        }
        self._record_lock = threading.Lock()

    def close(self) -> None:
        for fetcher in self.fetchers.values():
            fetcher.close()

    def check(self, provider: Provider, customer: str) -> TargetedOutcome:
        """Fetch, read, judge, record and alert for one customer; BilldriftError when a
        side cannot be read (nothing is recorded then)."""
        fetcher = self.fetchers.get(provider)
        if fetcher is None:
            raise ConfigError(f"no {provider} API key configured for the listener")
        started = datetime.now(UTC)
        billing = fetcher.fetch(customer)
        subscriptions = billing.data.subscriptions
        wanted = Slice(
            customers=(customer,),
            subscriptions=tuple(
                str(s) for s in subscriptions.column("subscription_id").to_pylist()
            ),
            emails=(billing.email,) if billing.email else (),
        )
        source = open_app(str(self.config.app.source), self.config.app)
        source.only = wanted
        app = source.read()
        as_of = started.replace(microsecond=0)
        report = check_read(self.config, [billing.data], app, as_of, targeted=True)
        report = replace(
            report, notes=(*report.notes, f"targeted run: {provider} customer {customer}")
        )
        accounts = frozenset(str(a) for a in app.accounts.column("account_id").to_pylist())
        scope = Scope(customers=frozenset({customer}), accounts=accounts)
        lifecycle: Lifecycle | None = None
        history_error: BilldriftError | None = None
        if self.config.history.location:
            try:
                with self._record_lock:  # one writer at a time: no lock waits in the store
                    recorded = record(self.config, report, started, datetime.now(UTC), scope)
                report, lifecycle = recorded.report, recorded.lifecycle
            except BilldriftError as error:
                history_error = error
        deliveries = alert(self.alerting, report, lifecycle, None)
        return TargetedOutcome(
            provider, customer, report, lifecycle, tuple(deliveries), history_error
        )
