"""Fingerprints: the same problem for the same account is the same finding, whatever the words."""

from __future__ import annotations

import dataclasses
import re

import pytest

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


#: Fingerprints pinned as computed by billdrift-fingerprint-v1. A change to what is
#: hashed would re-key every finding in every store (all "new", all alerting again):
#: it needs a new scheme and a migration, never a silent edit (issue 19).
PINNED = [
    (
        ("paid_but_blocked", "2", "cus_bob", "sub_bob"),
        "bdfd663918f94591f839d6aeb9cd0b188379a922cdcec1329f349860ef205eb6",
    ),
    (
        ("paid_but_blocked", "2", "cus_bob", None),  # the subscription is incidental here
        "bdfd663918f94591f839d6aeb9cd0b188379a922cdcec1329f349860ef205eb6",
    ),
    (
        ("orphaned_subscription", None, "cus_x", "sub_x"),
        "39b20162f14ef6789b30d5c1cb2e93dcd2f494314cc70d9a3a3e5c56557ad1ed",
    ),
    (
        ("missing_billing_link", "7", None, None),
        "f35c119e4a400385ce761fda2246a1fe5986390e95ad0f82199053c3ff4933fb",
    ),
    (
        ("missing_billing_link", "7", "", None),  # "" is not None
        "e5937d01554bf0c208bf309c60a43bb1c9cc92fa11fcd91b7d572044b19392b3",
    ),
]


@pytest.mark.parametrize(("ids", "expected"), PINNED)
def test_fingerprints_are_pinned(
    ids: tuple[str, str | None, str | None, str | None], expected: str
) -> None:
    assert fingerprint_of(*ids) == expected


def test_the_demo_findings_keep_the_fingerprints_the_readme_shows() -> None:
    import billdrift
    from billdrift.usecases.demo import DEMO_AS_OF, demo_paths

    paths = demo_paths()
    report = billdrift.check(
        str(paths.billing), str(paths.app), config=paths.config, as_of=DEMO_AS_OF
    )
    shown = {
        (f.kind.value, f.account_id or f.customer_id): fingerprint(f)[:12] for f in report.findings
    }
    assert shown[("paid_but_blocked", "19")] == "60192cb7056b"  # README: review ack 60192cb7
    assert shown[("unpaid_but_active", "3")] == "1e9000cc1c39"  # README: review expect 1e9000cc
    assert shown[("orphaned_subscription", "cus_heidi")] == "9c5eaefbb5ce"
    assert shown[("duplicate_customer", "cus_mallory")] == "42df93a67ef5"


@pytest.mark.parametrize(
    "ids",
    [
        ("u1", "cus_1", "sub_1"),
        (None, "", None),
        ('quote " and \\ backslash', "tab\tnew\nline", "\x00\x1f\x7f"),
        ("café ü 日本", "emoji 🙂", "\u2028\ud800"),
    ],
)
def test_the_fingerprint_text_is_json_dumps_of_the_identity(
    ids: tuple[str | None, str | None, str | None],
) -> None:
    """Spelled out for speed, it must stay the exact text stored fingerprints hash."""
    import hashlib
    import json

    from billdrift.history.fingerprint import SCHEME, identity

    for kind in Kind:
        text = json.dumps([SCHEME, *identity(kind, *ids)])
        assert fingerprint_of(kind, *ids) == hashlib.sha256(text.encode("utf-8")).hexdigest()


def test_a_runs_fingerprints_are_each_findings() -> None:
    """fingerprints_of (a run at once) hashes exactly what fingerprint_of does, for
    every kind, missing ids, and ids JSON must escape."""
    from billdrift.history.fingerprint import fingerprint_of, fingerprints_of

    ids = [None, "", "acct_1", 'quo"te', "back\\slash", "ünï", "tab\there", "🙂"]
    rows = [
        (kind.value, a, c, s)
        for kind in Kind
        for a in ids[:4]
        for c in ids[2:]
        for s in (None, "sub_1", ids[5])
    ]
    assert fingerprints_of(*(list(column) for column in zip(*rows, strict=True))) == [
        fingerprint_of(*row) for row in rows
    ]
