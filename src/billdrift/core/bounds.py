"""What billdrift accepts as a number in billing data, so money stays a finite number.

Every billing source (files, APIs, mirrors) checks its amounts, quantities, billing
interval counts and discounts against these bounds and skips a row whose value is
outside them, naming the field. Far beyond any real price, they are chosen so that
nothing downstream can overflow: a 64-bit integer column, the yearly scaling of an
interval count (``12 * interval_count``), a monthly value in a double, or the
decimal text of the money at stake. Without them, 2**63 seats or a ``percent_off``
of -1e308 ended a run with an internal error, and a ``percent_off`` of NaN wrote
"NaN" into the report as money.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Bound:
    """An inclusive range of acceptable values and how messages name it."""

    low: float
    high: float
    what: str  # "a whole number from 0 to 1,000,000,000"

    def holds(self, value: float) -> bool:
        """False for NaN and infinities as well as for values out of range (integers of
        any size compare exactly: no float conversion that could overflow)."""
        if isinstance(value, float) and not math.isfinite(value):
            return False
        return self.low <= value <= self.high

    def problem(self, value: object) -> str:
        shown = repr(value)
        if len(shown) > 40:
            shown = f"{shown[:40]}... ({len(shown)} characters)"
        return f"expected {self.what}, got {shown}"


#: Unit prices and amount-off discounts, in minor units (10**12 cents is ten billion
#: dollars): also the largest a double holds to well within a thousandth.
MAX_MINOR = 10**12
UNIT_AMOUNT = Bound(-MAX_MINOR, MAX_MINOR, "an amount in minor units within ±10**12")
AMOUNT_OFF = Bound(0, MAX_MINOR, "an amount in minor units from 0 to 10**12")
QUANTITY = Bound(0, 10**9, "a whole number from 0 to 10**9")
#: Providers bill at most every few years (Stripe: 3 years, 36 months, 156 weeks).
INTERVAL_COUNT = Bound(1, 10_000, "a whole number from 1 to 10000")
PERCENT_OFF = Bound(0, 100, "a percentage from 0 to 100")
