"""Doctor: which of ``check``'s rules cannot run on this set-up, and why.

A set-up can be valid and still leave a rule blind: plan drift without a plan
column or a ``[plans]`` map, email matching without emails on one side, the
dunning grace window without any billing period date, stale or duplicate
customer links without a customer-id column. ``check`` then finds nothing
there, which reads as "all is well". Each blind rule is a warning with the fix
that gives it its input (a warning, not a failure: ``check`` still runs and
everything else it reports holds).

It judges what the earlier checks found (the app's column mapping and the
billing rows they read, kept on the :class:`Collector`), so nothing is read
twice; without a readable app side there is nothing to judge.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from billdrift.config import Config
from billdrift.onboarding.doctor.report import Collector, ok, warn
from billdrift.onboarding.doctor.wording import EXPORT_HINT


def rules_checks(run: Collector, config: Config) -> None:
    mapping = run.mapping
    if mapping is None:
        return
    blind = 0

    def blind_rule(name: str, detail: str, fix: str) -> None:
        nonlocal blind
        blind += 1
        run.add(warn(f"rule {name}", detail, fix))

    if mapping.plan is not None and not config.plans:
        blind_rule(
            "plan_drift",
            f"plan drift is not checked: the app has a plan column ({mapping.plan!r}) but "
            "the config has no [plans] map from billing prices to app plans",
            "add a [plans] section (`billdrift init --force` proposes one from your data)",
        )
    elif mapping.plan is None and config.plans:
        blind_rule(
            "plan_drift",
            "plan drift is not checked: the config has a [plans] map but the app has no "
            "plan column to compare with",
            "name the app's plan column as app.columns.plan",
        )
    if mapping.email is None:
        blind_rule(
            "email matching",
            "accounts cannot be matched to billing by email: the app has no email column "
            "(an account without a customer id is unmatched)",
            "name the app's email column as app.columns.email",
        )
    elif run.billing and not any(
        pc.any(pc.is_valid(t["customer_email"])).as_py() for t in run.billing
    ):
        blind_rule(
            "email matching",
            "accounts cannot be matched to billing by email: no billing row carries a "
            "customer email (customers were not expanded in the export)",
            EXPORT_HINT,
        )
    if mapping.customer_id is None:
        blind_rule(
            "customer links",
            "stale and duplicate customer links are not checked: the app has no customer-id column",
            "name the app's column holding the provider's customer id as app.columns.customer_id",
        )
    periods = ("current_period_start", "current_period_end")
    if run.billing and not any(_has_any(t, c) for t in run.billing for c in periods):
        blind_rule(
            "grace",
            "the past_due grace window cannot be computed: no billing row has a current "
            "period start or end, so past_due accounts go to review",
            f"export the subscriptions with their period dates; {EXPORT_HINT}",
        )
    if not blind:
        unplanned = "" if config.plans else " (no plan column and no [plans]: no plans to compare)"
        run.add(ok("rules", f"every rule has the columns and config it needs{unplanned}"))


def _has_any(table: pa.Table, column: str) -> bool:
    """Whether any row of `table` has a value in `column`."""
    return bool(pc.any(pc.is_valid(table[column])).as_py())
