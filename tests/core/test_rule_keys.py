"""Each rule's findings are told apart by its key (issue 17).

A severity's findings are listed in the natural order of their rule's key alone (the
account, or the customer for a rule about customers no account holds): the other ids
only break ties, plainly. That is the order the report always had only if every
reported row has a key of its own, so every labelled rule case runs again here with
each rule's rows checked for it before the report takes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.found import Found
from billdrift.core.model import Kind
from billdrift.core.rules import ALL_RULES
from billdrift.core.rules.base import Rule
from tests.builders import account, app, billing, inputs, sub
from tests.core import test_rules
from tests.core.labelled import collect

collect(globals())


@pytest.fixture(autouse=True)
def keyed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The kinds whose rows reached the report, each checked for distinct, non-null keys."""
    seen: list[str] = []
    of_rules = Found.of_rules

    def checked(parts: Sequence[tuple[Rule, pa.Table]]) -> Found:
        for rule, table in parts:
            keys = table.column(rule.key).to_pylist()
            assert None not in keys, f"{rule.kind.value}: a row without its {rule.key}"
            assert len(set(keys)) == len(keys), f"{rule.kind.value}: a {rule.key} twice"
            if keys:
                seen.append(rule.kind.value)
        return of_rules(parts)

    monkeypatch.setattr(Found, "of_rules", checked)
    return seen


def test_the_keys_are_checked(keyed: list[str]) -> None:
    """Not vacuous: a case's rows reach the check."""
    test_rules.test_entitling_status_and_app_denies_is_paid_but_blocked("active")
    assert keyed == ["paid_but_blocked"]


def test_rules_about_customers_are_keyed_by_customer() -> None:
    customers = {rule.kind for rule in ALL_RULES if rule.key == "customer_id"}
    assert customers == {Kind.ORPHANED_SUBSCRIPTION, Kind.DUPLICATE_CUSTOMER}
    assert {rule.key for rule in ALL_RULES} == {"account_id", "customer_id"}


def test_findings_are_listed_by_their_key_naturally() -> None:
    """Within a severity, accounts 2, 10 and 19 in that order, and customers likewise."""
    numbers = (19, 2, 10)
    subs = [sub(f"sub_{n}", f"cus_{n}") for n in numbers]  # orphans: no account holds them
    subs += [sub(f"sub_a{n}", f"cus_a{n}") for n in numbers]
    accounts = [account(f"acct_{n}", f"cus_a{n}", access=False) for n in numbers]
    report = reconcile(inputs(billing(*subs), app(*accounts)))
    blocked = [f.account_id for f in report.findings if f.kind is Kind.PAID_BUT_BLOCKED]
    orphans = [f.customer_id for f in report.findings if f.kind is Kind.ORPHANED_SUBSCRIPTION]
    assert blocked == ["acct_2", "acct_10", "acct_19"]
    assert orphans == ["cus_2", "cus_10", "cus_19"]
