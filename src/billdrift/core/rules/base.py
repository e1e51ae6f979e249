"""What a rule is: a kind, a SQL query over the derived relations, and a builder.

The query does the deciding (which rows, what severity, what confidence) so it
can run in-process or be pushed down; the builder only turns each already
decided row into a :class:`~billdrift.core.model.Finding` with words a human reads.
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
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

from billdrift.core.currency import minor_exponent
from billdrift.core.model import Exposure, Finding, Kind, Severity, built_finding
from billdrift.core.policy import Policy
from billdrift.core.rules.shape import Group, evidence_of
from billdrift.core.words import Words, render, words

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
    build: Callable[[Row], Finding]
    #: Every relation `query` reads: stages, inputs, policy relations.
    reads: tuple[str, ...] = field(kw_only=True)
    #: What the findings' evidence holds, computed in SQL over all reported rows
    #: in-process (:mod:`billdrift.core.rules.shape`); `build` words the same rows.
    evidence: Group = field(kw_only=True)
    #: Whether the finding carries the subscription's monthly amount as money at stake.
    exposure: bool = True
    #: False when the inputs or config cannot support the rule; the report says so.
    applies: Callable[[RuleContext], bool] = always
    not_applied_because: str = ""


def exposure(row: Row) -> Exposure | None:
    """Monthly minor units -> a decimal string in major units of that currency."""
    amount, currency = row.get("monthly_minor"), row.get("currency")
    if amount is None or currency is None or not math.isfinite(float(amount)):
        return None  # unknown rather than "NaN" or "Infinity" as money
    if not _ISO_CURRENCY.fullmatch(currency):
        return None  # not an ISO 4217 code: whatever it is, it is not money to total
    return _money(float(amount), currency)


_ISO_CURRENCY = re.compile("[A-Za-z]{3}")


@functools.lru_cache(maxsize=4096)
def _money(amount: float, currency: str) -> Exposure:
    """Cached: a book has few distinct prices, and Decimal arithmetic is the slow part
    of turning tens of thousands of rows into findings."""
    digits = minor_exponent(currency)
    with localcontext() as context:  # room for any finite double's digits: no InvalidOperation
        context.prec = _DOUBLE_DIGITS
        major = Decimal(repr(amount)) / (Decimal(10) ** digits)
        quantum = Decimal(1).scaleb(-digits)
        text = str(major.quantize(quantum, rounding=ROUND_HALF_EVEN))
    return Exposure(text, currency.upper())


#: Decimal digits of the largest double (about 1.8e308) and its minor units, with room.
_DOUBLE_DIGITS = 330


def when(value: object) -> str | None:
    """An ISO-8601 UTC instant for evidence, or None. The engine already hands
    timestamps over as such strings; datetimes are accepted for other callers."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def sentence(text: str) -> str:
    """`text` with its first character upper-cased and nothing else touched.

    Messages quote data (account ids, field values) verbatim; ``str.capitalize()``
    lower-cases everything after the first letter, and so printed an account id
    ``=HYPERLINK(...)`` as ``=hyperlink(...)``. A message must never alter what it quotes.
    """
    return text[:1].upper() + text[1:]


_SEVERITIES = {severity.label: severity for severity in Severity}


def finding(
    kind: Kind, row: Row, message: str | Words, fix: str | Words, evidence: Group
) -> Finding:
    """Assemble a finding from the common columns plus the rule's words (Words keep the
    ids and emails they name apart, for masking: see :mod:`billdrift.core.words`) and
    its evidence, of the rule's declared shape (keys with null values left out)."""
    # Builders pass Words made by words() (flat already) or plain text.
    message_words = message if isinstance(message, tuple) else words(message)
    fix_words = fix if isinstance(fix, tuple) else words(fix)
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
