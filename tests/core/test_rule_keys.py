"""Each rule's findings are told apart by its key (issue 17).

A severity's findings are listed in the natural order of their rule's key alone (the
account, or the customer for a rule about customers no account holds): the other ids
only break ties, plainly. That is the order the report always had only if every
reported row has a key of its own: ``tests/core/test_columnar_evidence.py`` checks
that on every labelled rule case as it checks their evidence (one run of the cases
for both). Here: which rules key by what, that the check is not vacuous, and the
order itself.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from billdrift.core.rules import ALL_RULES
from tests.builders import account, app, billing, inputs, sub
from tests.core.keys import check_keys


@pytest.mark.parametrize(
    ("keys", "fails"),
    [(["a1", "a2"], None), (["a1", "a1"], "a account_id twice"), (["a1", None], "without")],
    ids=["own", "shared", "missing"],
)
def test_the_check_on_the_labelled_cases_fails_a_shared_or_missing_key(
    keys: list[str | None], fails: str | None
) -> None:
    rule = next(rule for rule in ALL_RULES if rule.kind is Kind.PAID_BUT_BLOCKED)
    table = pa.table({"account_id": pa.array(keys, pa.string())})
    if fails is None:
        check_keys(rule, table)
    else:
        with pytest.raises(AssertionError, match=fails):
            check_keys(rule, table)


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
