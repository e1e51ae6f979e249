"""Masking works on the data, not on rendered text: counts and totals never change,
and a masked id still tells ids apart (issue 14)."""

from __future__ import annotations

import re

import pytest

from billdrift.core.engine import reconcile
from billdrift.core.model import Kind
from billdrift.core.report import Report
from billdrift.core.words import Ref
from billdrift.outputs.mask import Masker, mask_report
from billdrift.outputs.render import RENDERERS, render
from billdrift.outputs.render.common import money
from tests.builders import account, app, billing, inputs, sub
from tests.outputs.test_render import sample_report


def shared_customer() -> Report:
    """Accounts 2 and 17 share cus_A: "linked from 2 accounts" names a count equal to an id."""
    subs = billing(sub("sub_A", "cus_A"), sub("sub_B", "cus_B", email="bo@example.com"))
    accounts = app(account("2", "cus_A"), account("17", "cus_A"))
    return reconcile(inputs(subs, accounts))


def test_a_count_equal_to_an_account_id_is_not_masked() -> None:
    report = shared_customer()
    (duplicate,) = [f for f in report.findings if f.kind is Kind.DUPLICATE_CUSTOMER]
    assert "is linked from 2 accounts: 2, 17." in duplicate.message  # ids sort as text
    masked = mask_report(report, "all", key=b"k")
    (shown,) = [f for f in masked.findings if f.kind is Kind.DUPLICATE_CUSTOMER]
    assert " is linked from 2 accounts: …" in shown.message
    assert ": 17" not in shown.message and ", 2." not in shown.message
    assert "cus_A" not in shown.message
    orphan = next(f for f in masked.findings if f.kind is Kind.ORPHANED_SUBSCRIPTION)
    assert "bo@example.com" not in orphan.message and "b***@e***.com" in orphan.message


def test_mask_modes_none_emails_all() -> None:
    report = shared_customer()
    orphan = next(f for f in report.findings if f.kind is Kind.ORPHANED_SUBSCRIPTION)
    assert Masker("none").finding(orphan) == orphan
    emails = Masker("emails").finding(orphan)
    assert emails.customer_id == "cus_B" and "cus_B" in emails.message
    assert "b***@e***.com" in emails.message and "bo@example.com" not in emails.message
    hidden = Masker("all").finding(orphan)
    assert hidden.customer_id is not None and hidden.customer_id.startswith("cus_…")
    assert "cus_B" not in hidden.message and "sub_B" not in repr(hidden.evidence)


def test_masked_ids_stay_distinct_even_when_their_hashes_collide() -> None:
    masker = Masker("all", key=b"k")
    ids = [str(n) for n in range(20_000)]  # 4 hex digits alone would collide often
    masked = [masker.id(i) for i in ids]
    assert len(set(masked)) == len(ids)
    assert masker.id("7") == masked[7]  # stable within a run
    assert all(re.fullmatch(r"…[0-9a-f]{4,}", m) for m in masked)


@pytest.mark.parametrize("name", sorted(RENDERERS))
def test_totals_and_counts_do_not_change_with_masking(name: str) -> None:
    """Short ids used to all mask to 'sub_…', so the total that counts a subscription
    once dropped all but one (demo --mask showed JPY 5000 only)."""
    report = sample_report()
    masked = mask_report(report)
    assert masked.exposure_by_currency == report.exposure_by_currency
    assert masked.exposure_by_kind == report.exposure_by_kind
    assert masked.by_kind == report.by_kind and masked.classification == report.classification
    total = money(report.exposure_by_currency)
    plain, shown = render(name, report), render(name, masked)
    if total in plain:
        assert total in shown
    for currency, amount in report.exposure_by_currency.items():
        assert (f'"{currency}": "{amount}"' in plain) == (f'"{currency}": "{amount}"' in shown)


def test_evidence_of_any_shape_is_masked_by_key() -> None:
    """Tuples and subclasses of dict and str (evidence built outside the engine) are
    masked as lists, dicts and texts are."""

    class Text(str):
        pass

    class Mapping(dict):  # type: ignore[type-arg]
        pass

    masker = Masker("all", key=b"k")
    evidence = Mapping(
        app=(Text("ann@example.com"), {"email": Text("bo@example.org")}),
        account_id=Text("acct_1"),
        subscriptions=Text("sub_1:active, sub_2:canceled"),
        source=Text("app.csv:acct_1"),
        note=Text("call ann@example.com"),
        line=Text("billing.csv:14"),
        count=3,
    )
    masked = masker.evidence(evidence)
    assert masked == {
        "app": ["a***@e***.com", {"email": "b***@e***.org"}],
        "account_id": masker.id("acct_1"),
        "subscriptions": f"{masker.id('sub_1')}:active, {masker.id('sub_2')}:canceled",
        "source": f"app.csv:{masker.id('acct_1')}",
        "note": "call a***@e***.com",
        "line": "billing.csv:14",
        "count": 3,
    }
    emails = Masker("emails", key=b"k").evidence(evidence)
    assert emails["account_id"] == "acct_1" and emails["source"] == "app.csv:acct_1"
    assert emails["app"][0] == "a***@e***.com"
    shown = Masker("none").evidence(evidence)
    assert shown["note"] == "call ann@example.com" and shown["app"][0] == "ann@example.com"


def test_an_email_in_the_plain_words_is_masked() -> None:
    """The words show some values as plain text (a plan, a status, a field's value): an
    email there is masked in every mode but none, as in free text; ids only in all."""
    words = ("Account ", Ref("id", "a1"), " is on plan ", "'pro ann@example.com'", ".")
    assert Masker("all", key=b"k").words(words, "") == (
        f"Account {Masker('all', key=b'k').id('a1')} is on plan 'pro a***@e***.com'."
    )
    assert Masker("emails").words(words, "") == "Account a1 is on plan 'pro a***@e***.com'."
    assert Masker("none").words(words, "") == "Account a1 is on plan 'pro ann@example.com'."
