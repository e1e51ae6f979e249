"""``billdrift init``: look at the app's data, pick the accounts table, draft a config.

:func:`plan_init` connects (or opens the file), lists the tables, picks the
one that holds accounts (see :mod:`.accounts`), and returns what it found with
the config text (see :mod:`.toml_text`). Before returning it re-reads its own
text with :func:`billdrift.config.parse_config` and runs column detection with
it, so a file ``init`` hands out always loads and maps the columns exactly as
reported. Writing the file is the caller's job.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import pyarrow.compute as pc

from billdrift.config import AppConfig, BillingConfig, Policy, parse_config
from billdrift.errors import BilldriftError, ConfigError, SourceError
from billdrift.infra.config_file import relocate
from billdrift.infra.db.connect import connect
from billdrift.infra.db.deadline import Timeouts, bounded
from billdrift.infra.db.urls import is_database_url, resolve
from billdrift.onboarding.accounts import Candidate, candidate_for, no_fit_message, survey
from billdrift.onboarding.catalog import (
    Catalog,
    app_kind,
    csv_catalog,
    database_catalog,
    sqlite_catalog,
)
from billdrift.onboarding.plans import PlanProposal, propose_plans
from billdrift.onboarding.secrets import (
    APP_URL_VARIABLE,
    BILLING_URL_VARIABLE,
    SourceSetting,
    source_setting,
)
from billdrift.onboarding.toml_text import BillingInput, Draft, render_config
from billdrift.sources.app.columns import ROLES, ColumnMapping, detect_columns
from billdrift.sources.app.sqlite import open_sqlite
from billdrift.sources.registry import API_SOURCES, open_app, open_billing

#: What it means for `check` when a role has no column.
#: Seconds `init` gives the app database to list its tables and columns, connect
#: included: a catalog answers in seconds, and a person is waiting.
CATALOG_SECONDS: Final = 120.0

MISSING_MEANING = {
    "customer_id": "Accounts are matched to billing by email only (less certain than an "
    "id), and stale or duplicate customer links cannot be checked.",
    "subscription_id": "Accounts are matched by customer id, then by email.",
    "email": "Accounts without a customer id cannot be matched to billing, and "
    "policy.internal_email_patterns has nothing to match.",
    "plan": "Plan drift (the app's plan against the subscription's price) is not checked.",
    "role": "Internal accounts cannot be recognized by role (policy.internal_roles).",
    "access_fields": "No boolean access flag: the status column decides access "
    "(values in policy.app_granting_statuses grant it).",
    "status_fields": "No subscription-status column: the access flag alone decides "
    "access, with nothing to cross-check it against.",
}
_NO_LINK = (
    "There is no email column either, so no account can be matched to billing: every "
    "account that grants access would be reported as missing_billing_link."
)


@dataclass(frozen=True)
class InitResult:
    """What ``init`` found and the config text it drafted."""

    catalog: Catalog
    chosen: Candidate
    #: Other tables that fit, best first.
    others: tuple[Candidate, ...]
    app: SourceSetting
    billing: tuple[BillingInput, ...]
    #: (role, what its absence means), roles in report order.
    missing: tuple[tuple[str, str], ...]
    text: str

    @property
    def mapping(self) -> ColumnMapping:
        return self.chosen.mapping


def plan_init(
    app: str,
    app_table: str | None = None,
    billing: Sequence[str] = (),
    config_file: Path = Path("billdrift.toml"),
) -> InitResult:
    """Inspect `app`, choose the accounts table, check `billing`, draft the config
    that will be written to `config_file` (file paths are written relative to it,
    as the config loader reads them).

    Raises SourceError / ConfigError (with advice) when the app cannot be read,
    no table fits, `app_table` does not exist or a billing file is not recognized.
    """
    catalog = read_catalog(app)
    options = AppConfig()
    others: tuple[Candidate, ...] = ()
    if app_table:
        if catalog.kind == "csv":
            raise ConfigError("--app-table is for databases; a CSV file has no tables")
        chosen = candidate_for(catalog, catalog.find(app_table), options)
    else:
        fits, misfits = survey(catalog, options)
        if not fits:
            raise SourceError(no_fit_message(catalog, misfits))
        chosen, others = fits[0], tuple(fits[1:])
    setting = source_setting(app, APP_URL_VARIABLE)
    if setting.value is not None:
        setting = replace(setting, value=relocate(setting.value, config_file))
    inputs = tuple(billing_input(spec, config_file) for spec in billing)
    missing = missing_roles(chosen.mapping)
    origin = catalog.shown if not catalog.server else f"{catalog.shown}\n{catalog.server}"
    draft = Draft(origin, setting, chosen.name, chosen.mapping, others, inputs, missing)
    text = render_config(draft)
    _verify(text, catalog, chosen, setting)
    if chosen.mapping.plan is not None:
        app_options = parse_config(tomllib.loads(text), "the drafted config").app
        try:
            proposal = propose_from_data(app, app_options, billing)
        except BilldriftError:  # the rows are `check`'s and `doctor`'s to judge, not init's
            proposal = PlanProposal()
        if proposal.entries:
            text = render_config(replace(draft, plans=proposal))
            _verify(text, catalog, chosen, setting, proposal.active)
    return InitResult(catalog, chosen, others, setting, inputs, missing, text)


def read_catalog(app: str) -> Catalog:
    """The tables (or CSV header) of an app location."""
    kind = app_kind(app)
    if kind == "database":
        url = resolve(app)
        if url.dialect == "sqlite":  # env:NAME may hold a sqlite:/// URL
            return read_catalog(url.raw)
        limits = Timeouts(CATALOG_SECONDS, span="listing the tables and their columns")
        with bounded(url.shown, limits) as deadline, connect(url, deadline) as conn:
            return database_catalog(conn)
    if kind == "sqlite":
        path, con = open_sqlite(app)
        try:
            return sqlite_catalog(con, path.name)
        finally:
            con.close()
    return csv_catalog(app)


def billing_input(spec: str, config_file: Path = Path("billdrift.toml")) -> BillingInput:
    """A --billing input, its format recognized the way `check` will (URLs are not opened),
    written as `config_file` must say it."""
    setting = source_setting(spec, BILLING_URL_VARIABLE)
    if setting.value is not None:
        setting = replace(setting, value=relocate(setting.value, config_file))
    if is_database_url(spec):
        return BillingInput(setting)
    return BillingInput(setting, open_billing(spec, BillingConfig()).kind)


def missing_roles(mapping: ColumnMapping) -> tuple[tuple[str, str], ...]:
    """Every role without a column, and what that means for ``check``."""
    missing = []
    for role in ROLES:
        if mapping.role_column(role) is None:
            meaning = MISSING_MEANING.get(role, "")
            if role == "customer_id" and mapping.email is None:
                meaning = _NO_LINK
            missing.append((role, meaning))
    for key in ("access_fields", "status_fields"):
        if not getattr(mapping, key):
            missing.append((key, MISSING_MEANING[key]))
    return tuple(missing)


def propose_from_data(app: str, options: AppConfig, billing: Sequence[str]) -> PlanProposal:
    """[plans] from the app's distinct plan values and the billing files' plan names
    (lookup keys and plan nicknames). Provider APIs and database mirrors are not read
    here: ``init`` stays quick and offline; the file then keeps the commented example."""
    accounts = open_app(app, options.model_copy(update={"source": app})).read().accounts
    app_plans = [str(value) for value in pc.unique(accounts["plan"]).to_pylist() if value]
    keys: set[str] = set()
    for spec in billing:
        if is_database_url(spec) or spec in API_SOURCES:
            continue
        items = open_billing(spec, BillingConfig()).read().items
        for column in ("lookup_key", "plan_name"):
            keys.update(str(v) for v in pc.unique(items[column]).to_pylist() if v)
    return propose_plans(keys, app_plans, Policy().free_plans)


def _verify(
    text: str,
    catalog: Catalog,
    chosen: Candidate,
    setting: SourceSetting,
    plans: dict[str, str] | None = None,
) -> None:
    """The drafted file must load, map the chosen table exactly as detected and hold
    exactly the [plans] entries proposed as sure."""
    config = parse_config(tomllib.loads(text), "the drafted config")
    if config.plans != (plans or {}):
        raise RuntimeError(
            f"billdrift init drafted a [plans] map that reads back as {config.plans} "
            f"instead of {plans}; please report this"
        )
    columns = [column.name for column in chosen.table.columns]
    mapping = detect_columns(columns, config.app, f"table {chosen.name!r}")
    expected = replace(chosen.mapping, auto_detected=())
    if (
        mapping != expected
        or config.app.source != setting.value
        or (config.app.table or "") != chosen.name
    ):
        raise RuntimeError(
            f"billdrift init drafted a config that reads {catalog.shown} differently "
            f"({mapping.describe()} instead of {expected.describe()}); please report this"
        )
