"""A check pushed down into PostgreSQL over app tables beside a real mirror layout
(stripe sync-engine, dj-stripe) finds exactly what the in-process check finds when it
reads the same tables over the wire: row for row, evidence and money included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from billdrift.config import AppConfig, BillingConfig, Config, load_config
from billdrift.core.policy import from_config
from billdrift.core.report import Report
from billdrift.errors import SourceError
from billdrift.infra.db.urls import resolve
from billdrift.sources.pushdown import postgres as pushdown
from billdrift.usecases.check import check
from tests.sources.billing import test_stripe_mirror as mirror_tests
from tests.sources.billing.test_stripe_mirror import Mirror, dj_stripe, sync_engine

# the mirror tests' own fixtures: a SELECT-only role, a fresh database per test
reader = mirror_tests.reader
mirror = mirror_tests.mirror

AS_OF = datetime(2026, 11, 22, tzinfo=UTC)

#: Accounts covering every direction: in sync, paid but blocked (cancelling later, and
#: past_due within grace, in euros), unpaid but active (canceled, with an amount-off
#: coupon), a stale link, a duplicate customer, a match by email and an orphan (the
#: trialing customer no account names).
ACCOUNTS = [
    (1, "alice@example.com", "cus_Alice", "true", "pro"),
    (2, "bob@example.com", "cus_Bob", "false", "team"),
    (3, "carol@example.com", "cus_Carol", "true", "pro"),
    (4, "gone@example.com", "cus_Gone", "yes", "pro"),
    (5, "erin@example.com", "cus_Erin", "0", "starter"),
    (6, "alice+2@example.com", "cus_Alice", "false", None),
    (7, "nobody@example.com", None, "TRUE", None),
]


def app_table(mirror: Mirror, flag_type: str) -> None:
    mirror.run(
        f"CREATE TABLE public.users (id integer PRIMARY KEY, email text, "
        f"stripe_customer_id text, has_paid_access {flag_type}, plan text)"
    )
    for row in ACCOUNTS:
        flag = row[3] if flag_type == "text" else row[3].lower() in ("true", "yes", "1")
        mirror.run("INSERT INTO public.users VALUES (%s, %s, %s, %s, %s)", [*row[:3], flag, row[4]])


def config(url: str) -> Config:
    return load_config(None).model_copy(
        update={
            "app": AppConfig(source=url, table="public.users"),
            "billing": BillingConfig(sources=[url]),
        }
    )


def both(url: str) -> tuple[Report, Report]:
    in_process = check(billing=url, app=url, as_of=AS_OF, app_table="public.users")
    settings = config(url)
    pushed = pushdown.run(
        resolve(url), settings.app, settings.billing, from_config(settings), AS_OF
    )
    return in_process, pushed


Layout = Callable[[Mirror], None]


@pytest.mark.parametrize("flag_type", ["boolean", "text"])
@pytest.mark.parametrize("layout", [sync_engine, dj_stripe], ids=["sync-engine", "dj-stripe"])
def test_pushed_down_findings_equal_in_process_findings(
    mirror: Mirror, layout: Layout, flag_type: str
) -> None:
    layout(mirror)
    app_table(mirror, flag_type)
    in_process, pushed = both(mirror.url)
    kinds = {finding.kind.value for finding in in_process.findings}
    assert {"paid_but_blocked", "unpaid_but_active", "stale_billing_link"} <= kinds
    assert any(finding.exposure for finding in in_process.findings)
    assert pushed.findings == in_process.findings
    assert pushed.counts == in_process.counts
    assert pushed.classification == in_process.classification
    assert pushed.matched_by == in_process.matched_by
    assert pushed.verdict is in_process.verdict


def test_rows_an_in_process_run_would_skip_are_an_error_not_a_different_verdict(
    mirror: Mirror,
) -> None:
    sync_engine(mirror)
    app_table(mirror, "text")
    mirror.run("UPDATE public.users SET has_paid_access = 'maybe' WHERE id = 2")
    settings = config(mirror.url)
    with pytest.raises(SourceError, match="1 app rows with an access flag no spelling matches"):
        pushdown.run(
            resolve(mirror.url), settings.app, settings.billing, from_config(settings), AS_OF
        )


def test_several_discounts_on_one_subscription_are_refused_not_combined_differently(
    mirror: Mirror,
) -> None:
    stacked = dict(mirror_tests.SUBSCRIPTIONS[0])
    stacked["discounts"] = [
        {"id": "di_a", "object": "discount", "coupon": {"id": "TEN", "percent_off": 10}},
        {"id": "di_b", "object": "discount", "coupon": {"id": "FIVE", "percent_off": 5}},
    ]
    dj_stripe(mirror, [stacked, *mirror_tests.SUBSCRIPTIONS[1:]])
    app_table(mirror, "boolean")
    settings = config(mirror.url)
    with pytest.raises(SourceError, match="1 subscriptions with several discounts"):
        pushdown.run(
            resolve(mirror.url), settings.app, settings.billing, from_config(settings), AS_OF
        )


def test_one_discount_given_twice_counts_once_as_in_process(mirror: Mirror) -> None:
    """The legacy `discount` repeats one of `discounts`: one discount, read the same."""
    repeated = dict(mirror_tests.SUBSCRIPTIONS[0])
    repeated["discounts"] = [repeated["discount"]]
    dj_stripe(mirror, [repeated, *mirror_tests.SUBSCRIPTIONS[1:]])
    app_table(mirror, "boolean")
    in_process, pushed = both(mirror.url)
    assert pushed.findings == in_process.findings
