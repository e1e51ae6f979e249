"""The money and data-quality sections every human-readable format shows.

Founders read exposure as "what is this worth a year", and trust a report
only once they see how it read the data. So each format (text, markdown, HTML)
shows, from the same lines built here: the monthly and annualized (x12, exact
decimal, minor units kept) amount at stake per currency and per kind, how the
accounts were matched (customer id, subscription id, exact email, normalized
email, unmatched), the rows skipped per source and the app columns read. Kept
apart from the renderers so their own layout can change without touching it.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from billdrift.core.report import Report, annualized

#: How a match method reads in a sentence.
METHOD_WORDS = {
    "customer_id": "by customer id",
    "subscription_id": "by subscription id",
    "email": "by exact email",
    "normalized_email": "by normalized email",
    "unmatched": "unmatched",
}


class Section(NamedTuple):
    """One section as every format shows it: an anchor (HTML's id), a title, its lines."""

    anchor: str
    title: str
    lines: list[str]


def sections(report: Report) -> list[Section]:
    """The sections in order: money at stake when there is any, and data quality unless
    the run failed (with nothing read, its counts would say "none skipped")."""
    shown = []
    money = money_lines(report)
    if money:
        shown.append(Section("money", "Money at stake (monthly, and annualized x12)", money))
    if not report.errors:
        shown.append(Section("quality", "Data quality", quality_lines(report)))
    return shown


def _per_month_and_year(totals: dict[str, str]) -> str:
    yearly = annualized(totals)
    return "; ".join(
        f"{currency} {amount}/month = {yearly[currency]}/year"
        for currency, amount in totals.items()
    )


def money_lines(report: Report) -> list[str]:
    """Exposure per currency, then per kind: monthly and annualized. Empty without any."""
    totals = report.exposure_by_currency
    if not totals:
        return []
    lines = [f"total: {_per_month_and_year(totals)}"]
    for kind, amounts in report.exposure_by_kind.items():
        lines.append(f"{kind}: {_per_month_and_year(amounts)}")
    return lines


def quality_lines(report: Report) -> list[str]:
    """How accounts matched, rows skipped per source, app columns read."""
    lines = []
    if report.matched_by:
        counts = ", ".join(
            f"{n:,} {METHOD_WORDS.get(method, method)}" for method, n in report.matched_by.items()
        )
        lines.append(f"accounts matched: {counts}")
    skipped = Counter(f"{skip.side} {skip.source}" for skip in report.skips)
    lines.append(
        "rows skipped: "
        + (", ".join(f"{n:,} in {where}" for where, n in sorted(skipped.items())) or "none")
    )
    lines += [f"columns read ({source}): {columns}" for source, columns in report.columns]
    return lines
