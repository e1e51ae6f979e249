"""Properties: row order never changes findings; every account gets exactly one state."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billdrift.core.engine import reconcile, workspace
from billdrift.outputs.render.json_format import finding_dict
from tests.builders import account, app, billing, inputs, sub

STATUSES = ["active", "trialing", "past_due", "canceled", "unpaid", "paused", "weird"]
CUSTOMERS = [f"cus_{i}" for i in range(6)] + ["cus_gone"]
EMAILS = ["a@x.com", "b@x.com", "A@X.com", "c+1@gmail.com", "c@gmail.com", None]


@st.composite
def datasets(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    n_subs = draw(st.integers(1, 8))
    subs = [
        sub(
            f"sub_{i}",
            draw(st.sampled_from(CUSTOMERS[:-1])),
            draw(st.sampled_from(STATUSES)),
            email=draw(st.sampled_from(EMAILS)),
            current_period_start="2026-11-18T00:00:00Z",
            current_period_end=draw(
                st.sampled_from(["2026-11-21T00:00:00Z", "2026-12-18T00:00:00Z"])
            ),
            cancel_at_period_end=draw(st.booleans()),
        )
        for i in range(n_subs)
    ]
    accounts = [
        account(
            f"acct_{i}",
            draw(st.sampled_from([*CUSTOMERS, None])),
            access=draw(st.sampled_from([True, False, None])),
            email=draw(st.sampled_from(EMAILS)),
            plan=draw(st.sampled_from(["pro", "basic", "free", None])),
            role=draw(st.sampled_from(["member", "admin", None])),
            status=draw(st.sampled_from(["active", "canceled", None])),
            subscription_id=draw(st.sampled_from([None, "sub_0", "sub_9"])),
        )
        for i in range(draw(st.integers(1, 8)))
    ]
    return subs, accounts


CONFIG = {"plans": {"price_pro": "pro"}, "policy": {"partial_min_links": 1000}}


def _findings(subs: list[Any], accounts: list[Any]) -> list[dict[str, Any]]:
    report = reconcile(inputs(billing(*subs), app(*accounts, with_status=True), CONFIG))
    document: list[dict[str, Any]] = orjson.loads(
        orjson.dumps([finding_dict(f) for f in report.findings])
    )
    return document


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets(), seed=st.randoms(use_true_random=False))
def test_row_order_does_not_change_findings(data: tuple[list[Any], list[Any]], seed: Any) -> None:
    subs, accounts = data
    shuffled_subs, shuffled_accounts = list(subs), list(accounts)
    seed.shuffle(shuffled_subs)
    seed.shuffle(shuffled_accounts)
    assert _findings(subs, accounts) == _findings(shuffled_subs, shuffled_accounts)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=datasets())
def test_every_account_is_classified_exactly_once(data: tuple[list[Any], list[Any]]) -> None:
    subs, accounts = data
    run = inputs(billing(*subs), app(*accounts, with_status=True), CONFIG)
    with workspace(run) as con:
        rows = con.sql("SELECT account_id, state FROM account_state").fetchall()
        outcomes = con.sql("SELECT account_id, state, accounts FROM account_outcomes").fetchall()
    assert sorted(r[0] for r in rows) == sorted(a["account_id"] for a in accounts)
    # the stored outcomes: each kept account once, and counts adding up to every state
    kept = [account_id for account_id, _, _ in outcomes if account_id is not None]
    assert len(kept) == len(set(kept)) and set(kept) <= {r[0] for r in rows}
    tally: Counter[str] = Counter()
    for _, state, n in outcomes:
        tally[state] += n
    assert tally == Counter(state for _, state in rows)
    assert all(state is not None for _, state in rows)
    report = reconcile(run)
    assert sum(report.classification.values()) == len(accounts)
    # per-account findings about access never contradict the account's one state
    states = dict(rows)
    for finding in report.findings:
        if finding.kind.value in ("paid_but_blocked", "unpaid_but_active", "ambiguous"):
            assert states[finding.account_id] == finding.kind.value
