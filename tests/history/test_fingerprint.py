"""Fingerprints: the same problem for the same account is the same finding, whatever the words."""

from __future__ import annotations

import dataclasses
import re

from billdrift.core.engine import reconcile
from billdrift.core.model import Exposure, Kind, Severity
from billdrift.history.fingerprint import fingerprint, fingerprint_of, short
from tests.builders import NOW, account, app, billing, inputs, sub
from tests.history.helpers import finding


def test_a_fingerprint_is_64_hex_digits_and_short_shows_12() -> None:
    fp = fingerprint(finding())
    assert re.fullmatch(r"[0-9a-f]{64}", fp)
    assert short(fp) == fp[:12]


def test_wording_severity_confidence_money_and_evidence_do_not_change_it() -> None:
    base = finding()
    variants = [
        dataclasses.replace(base, message="Reworded entirely."),
        dataclasses.replace(base, severity=Severity.MEDIUM, confidence=0.5),
        dataclasses.replace(base, exposure=Exposure("99.00", "EUR")),
        dataclasses.replace(base, exposure=None),
        dataclasses.replace(base, evidence={"app": {"has_paid_access": "false"}}),
        dataclasses.replace(base, fix="another fix"),
    ]
    assert {fingerprint(v) for v in variants} == {fingerprint(base)}


def test_account_findings_survive_cancel_and_resubscribe() -> None:
    """A new subscription id for the same account and customer is the same problem."""
    before = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_old")
    after = finding(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", "sub_new")
    assert fingerprint(before) == fingerprint(after)


def test_orphaned_subscriptions_are_keyed_by_their_subscription() -> None:
    """No account to key on: a resubscribed orphan is a new charge nobody can use."""
    old = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_9", "sub_old")
    new = finding(Kind.ORPHANED_SUBSCRIPTION, None, "cus_9", "sub_new")
    assert fingerprint(old) != fingerprint(new)


def test_kind_account_and_customer_each_change_it() -> None:
    base = fingerprint_of(Kind.PAID_BUT_BLOCKED, "u1", "cus_1", None)
    assert fingerprint_of(Kind.UNPAID_BUT_ACTIVE, "u1", "cus_1", None) != base
    assert fingerprint_of(Kind.PAID_BUT_BLOCKED, "u2", "cus_1", None) != base
    assert fingerprint_of(Kind.PAID_BUT_BLOCKED, "u1", "cus_2", None) != base


def test_missing_and_empty_ids_differ_and_ids_do_not_run_together() -> None:
    assert fingerprint_of(Kind.AMBIGUOUS, None, "x", None) != fingerprint_of(
        Kind.AMBIGUOUS, "", "x", None
    )
    assert fingerprint_of(Kind.AMBIGUOUS, "ab", "c", None) != fingerprint_of(
        Kind.AMBIGUOUS, "a", "bc", None
    )


def test_a_kind_string_and_the_enum_give_the_same_fingerprint() -> None:
    assert fingerprint_of("plan_drift", "u1", None, None) == fingerprint_of(
        Kind.PLAN_DRIFT, "u1", None, None
    )


def test_the_engine_gives_the_same_fingerprint_after_a_resubscribe() -> None:
    """Real findings: the old subscription canceled, a new one active, access still off."""
    accounts = app(account("u1", "cus_1", access=False))
    before = reconcile(inputs(billing(sub("sub_1", "cus_1", "active")), accounts, as_of=NOW))
    after = reconcile(
        inputs(
            billing(sub("sub_1", "cus_1", "canceled"), sub("sub_2", "cus_1", "active")),
            accounts,
            as_of=NOW,
        )
    )
    assert [f.kind for f in before.findings] == [Kind.PAID_BUT_BLOCKED]
    assert [f.kind for f in after.findings] == [Kind.PAID_BUT_BLOCKED]
    assert before.findings[0].subscription_id == "sub_1"
    assert after.findings[0].subscription_id == "sub_2"
    assert fingerprint(before.findings[0]) == fingerprint(after.findings[0])
