"""A targeted check: the same rules as ``check``, on a few customers' slice of both sides.

What webhooks trigger (``billdrift listen``): an event names a customer and
nothing more is believed from it. Fetched fresh: each customer's subscriptions
from the provider's API (every status; one API walk per customer); read: only the
app accounts linked to those customers, their subscriptions or their emails (ONE
parameterized query for the whole batch, never a table scan, never a write). The
rules run once on that slice, the run is recorded in the history once, as a
targeted run naming its customers whose resolution step touches only their
findings, and the configured alert sinks hear about new (or reopened) drift.

Why batches: the customers whose events waited out the same coalescing window are
checked together, so the per-check costs (the reconcile's set-up, the app query,
the history write) are paid once per batch instead of once per customer; that
is what bounded the listener's checks per second. A customer whose API walk fails
is left out of the batch (and retried later) without failing the others.

One :class:`TargetedChecker` serves every check of a listener: its API clients
(and so their pacers) are shared by all checks, so the provider's rate limits are
kept however many customers are checked at once, and its
:class:`~billdrift.sources.app.kept.SliceReader` keeps the app database
connections and their introspected plan from one check to the next.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from billdrift.config import Config
from billdrift.core.report import Report
from billdrift.errors import BilldriftError, ConfigError
from billdrift.history.lifecycle import Lifecycle, Scope
from billdrift.outputs.alerts.interface import Delivery
from billdrift.sources.app.interface import Slice
from billdrift.sources.app.kept import SliceReader
from billdrift.sources.billing.customer_fetch import CustomerBilling, CustomerFetcher
from billdrift.sources.billing.webhook_events import PROVIDERS, Provider
from billdrift.sources.registry import open_app
from billdrift.usecases.alerting import Alerting, alert, prepare_alerts
from billdrift.usecases.check import check_read
from billdrift.usecases.recording import record

#: Customers named in a targeted run's note before "and N more".
NAMED_IN_NOTE = 10


@dataclass(frozen=True)
class TargetedOutcome:
    """One targeted run: the customers it covered, its report, what it recorded and sent."""

    provider: Provider
    customers: tuple[str, ...]
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


@dataclass(frozen=True)
class BatchResult:
    """A batch's run (None when no customer could be fetched) and the customers whose
    API walk failed (left out of the run, to be retried)."""

    outcome: TargetedOutcome | None
    failed: Mapping[str, BilldriftError]

    def result_for(self, customer: str) -> TargetedOutcome | BilldriftError:
        failure = self.failed.get(customer)
        if failure is not None or self.outcome is None:
            return failure or ConfigError(f"{customer} was not checked")
        return self.outcome


class TargetedChecker:
    """Runs targeted checks for the providers whose API keys are configured."""

    def __init__(
        self,
        config: Config,
        providers: tuple[Provider, ...] = PROVIDERS,
        fetch_threads: int = 4,
    ) -> None:
        if not config.app.source:
            raise ConfigError("no app input: pass --app DATABASE_URL (or set app.source)")
        self.config = config
        self.alerting: Alerting = prepare_alerts(config)
        self.fetchers = {
            provider: CustomerFetcher(provider, config.billing) for provider in providers
        }
        self.slices = SliceReader(str(config.app.source), config.app, open_app)
        self._fetching = ThreadPoolExecutor(fetch_threads, thread_name_prefix="fetch")
        self._record_lock = threading.Lock()

    def close(self) -> None:
        self._fetching.shutdown(wait=True, cancel_futures=True)
        for fetcher in self.fetchers.values():
            fetcher.close()
        self.slices.close()

    def check(self, provider: Provider, customers: Sequence[str]) -> BatchResult:
        """Fetch, read, judge, record and alert for `customers`, in one run.
        BilldriftError when the app side cannot be read (nothing is recorded then)."""
        fetcher = self.fetchers.get(provider)
        if fetcher is None:
            raise ConfigError(f"no {provider} API key configured for the listener")
        started = datetime.now(UTC)
        fetched: dict[str, CustomerBilling] = {}
        failed: dict[str, BilldriftError] = {}

        def fetch(customer: str) -> tuple[str, CustomerBilling | BilldriftError]:
            try:
                return customer, fetcher.fetch(customer)
            except BilldriftError as error:
                return customer, error

        for customer, got in self._fetching.map(fetch, customers):
            if isinstance(got, BilldriftError):
                failed[customer] = got
            else:
                fetched[customer] = got
        if not fetched:
            return BatchResult(None, failed)
        return BatchResult(self._judge(provider, fetched, started), failed)

    def _judge(
        self, provider: Provider, fetched: Mapping[str, CustomerBilling], started: datetime
    ) -> TargetedOutcome:
        subscriptions = [
            str(s)
            for billing in fetched.values()
            for s in billing.data.subscriptions.column("subscription_id").to_pylist()
        ]
        wanted = Slice(
            customers=tuple(fetched),
            subscriptions=tuple(subscriptions),
            emails=tuple(billing.email for billing in fetched.values() if billing.email),
        )
        app = self.slices.read(wanted)
        as_of = started.replace(microsecond=0)
        billing = [billing.data for billing in fetched.values()]
        report = check_read(self.config, billing, app, as_of, targeted=True)
        report = replace(report, notes=(*report.notes, _note(provider, tuple(fetched))))
        accounts = frozenset(str(a) for a in app.accounts.column("account_id").to_pylist())
        scope = Scope(customers=frozenset(fetched), accounts=accounts)
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
            provider, tuple(fetched), report, lifecycle, tuple(deliveries), history_error
        )


def _note(provider: Provider, customers: tuple[str, ...]) -> str:
    named = ", ".join(customers[:NAMED_IN_NOTE])
    more = len(customers) - NAMED_IN_NOTE
    plural = "customer" if len(customers) == 1 else f"{len(customers)} customers:"
    return f"targeted run: {provider} {plural} {named}" + (f" and {more} more" if more > 0 else "")
