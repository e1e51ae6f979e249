"""The policy object: what the core reads from configuration, copied out in one place."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from billdrift.config import parse_config
from billdrift.core.model import Kind, Severity
from billdrift.core.policy import Exemption, StatusDecision, from_config


def test_from_config_copies_every_setting_the_core_reads() -> None:
    config = parse_config(
        {
            "policy": {
                "grace_days": 3,
                "statuses": {"acme": {"entitled": ["Live"], "not_entitled": ["gone", "over"]}},
                "app_granting_statuses": ["paid"],
                "free_plans": ["gratis"],
                "internal_email_patterns": ["*@acme.test"],
                "internal_roles": ["owner"],
                "team_billing": True,
                "partial_min_links": 5,
                "partial_max_missing_ratio": 0.25,
                "max_skipped_ratio": 0.5,
            },
            "plans": {"price_b": "basic", "price_a": "pro"},
            "exceptions": [
                {"account": "a1", "kind": "unpaid_but_active", "reason": "comped"},
                {"customer": "cus_1", "reason": "contract", "expires": "2027-01-01"},
            ],
            "output": {"fail_on": "medium"},
        }
    )
    policy = from_config(config)
    assert policy.grace_days == 3
    assert policy.statuses[-3:] == (
        StatusDecision("acme", "Live", "entitled"),
        StatusDecision("acme", "gone", "not_entitled"),
        StatusDecision("acme", "over", "not_entitled"),
    )
    # the default providers are still there, merged by the configuration
    assert StatusDecision("stripe", "past_due", "grace") in policy.statuses
    assert policy.app_granting_statuses == ("paid",)
    assert policy.free_plans == ("gratis",)
    assert policy.internal_email_patterns == ("*@acme.test",)
    assert policy.internal_roles == ("owner",)
    assert policy.team_billing is True
    assert policy.partial_min_links == 5
    assert policy.partial_max_missing_ratio == 0.25
    assert policy.max_skipped_ratio == 0.5
    assert policy.plans == (("price_b", "basic"), ("price_a", "pro"))
    assert policy.exceptions == (
        Exemption("a1", None, Kind.UNPAID_BUT_ACTIVE, "comped", None),
        Exemption(None, "cus_1", None, "contract", datetime(2027, 1, 1, tzinfo=UTC)),
    )
    assert policy.fail_on is Severity.MEDIUM


def test_policy_is_immutable_and_hashable() -> None:
    policy = from_config(parse_config({}))
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.grace_days = 1  # type: ignore[misc]
    assert hash(policy) == hash(from_config(parse_config({})))
