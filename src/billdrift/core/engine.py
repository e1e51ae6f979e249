"""Canonical relations in, Report out. No printing, no exits, no network.

The engine loads the relations into an in-process DuckDB database
(:mod:`billdrift.core.load`), builds the shared stages (:mod:`billdrift.core.rules.stages`)
in the order their declarations imply (:mod:`billdrift.core.pipeline`), runs every
applicable rule and words its findings (:mod:`billdrift.core.findings`), and
decides the verdict. Partial data is judged here, before any finding is produced,
so a broken export yields ERROR rather than a flood.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import duckdb

from billdrift.core import completeness, pipeline
from billdrift.core.completeness import Ask, completeness_hints
from billdrift.core.findings import run_rules
from billdrift.core.found import Found
from billdrift.core.load import load
from billdrift.core.model import AppData, BillingData, Finding, Skip, Verdict
from billdrift.core.policy import Policy, over_share
from billdrift.core.report import Report, SourceInfo, Suppressed, decide_verdict
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Rule, RuleContext
from billdrift.core.rules.stages import STAGES
from billdrift.infra import duck


@dataclass(frozen=True)
class Inputs:
    """Everything one run reconciles."""

    billing: Sequence[BillingData]
    app: AppData
    policy: Policy
    as_of: datetime
    #: One customer's slice of both sides (a webhook-triggered check): a side with no
    #: rows is that customer's state (no subscription, no account), not a failed read.
    targeted: bool = False


@contextmanager
def workspace(inputs: Inputs) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection holding the canonical relations and every derived stage.

    Exposed for tests and for tools that want to inspect intermediate relations.
    """
    with _workspace(inputs) as (con, _, _):
        yield con


@contextmanager
def _workspace(
    inputs: Inputs,
) -> Iterator[tuple[duckdb.DuckDBPyConnection, set[str], tuple[Skip, ...]]]:
    """The connection of :func:`workspace`, the names of the relations it holds, and
    the billing rows loading could not use (conflicting copies of a subscription)."""
    con = duck.connect()
    try:
        loaded = load(con, inputs.billing, inputs.app, inputs.policy, inputs.as_of)
        provided = loaded.relations
        # an input that already holds a stage's rows (account_access) replaces it
        stages = [stage for stage in STAGES if stage.name not in provided]
        pipeline.run(con, stages, context(inputs), provided)
        yield con, provided | {stage.name for stage in stages}, loaded.skips
    finally:
        con.close()


def context(inputs: Inputs) -> RuleContext:
    """What decides which stages and rules apply to this run."""
    return RuleContext(inputs.policy, inputs.app.mapping)


#: The questions the report asks of the derived relations once the stages have run
#: (besides the rules' rows). Named so that a pushed-down run can compute every one
#: in the target and answer them from what came back (:mod:`billdrift.core.plan`).
ACCOUNTS = "SELECT count(*) FROM app_accounts"
SUBSCRIPTIONS = "SELECT count(*) FROM billing_subscriptions"
CUSTOMERS = "SELECT count(*) FROM customers"
REPEATS = "SELECT n FROM billing_repeats"
LINKED = "SELECT count(customer_id) FROM app_accounts"
LINKED_MATCHED = "SELECT sum(accounts) FROM account_outcomes WHERE match_method = 'customer_id'"
CLASSIFICATION = "SELECT state, sum(accounts) FROM account_outcomes GROUP BY state ORDER BY state"
MATCHED_BY = (
    "SELECT coalesce(match_method, 'unmatched'), sum(accounts) FROM account_outcomes GROUP BY 1"
)
QUESTIONS = (
    ACCOUNTS,
    SUBSCRIPTIONS,
    CUSTOMERS,
    REPEATS,
    LINKED,
    LINKED_MATCHED,
    CLASSIFICATION,
    MATCHED_BY,
    *completeness.QUESTIONS,
)

#: Runs the applicable rules and returns their findings and the suppressed ones: as
#: columns in report order (in-process), or as objects in any order (pushed down).
RunRules = Callable[[Sequence[Rule], RuleContext], tuple[Found | list[Finding], list[Suppressed]]]


def _scalar(ask: Ask, query: str) -> int:
    """A one-value query's value (0 for NULL or no row)."""
    rows = ask(query)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _partial_data_errors(ask: Ask, inputs: Inputs, unused: tuple[Skip, ...]) -> list[str]:
    """Reasons to refuse reconciling: judging partial data reports noise or a false PASS."""
    policy = inputs.policy
    errors = []
    subscriptions = _scalar(ask, SUBSCRIPTIONS)
    accounts = _scalar(ask, ACCOUNTS)
    if subscriptions == 0 and not inputs.targeted:
        named = "; ".join(data.description for data in inputs.billing if data.description)
        errors.append(
            "the billing data holds no subscriptions: nothing to reconcile against"
            + (f" (read: {named})" if named else "")
        )
    if accounts == 0 and not inputs.targeted:
        named = f" (read: {inputs.app.description})" if inputs.app.description else ""
        errors.append(f"the app data holds no accounts: nothing to reconcile{named}")
    for side, datasets, rows in (
        ("billing", inputs.billing, subscriptions),
        ("app", [inputs.app], accounts),
    ):
        skipped = sum(not skip.left_out for data in datasets for skip in data.skips)
        skipped += len(unused) if side == "billing" else 0
        if skipped and over_share(skipped, rows + skipped, policy.max_skipped_ratio):
            errors.append(
                f"{skipped} of {rows + skipped} {side} rows could not be read (more than "
                f"policy.max_skipped_ratio = {policy.max_skipped_ratio:g}); see the skipped rows"
            )
    if subscriptions:
        linked = _scalar(ask, LINKED)
        stale = linked - _scalar(ask, LINKED_MATCHED)
        if linked >= policy.partial_min_links and over_share(
            stale, linked, policy.partial_max_missing_ratio
        ):
            errors.append(
                f"{stale} of {linked} accounts link to customers the billing data does not "
                "contain: the billing data looks partial (wrong account or mode, an export "
                "without canceled subscriptions, a truncated file)"
            )
    return errors


#: How an account can be matched, in the order the report lists them.
MATCH_METHODS = ("customer_id", "subscription_id", "email", "normalized_email", "unmatched")


def _matched_by(ask: Ask) -> dict[str, int]:
    """Accounts per match method (every method listed, zeros included)."""
    rows = ask(MATCHED_BY)
    found = {str(method): int(n) for method, n in rows}
    return {method: found.get(method, 0) for method in MATCH_METHODS}


def _columns(app: AppData) -> tuple[tuple[str, str], ...]:
    """The app columns read per role, as detected or configured (billing sources have
    fixed layouts, named by their format in the sources)."""
    mapping = app.mapping
    if not mapping:
        return ()
    roles = [
        f"{role}={column}"
        for role, column in mapping.items()
        if isinstance(column, str) and role != "primary_access_field"
    ]
    for key in ("access_fields", "status_fields"):
        if mapping.get(key):
            roles.append(f"{key.split('_')[0]}={'+'.join(mapping[key])}")
    return (("app", ", ".join(roles)),)


def _expired_exception_notes(inputs: Inputs) -> list[str]:
    return [
        f"exception for {e.account or e.customer} ({e.reason}) expired on "
        f"{e.expires.date().isoformat()} and no longer suppresses findings"
        for e in inputs.policy.exceptions
        if e.expires is not None and e.expires <= inputs.as_of
    ]


def reconcile(inputs: Inputs) -> Report:
    """Compare both sides and classify every mismatch. Pure: same inputs, same report."""
    with _workspace(inputs) as (con, relations, unused):

        def ask(query: str) -> list[tuple[object, ...]]:
            return con.execute(query).fetchall()

        def rules(
            applicable: Sequence[Rule], context: RuleContext
        ) -> tuple[Found | list[Finding], list[Suppressed]]:
            return run_rules(con, applicable, context, relations)

        return judge(inputs, ask, rules, unused)


def judge(inputs: Inputs, ask: Ask, rules: RunRules, unused: tuple[Skip, ...] = ()) -> Report:
    """The report, once the stages have run wherever the data lives: `ask` answers the
    :data:`QUESTIONS` and `rules` runs the rules there. In-process that is DuckDB; a
    pushed-down run answers from what the target sent back."""
    datasets: list[BillingData | AppData] = [*inputs.billing, inputs.app]
    skips: tuple[Skip, ...] = tuple(skip for data in datasets for skip in data.skips)
    notes = [note for data in datasets for note in data.notes]
    notes += _expired_exception_notes(inputs)
    sources = (
        *(SourceInfo("billing", data.description) for data in inputs.billing),
        SourceInfo("app", inputs.app.description),
    )
    fail_on = inputs.policy.fail_on
    skips += unused
    counts = {
        "accounts": _scalar(ask, ACCOUNTS),
        "subscriptions": _scalar(ask, SUBSCRIPTIONS),
        "customers": _scalar(ask, CUSTOMERS),
    }
    repeats = _scalar(ask, REPEATS)
    if repeats:
        notes.append(
            f"{repeats} billing rows repeat a subscription already read (overlapping "
            "exports or repeated rows); the first input and row were used"
        )
    notes += completeness_hints(ask)
    errors = _partial_data_errors(ask, inputs, unused)
    if errors:
        return Report(
            verdict=Verdict.ERROR,
            as_of=inputs.as_of,
            fail_on=fail_on,
            skips=skips,
            errors=tuple(errors),
            notes=tuple(notes),
            sources=sources,
            counts=counts,
        )
    classification = {str(state): int(n) for state, n in ask(CLASSIFICATION)}
    rule_context = context(inputs)
    applicable = [rule for rule in ALL_RULES if rule.applies(rule_context)]
    not_applied = [
        (rule.kind.value, rule.not_applied_because) for rule in ALL_RULES if rule not in applicable
    ]
    findings, suppressed = rules(applicable, rule_context)
    matched_by = _matched_by(ask)
    ordered = (
        findings
        if isinstance(findings, Found)  # ordered already, and kept as columns
        else tuple(sorted(findings, key=lambda f: -f.severity))  # stable: kind order kept
    )
    return Report(
        verdict=decide_verdict(ordered, skips, (), fail_on),
        as_of=inputs.as_of,
        fail_on=fail_on,
        findings=ordered,
        suppressed=tuple(suppressed),
        skips=skips,
        notes=tuple(notes),
        sources=sources,
        counts=counts,
        classification=classification,
        rules_not_applied=tuple(not_applied),
        matched_by=matched_by,
        columns=_columns(inputs.app),
    )
