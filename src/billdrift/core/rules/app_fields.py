"""The app contradicting itself: several access fields that gate different code paths."""

from __future__ import annotations

from billdrift.core.model import Finding, Kind
from billdrift.core.rules.base import Row, Rule, finding
from billdrift.core.rules.evidence import ACCOUNT_EVIDENCE, fields_text
from billdrift.core.words import ident, words

APP_FIELDS_DISAGREE_SQL = """
SELECT d.*, 'medium' AS severity, 1.0 AS confidence, d.matched_customer_id AS customer_id
FROM account_detail d
JOIN access_disagreements x ON x.account_id = d.account_id
"""


def _app_fields_disagree(row: Row) -> Finding:
    return finding(
        Kind.APP_FIELDS_DISAGREE,
        row,
        words(
            "Account ",
            ident(row["account_id"]),
            f"'s access fields contradict each other: {fields_text(row)}.",
        ),
        "Make every access field follow one source of truth (ideally derived from the "
        "subscription status) and repair this row.",
        ACCOUNT_EVIDENCE,
    )


RULES = (
    Rule(
        Kind.APP_FIELDS_DISAGREE,
        "The app's own access fields disagree (an access flag granting while a status "
        "column says canceled, or the reverse).",
        APP_FIELDS_DISAGREE_SQL,
        _app_fields_disagree,
        reads=("account_detail", "access_disagreements"),
        evidence=ACCOUNT_EVIDENCE,
        exposure=False,
    ),
)
