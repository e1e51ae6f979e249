"""Every rule, registered in one place, in the order findings are reported."""

from __future__ import annotations

from billdrift.core.model import KIND_ORDER
from billdrift.core.rules import access, app_fields, links, plans
from billdrift.core.rules.base import Rule

ALL_RULES: tuple[Rule, ...] = tuple(
    sorted(
        (*access.RULES, *plans.RULES, *links.RULES, *app_fields.RULES),
        key=lambda rule: KIND_ORDER.index(rule.kind),
    )
)
