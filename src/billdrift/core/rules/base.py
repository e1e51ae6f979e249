"""What a rule is: a kind, a SQL query over the derived relations, and its words.

The query does the deciding (which rows, what severity, what confidence) so it
can run in-process or be pushed down; the message, fix and evidence are declared
as data (:mod:`billdrift.core.rules.wording`, :mod:`billdrift.core.rules.shape`) and
only word each already decided row: in SQL for all reported rows at once, or in
Python for one row (:meth:`Rule.build`, a :class:`~billdrift.core.model.Finding`).
Every rule query returns at least ``account_id``, ``customer_id``,
``subscription_id``, ``severity`` and ``confidence``; the engine adds money and
evidence strings for the rows it reports. A rule declares the relations its query
reads, as a stage does (:mod:`billdrift.core.pipeline`), and the engine runs it
after them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from billdrift.core.currency import minor_exponent
from billdrift.core.model import Exposure, Finding, Kind, Severity, built_finding
from billdrift.core.policy import Policy
from billdrift.core.rules.shape import Group, evidence_of
from billdrift.core.rules.wording import Template, to_words
from billdrift.core.words import Words, render

Row = Mapping[str, Any]


@dataclass(frozen=True)
class RuleContext:
    """What decides whether a rule can run at all (not how it classifies rows)."""

    policy: Policy
    app_mapping: Mapping[str, Any]


def always(context: RuleContext) -> bool:
    return True


@dataclass(frozen=True)
class Rule:
    kind: Kind
    summary: str  # one line for docs and `--help`
    query: str
    #: Every relation `query` reads: stages, inputs, policy relations.
    reads: tuple[str, ...] = field(kw_only=True)
    #: What the finding says, and what to do about it, worded from the row's columns.
    message: Template = field(kw_only=True)
    fix: Template = field(kw_only=True)
    #: What the findings' evidence holds, computed in SQL over all reported rows
    #: in-process (:mod:`billdrift.core.rules.shape`); :meth:`build` words the same rows.
    evidence: Group = field(kw_only=True)
    #: Whether the finding carries the subscription's monthly amount as money at stake.
    exposure: bool = True
    #: The column that tells the rule's findings apart, each row its own value: the
    #: account, or for a rule about customers no account holds, the customer. A
    #: severity's findings are listed in its natural order; the other ids only break
    #: ties a broken rule would leave (ordering by every id naturally cost a third of
    #: fetching the rows at 1M, issue 17).
    key: str = field(default="account_id", kw_only=True)
    #: False when the inputs or config cannot support the rule; the report says so.
    applies: Callable[[RuleContext], bool] = always
    not_applied_because: str = ""

    def build(self, row: Row) -> Finding:
        """One reported row as a finding, worded in Python (a pushed-down run's rows, and
        the finding objects a report makes only when asked for them)."""
        return finding(
            self.kind,
            row,
            to_words(self.message, row),
            to_words(self.fix, row),
            self.evidence,
        )


def exposure(row: Row) -> Exposure | None:
    """A row's monthly minor units as money at stake (see :func:`exposure_of`)."""
    return exposure_of(row.get("monthly_minor"), row.get("currency"))


@functools.lru_cache(maxsize=4096)
def exposure_of(amount: object, currency: object) -> Exposure | None:
    """Monthly minor units -> a decimal string in major units of that currency, or None
    when unknown. Cached: a book has few distinct prices, and Decimal arithmetic is the
    slow part of turning tens of thousands of rows into money."""
    if amount is None or currency is None or not math.isfinite(float(amount)):  # type: ignore[arg-type]
        return None  # unknown rather than "NaN" or "Infinity" as money
    if not isinstance(currency, str) or not _ISO_CURRENCY.fullmatch(currency):
        return None  # not an ISO 4217 code: whatever it is, it is not money to total
    return _money(float(amount), currency)  # type: ignore[arg-type]


_ISO_CURRENCY = re.compile("[A-Za-z]{3}")


def _money(amount: float, currency: str) -> Exposure:
    digits = minor_exponent(currency)
    with localcontext() as context:  # room for any finite double's digits: no InvalidOperation
        context.prec = _DOUBLE_DIGITS
        major = Decimal(repr(amount)) / (Decimal(10) ** digits)
        quantum = Decimal(1).scaleb(-digits)
        text = str(major.quantize(quantum, rounding=ROUND_HALF_EVEN))
    return Exposure(text, currency.upper())


#: Decimal digits of the largest double (about 1.8e308) and its minor units, with room.
_DOUBLE_DIGITS = 330


_SEVERITIES = {severity.label: severity for severity in Severity}


def finding(
    kind: Kind, row: Row, message_words: Words, fix_words: Words, evidence: Group
) -> Finding:
    """Assemble a finding from the common columns plus the rule's words (Words keep the
    ids and emails they name apart, for masking: see :mod:`billdrift.core.words`) and
    its evidence, of the rule's declared shape (keys with null values left out)."""
    return built_finding(
        kind,
        _SEVERITIES[row["severity"]],
        round(float(row["confidence"] or 0.0), 2),
        row.get("account_id"),
        row.get("customer_id"),
        row.get("subscription_id"),
        exposure(row),
        render(message_words),
        render(fix_words),
        evidence_of(evidence, row),
        message_words,
        fix_words,
    )
