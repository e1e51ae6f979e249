"""The ``[plans]`` map ``billdrift init`` proposes: billing plan names matched to app plans.

Without ``[plans]`` plan drift is never checked, and writing the map by hand is
the step most set-ups skip. The billing side names its plans in words people
chose (a price lookup key ``pro_monthly``, a plan nickname ``Pro (yearly)``);
the app stores ``pro``. A key whose name equals an app plan, or equals it once
both are lower-cased, stripped of punctuation and of billing-interval words
(monthly, yearly, annual, ...), is proposed as an active entry: that rule
cannot pair two plans a person would tell apart. Anything less certain (a key
that only shares some words with an app plan, or matches several) is proposed
commented out with the reason, so a person decides; a wrong active entry would
report plan drift on every account of that plan.

Price and product ids (``price_1Pq...``) name no plan, so they are never
matched by name: they would only ever appear in the unmatched list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

#: Words that say how often a plan bills, not which plan it is.
INTERVAL_WORDS: Final = frozenset(
    {
        "annual",
        "annually",
        "daily",
        "day",
        "days",
        "month",
        "monthly",
        "months",
        "mo",
        "quarter",
        "quarterly",
        "week",
        "weekly",
        "weeks",
        "year",
        "yearly",
        "years",
        "yr",
    }
)
#: Keys beyond this many are not listed (a catalogue of thousands of prices is not a plan map).
MAX_KEYS: Final = 60
_TOKEN = re.compile(r"[0-9a-z]+")
#: Provider ids (Stripe price_/prod_/plan_, Paddle pri_/pro_ ULIDs): not plan names.
_PROVIDER_ID = re.compile(r"^(?:(?:price|prod|plan)_[A-Za-z0-9]{8,}|(?:pri|pro)_[0-9a-z]{26})$")


def normalized(name: str) -> str:
    """`name` lower-cased, punctuation and interval words dropped: ``Pro (yearly)`` -> ``pro``."""
    return " ".join(t for t in _TOKEN.findall(name.lower()) if t not in INTERVAL_WORDS)


@dataclass(frozen=True)
class PlanEntry:
    """One proposed ``key = "plan"`` line."""

    key: str
    #: The app plan value; empty when no app plan fits.
    plan: str
    #: Written active when sure, commented out otherwise.
    sure: bool
    why: str


@dataclass(frozen=True)
class PlanProposal:
    entries: tuple[PlanEntry, ...] = ()
    #: App plan values (not free) that no billing key maps to.
    unmapped: tuple[str, ...] = ()
    #: Billing keys left out beyond MAX_KEYS.
    omitted: int = 0

    @property
    def active(self) -> dict[str, str]:
        return {entry.key: entry.plan for entry in self.entries if entry.sure}


def propose_plans(
    keys: Iterable[str], app_plans: Iterable[str], free_plans: Iterable[str] = ()
) -> PlanProposal:
    """Match billing plan names (`keys`) to the app's distinct plan values."""
    free = {plan.strip().lower() for plan in free_plans}
    plans = sorted({p.strip() for p in app_plans if p and p.strip()} - {""})
    paid = [plan for plan in plans if plan.lower() not in free]
    names = sorted({k for k in keys if k and k.strip() and not _PROVIDER_ID.match(k)})
    entries = [_entry(key, paid) for key in names[:MAX_KEYS]]
    mapped = {entry.plan for entry in entries if entry.sure}
    unmapped = tuple(plan for plan in paid if plan not in mapped)
    return PlanProposal(tuple(entries), unmapped, max(len(names) - MAX_KEYS, 0))


def _entry(key: str, plans: list[str]) -> PlanEntry:
    exact = [plan for plan in plans if plan.lower() == key.strip().lower()]
    if exact:
        return PlanEntry(key, exact[0], True, "same name")
    wanted = normalized(key)
    same = [plan for plan in plans if wanted and normalized(plan) == wanted]
    if len(same) == 1:
        return PlanEntry(key, same[0], True, "same name without interval words")
    if same:
        return PlanEntry(key, same[0], False, f"unsure: matches {_listed(same)}")
    words = set(wanted.split())
    partial = [
        plan
        for plan in plans
        if words and (plan_words := set(normalized(plan).split())) and plan_words & words
    ]
    if partial:
        return PlanEntry(key, partial[0], False, f"unsure: shares words with {_listed(partial)}")
    return PlanEntry(key, "", False, "no app plan matches")


def _listed(plans: list[str]) -> str:
    return ", ".join(repr(plan) for plan in plans)
