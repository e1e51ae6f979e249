"""Stripe's ``livemode`` decides where a customer's dashboard link goes.

A JSON export or a mirror keeps each object's ``livemode``; when every subscription
read says false, the source's description says "test mode" and the links go to
``dashboard.stripe.com/test/...``; when they say true, or say nothing (a CSV export,
an export without the field), the live form is used. The API source knows its
mode from its key (tests/sources/billing/test_stripe_api.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from billdrift.config import BillingConfig
from billdrift.core.model import BillingData
from billdrift.core.report import SourceInfo
from billdrift.outputs.links import dashboard_url, mode_of
from billdrift.sources.registry import open_billing

TEST_LINK = "https://dashboard.stripe.com/test/customers/cus_1"
LIVE_LINK = "https://dashboard.stripe.com/customers/cus_1"


def export(tmp_path: Path, *livemodes: bool | None) -> BillingData:
    """A Stripe JSON export of one subscription per value (None: no livemode field)."""
    records = []
    for index, livemode in enumerate(livemodes, 1):
        record = {"id": f"sub_{index}", "object": "subscription", "customer": f"cus_{index}"}
        record |= {"status": "active"} | ({} if livemode is None else {"livemode": livemode})
        records.append(record)
    path = tmp_path / "subs.json"
    path.write_text(json.dumps({"object": "list", "data": records}), "utf-8")
    return open_billing(str(path), BillingConfig()).read()


def link(data: BillingData) -> str | None:
    """The dashboard link of cus_1 in an alert about a run that read `data`."""
    return dashboard_url("cus_1", "stripe", mode_of([SourceInfo("billing", data.description)]))


def test_a_test_mode_export_links_to_the_test_dashboard(tmp_path: Path) -> None:
    data = export(tmp_path, False, False)
    assert data.description == "stripe-json subs.json: 2 subscriptions (test mode)"
    assert link(data) == TEST_LINK


def test_a_live_mode_export_links_to_the_live_dashboard(tmp_path: Path) -> None:
    data = export(tmp_path, True)
    assert data.description == "stripe-json subs.json: 1 subscription (live mode)"
    assert link(data) == LIVE_LINK


def test_an_export_without_livemode_links_to_the_live_dashboard(tmp_path: Path) -> None:
    data = export(tmp_path, None, None)
    assert data.description == "stripe-json subs.json: 2 subscriptions"
    assert link(data) == LIVE_LINK
    assert data.notes == ()


@pytest.mark.parametrize("livemodes", [(True, False), (False, None, True)])
def test_an_export_mixing_modes_uses_the_live_form_and_says_why(
    tmp_path: Path, livemodes: tuple[bool | None, ...]
) -> None:
    data = export(tmp_path, *livemodes)
    assert "mode)" not in data.description
    assert link(data) == LIVE_LINK
    (note,) = data.notes
    assert "1 live-mode and 1 test-mode subscription(s)" in note
    assert "dashboard links use the live form" in note


def test_a_test_mode_export_beside_one_without_livemode_is_of_unknown_mode(
    tmp_path: Path,
) -> None:
    """Links are per run, not per source: two sources not agreeing give the live form."""
    test = export(tmp_path, False)
    unknown = export(tmp_path, None)
    sources = [SourceInfo("billing", data.description) for data in (test, unknown)]
    assert dashboard_url("cus_1", "stripe", mode_of(sources)) == LIVE_LINK
