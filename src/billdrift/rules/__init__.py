"""Every rule, registered in one place, in the order findings are reported."""

from __future__ import annotations

from billdrift.rules import access, app_fields, links, plans
from billdrift.rules.base import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (*access.RULES, *plans.RULES, *links.RULES, *app_fields.RULES),
        key=lambda rule: list(rule.kind.__class__).index(rule.kind),
    )
)
