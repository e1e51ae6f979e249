"""Currency facts needed to turn minor units into money.

Stripe and Paddle send amounts in the currency's smallest unit. Most currencies
have two decimals; the zero-decimal ones (JPY, KRW, ...) have none and the
three-decimal ones (BHD, KWD, ...) have three. Getting this wrong is a 100x error.
"""

from __future__ import annotations

ZERO_DECIMAL: frozenset[str] = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)
THREE_DECIMAL: frozenset[str] = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def minor_exponent(currency: str | None) -> int:
    """Number of decimals of a currency's minor unit (2 when unknown or missing)."""
    code = (currency or "").strip().lower()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2
