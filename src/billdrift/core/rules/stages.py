"""Shared derived relations every rule reads, registered in one place.

Each stage is plain SQL over the canonical relations (``billing_subscriptions``,
``billing_items``, ``app_accounts``, ``app_access_signals``) and the policy
relations built from the policy (``params``, ``status_policy``, ``plan_map``,
``app_granting_statuses``, ``internal_email_patterns``, ``internal_roles``,
``free_plans``, ``exceptions``, ``unreadable_rows``). Nothing here is DuckDB-only
beyond widely shared functions (``regexp_replace``, ``split_part``,
``string_agg``, ``bool_or``, ``FILTER``, window functions), so the same text can
be pushed down to PostgreSQL or a warehouse where both sides are mirrored.

Each stage declares the relations it reads (:class:`~billdrift.core.pipeline.Stage`)
and becomes a table (or a view) named after it; the engine derives the order they
run in. They are kept narrow (keys and decisions only) because at a million rows
per side every extra column materialized costs time and memory; the wide evidence
is joined back only for the rows a rule reports
(:data:`~billdrift.core.rules.reported_stages.ACCOUNT_DETAIL`).
"""

from __future__ import annotations

from billdrift.core.pipeline import Stage
from billdrift.core.rules import (
    account_stages,
    customer_stages,
    matching_stages,
    plan_stages,
    reported_stages,
)

#: The stages built before any rule runs. The order they run in is derived from
#: what each reads; among those ready, the one listed first runs first.
STAGES: tuple[Stage, ...] = (
    account_stages.ACCOUNT_ACCESS,
    plan_stages.MAPPED_PLANS,
    plan_stages.PLANNED_SUBSCRIPTIONS,
    customer_stages.CUSTOMER_KEYS,
    customer_stages.PERIOD_STARTS,
    customer_stages.SUBSCRIPTIONS_EVALUATED,
    customer_stages.CUSTOMERS,
    matching_stages.LINK_GAPS,
    matching_stages.UNCLAIMED_CUSTOMERS,
    matching_stages.MATCH_CANDIDATES,
    matching_stages.OTHER_MATCHES,
    account_stages.ACCOUNT_FLAGS,
    account_stages.ACCOUNT_LINKS,
    account_stages.ACCOUNT_STATE,
    account_stages.ACCOUNT_OUTCOMES,
    account_stages.FIELD_SHAPE,
    account_stages.ACCESS_DISAGREEMENTS,
    plan_stages.PLAN_DRIFT_ACCOUNTS,
    reported_stages.ACCOUNT_DETAIL,
    plan_stages.EXPECTED_PLANS,
)

#: The evidence stages built over ``reported`` (every applicable rule's keys) once
#: the rules have run: money, access fields and subscriptions for the rows
#: reported only.
REPORTED_STAGES: tuple[Stage, ...] = (
    reported_stages.REPORTED_MONEY,
    reported_stages.REPORTED_FIELDS,
    reported_stages.REPORTED_SUBSCRIPTIONS,
)
