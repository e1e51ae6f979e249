"""Every rule on both sides of its boundary, run through the real engine (DuckDB)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from billdrift.core.engine import reconcile, workspace
from billdrift.core.model import Severity, Skip, Verdict
from billdrift.core.report import Report
from tests.builders import NOW, account, app, billing, inputs, sub


def run(subs: list, accounts: list, config: dict | None = None, **kw: object) -> Report:
    return reconcile(inputs(billing(*subs), app(*accounts, **kw), config))  # type: ignore[arg-type]


def kinds(report: Report) -> list[tuple[str, str | None]]:
    return [(f.kind.value, f.account_id or f.customer_id) for f in report.findings]


def iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


# --- paid_but_blocked / unpaid_but_active by status -------------------------------


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_entitling_status_and_app_denies_is_paid_but_blocked(status: str) -> None:
    report = run([sub("sub_1", "cus_1", status)], [account("a1", "cus_1", access=False)])
    assert kinds(report) == [("paid_but_blocked", "a1")]
    finding = report.findings[0]
    assert finding.severity is Severity.HIGH
    assert finding.confidence == 1.0
    assert finding.customer_id == "cus_1" and finding.subscription_id == "sub_1"
    assert finding.evidence["billing"]["status"] == status
    assert finding.evidence["app"]["access"] is False
    assert report.verdict is Verdict.FAIL and report.exit_code == 1


@pytest.mark.parametrize("status", ["active", "trialing"])
def test_entitling_status_and_app_grants_is_in_sync(status: str) -> None:
    report = run([sub("sub_1", "cus_1", status)], [account("a1", "cus_1", access=True)])
    assert report.findings == ()
    assert report.verdict is Verdict.PASS and report.exit_code == 0
    assert report.classification == {"in_sync": 1}


@pytest.mark.parametrize(
    "status", ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]
)
def test_non_entitling_status_and_app_grants_is_unpaid_but_active(status: str) -> None:
    report = run([sub("sub_1", "cus_1", status)], [account("a1", "cus_1", access=True)])
    assert kinds(report) == [("unpaid_but_active", "a1")]
    assert report.findings[0].severity is Severity.HIGH


@pytest.mark.parametrize(
    "status", ["canceled", "unpaid", "incomplete", "incomplete_expired", "paused"]
)
def test_non_entitling_status_and_app_denies_is_in_sync(status: str) -> None:
    report = run([sub("sub_1", "cus_1", status)], [account("a1", "cus_1", access=False)])
    assert report.findings == ()


def test_null_access_counts_as_denied() -> None:
    report = run([sub("sub_1", "cus_1")], [account("a1", "cus_1", access=None)])
    assert kinds(report) == [("paid_but_blocked", "a1")]


# --- grace period for past_due ---------------------------------------------------


@pytest.mark.parametrize(
    ("started", "entitled"),
    [
        (timedelta(days=-7, seconds=1), True),  # one second inside the 7-day window
        (timedelta(days=-7), False),  # exactly at the deadline: grace is over
        (timedelta(days=-30), False),
    ],
)
def test_past_due_grace_edges(started: timedelta, entitled: bool) -> None:
    subs = [sub("sub_1", "cus_1", "past_due", current_period_start=iso(started))]
    granted = run(subs, [account("a1", "cus_1", access=True)])
    denied = run(subs, [account("a1", "cus_1", access=False)])
    if entitled:
        assert granted.findings == ()
        assert kinds(denied) == [("paid_but_blocked", "a1")]
        assert denied.findings[0].evidence["billing"]["grace_until"] == iso(
            started + timedelta(days=7)
        ).replace("+00:00", "Z")
    else:
        assert kinds(granted) == [("unpaid_but_active", "a1")]
        assert "grace ended" in granted.findings[0].message
        assert denied.findings == ()


def test_grace_days_is_configurable() -> None:
    subs = [sub("sub_1", "cus_1", "past_due", current_period_start=iso(timedelta(days=-10)))]
    accounts = [account("a1", "cus_1", access=True)]
    assert kinds(run(subs, accounts)) == [("unpaid_but_active", "a1")]
    assert run(subs, accounts, {"policy": {"grace_days": 14}}).findings == ()
    zero = [sub("sub_1", "cus_1", "past_due", current_period_start=iso(timedelta(0)))]
    assert kinds(run(zero, accounts, {"policy": {"grace_days": 0}})) == [
        ("unpaid_but_active", "a1")
    ]


def test_past_due_without_period_start_is_ambiguous() -> None:
    report = run([sub("sub_1", "cus_1", "past_due")], [account("a1", "cus_1", access=True)])
    assert kinds(report) == [("ambiguous", "a1")]
    assert report.findings[0].severity is Severity.LOW
    assert report.findings[0].evidence["reason"] == "grace_undeterminable"


# --- cancel at period end / cancel_at --------------------------------------------


@pytest.mark.parametrize(
    ("period_end", "entitled"),
    [(timedelta(seconds=1), True), (timedelta(0), False), (timedelta(days=-1), False)],
)
def test_cancel_at_period_end_edges(period_end: timedelta, entitled: bool) -> None:
    subs = [sub("sub_1", "cus_1", cancel_at_period_end=True, current_period_end=iso(period_end))]
    denied = run(subs, [account("a1", "cus_1", access=False)])
    granted = run(subs, [account("a1", "cus_1", access=True)])
    if entitled:
        assert kinds(denied) == [("paid_but_blocked", "a1")]
        assert "paid until then" in denied.findings[0].message
        assert granted.findings == ()
    else:
        assert denied.findings == ()
        assert kinds(granted) == [("unpaid_but_active", "a1")]


@pytest.mark.parametrize(
    ("cancel_at", "entitled"), [(timedelta(hours=1), True), (timedelta(0), False)]
)
def test_cancel_at_edges(cancel_at: timedelta, entitled: bool) -> None:
    subs = [sub("sub_1", "cus_1", cancel_at=iso(cancel_at))]
    granted = run(subs, [account("a1", "cus_1", access=True)])
    assert (granted.findings == ()) is entitled


def test_unknown_status_is_ambiguous_never_high() -> None:
    report = run([sub("sub_1", "cus_1", "inactive")], [account("a1", "cus_1", access=True)])
    assert kinds(report) == [("ambiguous", "a1")]
    assert report.findings[0].severity is Severity.LOW
    assert report.findings[0].confidence == 0.0
    assert report.verdict is Verdict.WARN and report.exit_code == 0


def test_status_policy_is_configurable() -> None:
    config = {
        "policy": {
            "statuses": {
                "stripe": {"entitled": ["active", "inactive"], "not_entitled": ["canceled"]}
            }
        }
    }
    report = run(
        [sub("sub_1", "cus_1", "inactive")], [account("a1", "cus_1", access=False)], config
    )
    assert kinds(report) == [("paid_but_blocked", "a1")]


def test_paddle_statuses_use_paddle_policy() -> None:
    subs = [sub("sub_1", "ctm_1", "paused", provider="paddle")]
    assert kinds(run(subs, [account("a1", "ctm_1", access=True)])) == [("unpaid_but_active", "a1")]


# --- several subscriptions per customer ------------------------------------------


def test_live_subscription_beats_ended_one() -> None:
    subs = [sub("sub_old", "cus_1", "canceled"), sub("sub_new", "cus_1", "active")]
    assert run(subs, [account("a1", "cus_1", access=True)]).findings == ()
    blocked = run(subs, [account("a1", "cus_1", access=False)])
    assert blocked.findings[0].subscription_id == "sub_new"
    old = {"subscription_id": "sub_old", "status": "canceled"}
    assert old in blocked.findings[0].evidence["billing"]["subscriptions"]


def test_ties_between_live_subscriptions_are_deterministic() -> None:
    a = [
        sub("sub_b", "cus_1", current_period_end=iso(timedelta(days=5))),
        sub("sub_a", "cus_1", current_period_end=iso(timedelta(days=5))),
    ]
    report = run(a, [account("a1", "cus_1", access=False)])
    assert report.findings[0].subscription_id == "sub_a"
    later = [sub("sub_b", "cus_1", current_period_end=iso(timedelta(days=9))), a[1]]
    assert run(later, [account("a1", "cus_1", access=False)]).findings[0].subscription_id == (
        "sub_b"
    )


# --- matching ------------------------------------------------------------------


def test_match_by_subscription_id() -> None:
    report = run(
        [sub("sub_1", "cus_1")], [account("a1", None, subscription_id="sub_1", access=False)]
    )
    assert kinds(report) == [("paid_but_blocked", "a1")]
    assert report.findings[0].confidence == 0.95
    assert report.findings[0].evidence["match"]["method"] == "subscription_id"


def test_match_by_exact_email_is_high_confidence() -> None:
    report = run(
        [sub("sub_1", "cus_1", email="Ann@Example.com")],
        [account("a1", None, email="Ann@Example.com", access=False)],
    )
    assert kinds(report) == [("paid_but_blocked", "a1")]
    assert report.findings[0].severity is Severity.HIGH
    assert report.findings[0].confidence == 0.9


def test_match_by_normalized_email_is_medium_severity() -> None:
    report = run(
        [sub("sub_1", "cus_1", email="annsmith@gmail.com")],
        [account("a1", None, email=" Ann.Smith+app@GMAIL.com", access=False)],
    )
    assert kinds(report) == [("paid_but_blocked", "a1")]
    assert report.findings[0].severity is Severity.MEDIUM
    assert report.findings[0].confidence == 0.7
    assert report.verdict is Verdict.WARN


def test_different_emails_do_not_match() -> None:
    report = run(
        [sub("sub_1", "cus_1", email="ann@example.com")],
        [account("a1", None, email="bob@example.com", access=False)],
    )
    assert kinds(report) == [("orphaned_subscription", "cus_1")]


def test_email_collision_is_ambiguous() -> None:
    subs = [
        sub("sub_1", "cus_1", email="ann@example.com"),
        sub("sub_2", "cus_2", email="ann@example.com"),
    ]
    report = run(subs, [account("a1", None, email="ann@example.com", access=True)])
    assert kinds(report) == [("ambiguous", "a1")]
    assert report.findings[0].evidence["match"]["candidates"] == ["cus_1", "cus_2"]
    # candidates of a collision are not reported as orphaned as well
    assert report.by_kind == {"ambiguous": 1}


def test_candidates_are_the_stored_id_or_the_other_methods_matches() -> None:
    """account_state keeps candidate lists only for accounts other methods matched;
    account_detail writes the stored id's one-element list for the ones it reports."""
    subs = [
        sub("sub_1", "cus_1", email="ann@example.com"),
        sub("sub_2", "cus_2", email="bob@example.com"),
    ]
    accounts = [
        account("a1", "cus_1", access=False),
        account("a2", None, email="bob@example.com", access=False),
    ]
    run_inputs = inputs(billing(*subs), app(*accounts))
    with workspace(run_inputs) as con:
        stored = con.sql(
            "SELECT account_id, other_candidates FROM account_state ORDER BY account_id"
        ).fetchall()
    assert stored == [("a1", None), ("a2", ["cus_2"])]
    report = reconcile(run_inputs)
    assert kinds(report) == [("paid_but_blocked", "a1"), ("paid_but_blocked", "a2")]
    assert [f.evidence["match"]["candidates"] for f in report.findings] == [["cus_1"], ["cus_2"]]


def test_email_match_does_not_take_a_customer_claimed_by_id() -> None:
    subs = [sub("sub_1", "cus_1", email="ann@example.com")]
    accounts = [
        account("a1", "cus_1", access=True),
        account("a2", None, email="ann@example.com", access=False),
    ]
    assert run(subs, accounts).findings == ()


# --- orphaned / missing / stale links ---------------------------------------------


def test_orphaned_subscription_boundary() -> None:
    live = run([sub("sub_1", "cus_1"), sub("sub_2", "cus_2")], [account("a1", "cus_1")])
    assert kinds(live) == [("orphaned_subscription", "cus_2")]
    assert live.findings[0].exposure is not None
    ended = run(
        [sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled")], [account("a1", "cus_1")]
    )
    assert ended.findings == ()


def test_missing_billing_link_boundary() -> None:
    subs = [sub("sub_1", "cus_1")]
    base = [account("a1", "cus_1")]
    assert kinds(run(subs, [*base, account("a2", None, plan="pro")])) == [
        ("missing_billing_link", "a2")
    ]
    assert run(subs, [*base, account("a2", None, access=False)]).findings == ()


def test_internal_and_free_accounts_are_not_missing_links() -> None:
    subs = [sub("sub_1", "cus_1")]
    accounts = [
        account("a1", "cus_1"),
        account("staff", None, email="ops@ourco.com"),
        account("admin", None, role="Admin"),
        account("freebie", None, plan="free"),
    ]
    report = run(subs, accounts, {"policy": {"internal_email_patterns": ["*@ourco.com"]}})
    assert report.findings == ()
    assert report.classification == {"in_sync": 1, "internal": 2, "free_plan": 1}
    without_pattern = run(subs, accounts)
    assert kinds(without_pattern) == [("missing_billing_link", "staff")]


def test_internal_email_patterns_take_underscore_and_percent_literally() -> None:
    """Only ``*`` and ``?`` are wildcards in a pattern: ``_`` and ``%`` (common in
    addresses) match themselves, not any character."""
    subs = [sub("sub_1", "cus_1")]
    accounts = [
        account("a1", "cus_1"),
        account("staff", None, email="ops_team@our%co.com"),
        account("lookalike", None, email="opsXteam@ourXXco.com"),
        account("backslash", None, email="ops\\team@our\\co.com"),
    ]
    report = run(subs, accounts, {"policy": {"internal_email_patterns": ["ops_team@our%co.com"]}})
    assert report.classification["internal"] == 1
    assert kinds(report) == [
        ("missing_billing_link", "backslash"),
        ("missing_billing_link", "lookalike"),
    ]
    wildcard = run(subs, accounts, {"policy": {"internal_email_patterns": ["ops?team@*.com"]}})
    assert wildcard.classification["internal"] == 3


def test_stale_link_severity_depends_on_access() -> None:
    subs = [sub("sub_1", "cus_1")]
    base = [account("a1", "cus_1")]
    granted = run(subs, [*base, account("a2", "cus_gone", access=True)])
    assert kinds(granted) == [("stale_billing_link", "a2")]
    assert granted.findings[0].severity is Severity.MEDIUM
    assert granted.findings[0].customer_id == "cus_gone"
    denied = run(subs, [*base, account("a2", "cus_gone", access=False)])
    assert denied.findings[0].severity is Severity.LOW


def test_duplicate_customer_lists_its_accounts_in_natural_order() -> None:
    """Integer ids read "2, 6, 19" (issue 14), whatever order the app gives them in."""
    subs = [sub("sub_1", "cus_1")]
    accounts = [account(i, "cus_1") for i in ("19", "2", "acct_10", "6", "acct_9")]
    (finding,) = run(subs, accounts).findings
    assert finding.evidence["account_ids"] == ["2", "6", "19", "acct_9", "acct_10"]
    assert "2, 6, 19, acct_9, acct_10" in finding.message


def test_duplicate_customer_and_team_billing() -> None:
    subs = [sub("sub_1", "cus_1")]
    accounts = [account("a1", "cus_1"), account("a2", "cus_1"), account("a3", "cus_1")]
    report = run(subs, accounts)
    assert kinds(report) == [("duplicate_customer", "cus_1")]
    assert report.findings[0].evidence["account_ids"] == ["a1", "a2", "a3"]
    n_accounts = report.findings[0].evidence["n_accounts"]
    assert (type(n_accounts), n_accounts) == (int, 3)
    assert run(subs, accounts[:1]).findings == ()
    team = run(subs, accounts, {"policy": {"team_billing": True}})
    assert team.findings == ()
    assert ("duplicate_customer", "policy.team_billing is true") in team.rules_not_applied


# --- app fields and plan drift -----------------------------------------------------


def test_app_fields_disagree_boundary() -> None:
    subs = [sub("sub_1", "cus_1")]
    conflicting = run(subs, [account("a1", "cus_1", status="canceled")], with_status=True)
    assert kinds(conflicting) == [("app_fields_disagree", "a1")]
    assert "subscription_status=canceled" in conflicting.findings[0].message
    agreeing = run(subs, [account("a1", "cus_1", status="active")], with_status=True)
    assert agreeing.findings == ()
    unknown = run(subs, [account("a1", "cus_1", status=None)], with_status=True)
    assert unknown.findings == ()


def test_a_policy_dependent_app_status_contradicts_no_flag() -> None:
    """`subscription_status=past_due` beside a flag: whether past_due grants depends on
    the grace policy, so neither a denying flag (beyond grace) nor a granting one
    (within grace) is the app contradicting itself (issue 13)."""
    late = sub("sub_1", "cus_1", "past_due", current_period_start="2026-11-01T00:00:00Z")
    denied = run(
        [late], [account("a1", "cus_1", access=False, status="past_due")], with_status=True
    )
    assert kinds(denied) == []  # beyond 7 days' grace: denying is right, nothing to say
    granted = run(
        [late], [account("a1", "cus_1", access=True, status=" Past_Due ")], with_status=True
    )
    assert ("app_fields_disagree", "a1") not in kinds(granted)
    # a status whose meaning the policy fixes still contradicts a flag
    canceled = run(
        [late], [account("a1", "cus_1", access=True, status="canceled")], with_status=True
    )
    assert ("app_fields_disagree", "a1") in kinds(canceled)


def test_no_grace_means_past_due_is_beyond_grace_without_a_period_start() -> None:
    """With grace_days = 0 a past_due subscription never entitles, whatever (or whether)
    its period start: not `ambiguous` for want of a start (issue 13)."""
    no_start = [sub("sub_1", "cus_1", "past_due")]
    granting = [account("a1", "cus_1", access=True)]
    strict = run(no_start, granting, {"policy": {"grace_days": 0}})
    assert kinds(strict) == [("unpaid_but_active", "a1")]
    assert "no grace period (policy.grace_days = 0)" in strict.findings[0].message
    lenient = run(no_start, granting, {"policy": {"grace_days": 1}})
    assert kinds(lenient) == [("ambiguous", "a1")]  # one day of grace from an unknown start
    started = [sub("sub_1", "cus_1", "past_due", current_period_start="2026-11-22T11:00:00Z")]
    assert kinds(run(started, granting, {"policy": {"grace_days": 1}})) == []  # within grace


def test_a_missing_period_start_is_derived_from_the_period_end_and_interval() -> None:
    """An export without the period start: the grace window counts from the period end
    less one billing interval, so past_due is judged, not `ambiguous` (issue 13)."""
    granting = [account("a1", "cus_1", access=True)]

    def past_due(end: str, **item: object) -> list[object]:
        return [sub("sub_1", "cus_1", "past_due", current_period_end=end, **item)]

    # month: started 2026-11-20, 7 days of grace until the 27th > as-of the 22nd
    assert kinds(run(past_due("2026-12-20T00:00:00Z"), granting)) == []
    # month: started 2026-11-10, grace ended on the 17th: beyond grace
    beyond = run(past_due("2026-12-10T00:00:00Z"), granting)
    assert kinds(beyond) == [("unpaid_but_active", "a1")]
    assert "payment failed at 2026-11-10" in beyond.findings[0].message
    # two weeks: started 2026-11-01, beyond grace
    weekly = past_due("2026-11-15T00:00:00Z", interval="week", interval_count=2)
    assert kinds(run(weekly, granting)) == [("unpaid_but_active", "a1")]
    # neither start nor end: still undeterminable
    assert kinds(run([sub("sub_1", "cus_1", "past_due")], granting)) == [("ambiguous", "a1")]


def test_app_status_as_the_access_field_grants_by_the_granting_statuses() -> None:
    subs = [sub("sub_1", "cus_1", "canceled"), sub("sub_2", "cus_2", "active")]

    def accounts(first: str | None, second: str | None) -> list[dict[str, object]]:
        return [account("a1", "cus_1", status=first), account("a2", "cus_2", status=second)]

    # a granting status, whatever its case and padding, grants; others deny
    granted = run(subs, accounts(" Active ", "canceled"), status_only=True)
    assert kinds(granted) == [("paid_but_blocked", "a2"), ("unpaid_but_active", "a1")]
    assert granted.findings[1].evidence["app"]["access"] is True
    # blank or missing text grants nothing
    blank = run(subs, accounts("  ", None), status_only=True)
    assert kinds(blank) == [("paid_but_blocked", "a2")]
    # in sync both ways
    assert run(subs, accounts("canceled", "trialing"), status_only=True).findings == ()
    # the list is policy: with only "vip" granting, "active" no longer grants
    custom = {"policy": {"app_granting_statuses": ["vip"]}}
    assert run(subs, accounts("active", "VIP"), custom, status_only=True).findings == ()


def test_plan_drift_boundary() -> None:
    config = {"plans": {"price_pro": "pro", "basic_lookup": "basic"}}
    subs = [sub("sub_1", "cus_1", price="price_pro")]
    drift = run(subs, [account("a1", "cus_1", plan="basic")], config)
    assert kinds(drift) == [("plan_drift", "a1")]
    assert drift.findings[0].evidence["expected_plans"] == ["pro"]
    assert run(subs, [account("a1", "cus_1", plan="Pro ")], config).findings == ()
    unmapped = [sub("sub_1", "cus_1", price="price_other")]
    assert run(unmapped, [account("a1", "cus_1", plan="basic")], config).findings == ()


def test_plan_drift_not_applied_without_map_or_plan_column() -> None:
    subs = [sub("sub_1", "cus_1")]
    report = run(subs, [account("a1", "cus_1", plan="basic")])
    assert report.findings == ()
    assert report.rules_not_applied[0][0] == "plan_drift"
    no_column = run(
        subs, [account("a1", "cus_1")], {"plans": {"price_pro": "pro"}}, plan_column=False
    )
    assert [k for k, _ in no_column.rules_not_applied] == ["plan_drift"]


# --- exceptions --------------------------------------------------------------------


def test_exception_suppresses_until_it_expires() -> None:
    subs = [sub("sub_1", "cus_1", "canceled")]
    accounts = [account("a1", "cus_1", access=True)]
    active = {
        "exceptions": [{"account": "a1", "reason": "comped", "expires": iso(timedelta(days=1))}]
    }
    report = run(subs, accounts, active)
    assert report.findings == ()
    assert [s.reason for s in report.suppressed] == ["comped"]
    assert report.verdict is Verdict.PASS
    expired = {"exceptions": [{"account": "a1", "reason": "comped", "expires": iso(timedelta(0))}]}
    report = run(subs, accounts, expired)
    assert kinds(report) == [("unpaid_but_active", "a1")]
    assert any("expired" in note for note in report.notes)


def test_exception_scoped_to_a_kind_and_customer() -> None:
    subs = [sub("sub_1", "cus_1", "canceled")]
    accounts = [account("a1", "cus_1", access=True)]
    other_kind = {"exceptions": [{"customer": "cus_1", "kind": "plan_drift", "reason": "x"}]}
    assert kinds(run(subs, accounts, other_kind)) == [("unpaid_but_active", "a1")]
    same_kind = {
        "exceptions": [{"customer": "cus_1", "kind": "unpaid_but_active", "reason": "contract"}]
    }
    assert run(subs, accounts, same_kind).findings == ()


def test_duplicate_customer_findings_keep_their_place_and_honour_exceptions() -> None:
    """The duplicate-customer rule runs after the others (it needs no evidence): its
    findings still come in kind order among the rest, and exceptions still apply."""
    subs = [sub("sub_1", "cus_1"), sub("sub_2", "cus_2", "canceled"), sub("sub_3", "cus_3")]
    accounts = [
        account("a1", "cus_1", status="active"),
        account("a2", "cus_1", status="active"),
        account("a3", "cus_2", status="active"),
        account("a5", "cus_3", status="canceled"),
    ]
    # same severity (medium): duplicate_customer before app_fields_disagree, by kind
    assert kinds(run(subs, accounts, with_status=True)) == [
        ("unpaid_but_active", "a3"),
        ("duplicate_customer", "cus_1"),
        ("app_fields_disagree", "a5"),
    ]
    excused = {
        "exceptions": [{"customer": "cus_1", "kind": "duplicate_customer", "reason": "team"}]
    }
    report = run(subs, accounts, excused, with_status=True)
    assert kinds(report) == [("unpaid_but_active", "a3"), ("app_fields_disagree", "a5")]
    assert [(s.finding.kind.value, s.reason) for s in report.suppressed] == [
        ("duplicate_customer", "team")
    ]


# --- partial data and verdicts -------------------------------------------------------


def test_empty_billing_is_an_error_not_a_pass() -> None:
    report = reconcile(inputs(billing(), app(account("a1", "cus_1"))))
    assert report.verdict is Verdict.ERROR and report.exit_code == 2
    assert report.findings == ()
    assert "no subscriptions" in report.errors[0]


def test_empty_app_is_an_error() -> None:
    report = reconcile(inputs(billing(sub("sub_1", "cus_1")), app()))
    assert report.verdict is Verdict.ERROR
    assert "no accounts" in report.errors[0]


def test_mostly_missing_customers_means_partial_billing_data() -> None:
    subs = [sub(f"sub_{i}", f"cus_{i}") for i in range(10)]
    accounts = [account(f"a{i}", f"cus_{i}") for i in range(30)]  # 20 of 30 links unknown
    report = run(subs, accounts)
    assert report.verdict is Verdict.ERROR
    assert "looks partial" in report.errors[0]
    half = [account(f"a{i}", f"cus_{i}") for i in range(20)]  # 10 of 20: not more than half
    not_partial = run(subs, half)
    assert not_partial.verdict is Verdict.WARN
    assert not_partial.by_kind == {"stale_billing_link": 10}


def test_fail_on_threshold() -> None:
    subs = [sub("sub_1", "cus_1"), sub("sub_2", "cus_2")]
    accounts = [account("a1", "cus_1")]  # one orphaned subscription: medium
    assert run(subs, accounts).verdict is Verdict.WARN
    assert run(subs, accounts, {"output": {"fail_on": "medium"}}).verdict is Verdict.FAIL


# --- unreadable rows hold judgement back -------------------------------------------


def test_unreadable_billing_row_makes_its_customer_ambiguous_not_stale() -> None:
    broken = Skip("billing", "subs.csv", "line 3", "bad date", "Created", customer_id="cus_2")
    data = replace(billing(sub("sub_1", "cus_1")), skips=(broken,))
    accounts = app(account("a1", "cus_1"), account("a2", "cus_2"), account("a3", "cus_3"))
    report = reconcile(inputs(data, accounts, {"policy": {"max_skipped_ratio": 1}}))
    assert kinds(report) == [("stale_billing_link", "a3"), ("ambiguous", "a2")]
    assert report.findings[1].evidence["reason"] == "billing_row_unreadable"
    assert report.verdict is Verdict.WARN  # skipped rows are never a PASS


def test_unreadable_app_row_keeps_its_customer_from_being_orphaned() -> None:
    broken = Skip("app", "users.csv", "line 9", "bad flag", "has_paid_access", customer_id="cus_2")
    accounts = replace(app(account("a1", "cus_1")), skips=(broken,))
    subs = billing(sub("sub_1", "cus_1"), sub("sub_2", "cus_2"), sub("sub_3", "cus_3"))
    report = reconcile(inputs(subs, accounts, {"policy": {"max_skipped_ratio": 1}}))
    assert kinds(report) == [("orphaned_subscription", "cus_3")]


# --- the same subscription read twice ---------------------------------------------


def test_overlapping_inputs_count_each_subscription_once() -> None:
    first = billing(sub("sub_1", "cus_1", "canceled"), sub("sub_2", "cus_2"))
    second = billing(sub("sub_1", "cus_1", "canceled"), sub("sub_3", "cus_3"))
    accounts = app(
        account("a1", "cus_1", access=True),
        account("a2", "cus_2"),
        account("a3", "cus_3"),
    )
    report = reconcile(inputs([first, second], accounts))
    assert report.counts["subscriptions"] == 3
    assert kinds(report) == [("unpaid_but_active", "a1")]
    assert report.findings[0].exposure is not None
    assert report.findings[0].exposure.monthly_amount == "29.00"  # items not doubled
    assert any("1 billing rows repeat a subscription" in note for note in report.notes)
    assert report.skips == ()


def test_a_repeated_row_within_one_input_is_read_once() -> None:
    data = billing(sub("sub_1", "cus_1", "active"), sub("sub_1", "cus_1", "active"))
    report = reconcile(inputs(data, app(account("a1", "cus_1", access=False))))
    assert report.counts["subscriptions"] == 1
    assert kinds(report) == [("paid_but_blocked", "a1")]
    assert report.findings[0].exposure is not None
    assert report.findings[0].exposure.monthly_amount == "29.00"  # the item counted once
    assert any("repeat a subscription" in note for note in report.notes)
    clean = reconcile(inputs(billing(sub("sub_1", "cus_1")), app(account("a1", "cus_1"))))
    assert not any("repeat" in note for note in clean.notes)


def _conflicting(order: list[int], split: bool) -> Report:
    """sub_1 twice, once active and once canceled, in the given order; in one input or
    two; with other subscriptions around so the skipped copies stay under the ratio."""
    copies = [sub("sub_1", "cus_1", "active"), sub("sub_1", "cus_1", "canceled")]
    ordered = [copies[index] for index in order]
    others = [sub(f"sub_{n}", f"cus_{n}") for n in range(2, 400)]
    data = (
        [billing(ordered[0], *others), billing(ordered[1])]
        if split
        else [billing(*ordered, *others)]
    )
    accounts = app(
        account("a1", "cus_1", access=True),
        *(account(f"a{n}", f"cus_{n}", access=True) for n in range(2, 400)),
    )
    return reconcile(inputs(data, accounts))


@pytest.mark.parametrize("split", [False, True], ids=["one input", "two inputs"])
def test_conflicting_copies_give_the_same_verdict_whichever_comes_first(split: bool) -> None:
    """Copies that disagree are never resolved by position: both orders give the same
    verdict and findings; the customer's account is held back as ambiguous and every
    copy is a skipped row saying what differs."""
    forward, backward = _conflicting([0, 1], split), _conflicting([1, 0], split)

    assert forward.verdict == backward.verdict == Verdict.WARN
    assert forward.findings == backward.findings
    assert kinds(forward) == [("ambiguous", "a1")]
    assert forward.findings[0].evidence["reason"] == "billing_row_unreadable"
    assert forward.counts == backward.counts
    assert forward.counts["subscriptions"] == 398  # neither copy of sub_1 is used
    for report in (forward, backward):
        assert [(s.field, s.customer_id) for s in report.skips] == [("status", "cus_1")] * 2
        assert "sub_1 is listed 2 times with different content (status: " in (
            report.skips[0].reason
        )


def test_copies_in_two_inputs_whose_items_differ_conflict() -> None:
    cheap, dear = sub("sub_1", "cus_1", amount=900), sub("sub_1", "cus_1", amount=2900)
    report = reconcile(
        inputs(
            [billing(cheap), billing(dear)],
            app(account("a1", "cus_1")),
            {"policy": {"max_skipped_ratio": 1}},
        )
    )
    assert [s.reason.split("(")[1] for s in report.skips] == [
        "their items differ between inputs); no copy is used, since which one is right "
        "cannot be told"
    ] * 2
