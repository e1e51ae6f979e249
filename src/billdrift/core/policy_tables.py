"""The policy turned into small relations, so policy joins like data.

Rules never read the policy object: they join these tables. That keeps each
rule one SQL statement that a warehouse can run as well as the embedded engine.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pyarrow as pa

from billdrift.core.model import TS
from billdrift.core.policy import Policy
from billdrift.core.sql import sql


def _glob_to_like(pattern: str) -> str:
    """A glob (``*``, ``?``) as a LIKE pattern whose ``_``, ``%`` and ``\\`` are literal,
    escaped with ``\\``: the stage that uses it says ``ESCAPE '\\'`` (DuckDB has no
    default escape character, so without it ``\\_`` matched a backslash and any one)."""
    escaped = pattern.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def policy_tables(policy: Policy, as_of: datetime) -> dict[str, pa.Table]:
    status_rows = [(s.provider, s.status.strip().lower(), s.decision) for s in policy.statuses]
    exceptions = policy.exceptions
    return {
        "params": pa.table(
            {
                "as_of": pa.array([as_of], TS),
                "grace_days": pa.array([policy.grace_days], pa.int32()),
            }
        ),
        "status_policy": pa.table(
            {
                "provider": pa.array([row[0] for row in status_rows], pa.string()),
                "status": pa.array([row[1] for row in status_rows], pa.string()),
                "decision": pa.array([row[2] for row in status_rows], pa.string()),
            }
        ),
        "plan_map": pa.table(
            {
                "key": pa.array([key for key, _ in policy.plans], pa.string()),
                "plan": pa.array([plan for _, plan in policy.plans], pa.string()),
            }
        ),
        "app_granting_statuses": _column("status", policy.app_granting_statuses),
        "internal_email_patterns": _column(
            "like_pattern", [_glob_to_like(p) for p in policy.internal_email_patterns]
        ),
        "internal_roles": _column("role", policy.internal_roles),
        "free_plans": _column("plan", policy.free_plans),
        "exceptions": pa.table(
            {
                "account": pa.array([e.account for e in exceptions], pa.string()),
                "customer": pa.array([e.customer for e in exceptions], pa.string()),
                "kind": pa.array(
                    [e.kind.value if e.kind else None for e in exceptions], pa.string()
                ),
                "reason": pa.array([e.reason for e in exceptions], pa.string()),
                "expires": pa.array([e.expires for e in exceptions], TS),
            }
        ),
    }


def _column(name: str, values: Iterable[str]) -> pa.Table:
    return pa.table({name: pa.array([v.strip().lower() for v in values], pa.string())})


def grace_until(start: str) -> str:
    """When the grace window of a subscription whose period started at `start` ends
    (``params`` as ``p``): the one definition that entitlement, its reason and the
    reported rows' evidence and words share."""
    return sql("{start} + p.grace_days * INTERVAL '1 day'", start=start)
