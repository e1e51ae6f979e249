"""Findings, configs and app tables for the fix tests, built the way a check reports them."""

from __future__ import annotations

from typing import Any

from billdrift.config import Config, parse_config
from billdrift.core.model import Finding, Kind, Severity
from billdrift.history.fingerprint import fingerprint_of
from billdrift.usecases.fix.decide import Selected

COLUMNS = {"account_id": "id", "customer_id": "stripe_customer_id", "plan": "plan"}


def config(table: str = "users", **app: Any) -> Config:
    return parse_config(
        {
            "plans": {"price_pro": "pro", "price_basic": "basic"},
            "app": {
                "table": table,
                "access_fields": ["has_paid_access"],
                "status_fields": ["subscription_status"],
                "columns": COLUMNS,
                **app,
            },
        }
    )


def finding(
    kind: Kind,
    account: str | None,
    customer: str | None = "cus_1",
    *,
    flag: str | None = "0",
    status: str | None = "active",
    plan: str | None = "pro",
    billing_status: str = "active",
    entitles: bool | None = True,
    confidence: float = 1.0,
    expected_plans: list[str] | None = None,
) -> Finding:
    app: dict[str, Any] = {
        "access": flag == "1",
        "fields": {"has_paid_access": flag, "subscription_status": status},
        "plan": plan,
    }
    if customer is not None:
        app["customer_id"] = customer
    evidence: dict[str, Any] = {
        "billing": {"status": billing_status, "entitles": entitles},
        "app": app,
        "match": {"method": "customer_id", "confidence": confidence},
    }
    if expected_plans is not None:
        evidence["expected_plans"] = expected_plans
    return Finding(
        kind=kind,
        severity=Severity.HIGH,
        confidence=confidence,
        account_id=account,
        customer_id=customer,
        subscription_id=f"sub_{account}",
        exposure=None,
        message=f"{kind.value} for account {account}",
        fix="",
        evidence=evidence,
    )


def selected(item: Finding, explicit: bool = False, review: str | None = None) -> Selected:
    fp = fingerprint_of(item.kind, item.account_id, item.customer_id, item.subscription_id)
    return Selected(fp, item, review, explicit)
