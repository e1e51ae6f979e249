"""The app contradicting itself: several access fields that gate different code paths."""

from __future__ import annotations

from billdrift.core.model import Kind
from billdrift.core.rules.base import Rule
from billdrift.core.rules.evidence import ACCOUNT_EVIDENCE, FIELDS
from billdrift.core.rules.wording import Template, ident

APP_FIELDS_DISAGREE_SQL = """
SELECT d.*, 'medium' AS severity, 1.0 AS confidence, d.matched_customer_id AS customer_id
FROM account_detail d
JOIN access_disagreements x ON x.account_id = d.account_id
"""


_MESSAGE: Template = (
    "Account ",
    ident("account_id"),
    "'s access fields contradict each other: ",
    *FIELDS,
    ".",
)

_FIX: Template = (
    "Make every access field follow one source of truth (ideally derived from the "
    "subscription status) and repair this row.",
)


RULES = (
    Rule(
        Kind.APP_FIELDS_DISAGREE,
        "The app's own access fields disagree (an access flag granting while a status "
        "column says canceled, or the reverse).",
        APP_FIELDS_DISAGREE_SQL,
        reads=("account_detail", "access_disagreements"),
        message=_MESSAGE,
        fix=_FIX,
        evidence=ACCOUNT_EVIDENCE,
        exposure=False,
    ),
)
