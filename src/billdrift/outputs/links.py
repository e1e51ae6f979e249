"""Links to a billing customer in its provider's dashboard, for alerts and renderers.

URL forms (as Stripe and Paddle show them in the browser; not an API, so they may
change without notice):

* Stripe live: ``https://dashboard.stripe.com/customers/<cus_id>``
* Stripe test mode: ``https://dashboard.stripe.com/test/customers/<cus_id>``
* Paddle Billing live: ``https://vendors.paddle.com/customers-v2/<ctm_id>``
* Paddle sandbox: ``https://sandbox-vendors.paddle.com/customers-v2/<ctm_id>``

The provider is the finding's (its evidence), else told by the id's prefix
(``cus_`` Stripe, ``ctm_`` Paddle). Test mode or sandbox is known when the billing
source was the provider's API (its key says: ``sk_test_``/``rk_test_``, Paddle's
``_sdbx_``) or a Stripe JSON export or mirror whose subscriptions all carry the same
``livemode``; the source's description in the report records it. When it is unknown
(a CSV export, no ``livemode``, live and test mixed, sources disagreeing) the live
form is used: a test-mode customer then opens Stripe's "no such customer" page, from
which the test-mode toggle finds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from urllib.parse import quote

from billdrift.core.report import SourceInfo

Mode = Literal["live", "test"]

_BASES: dict[tuple[str, Mode], str] = {
    ("stripe", "live"): "https://dashboard.stripe.com/customers/",
    ("stripe", "test"): "https://dashboard.stripe.com/test/customers/",
    ("paddle", "live"): "https://vendors.paddle.com/customers-v2/",
    ("paddle", "test"): "https://sandbox-vendors.paddle.com/customers-v2/",
}
_PREFIXES = {"cus_": "stripe", "ctm_": "paddle"}


def provider_of(customer_id: str, provider: str | None = None) -> str | None:
    """'stripe' or 'paddle' (the finding's provider, else the id's prefix), or None."""
    if provider:
        return provider.lower()
    for prefix, name in _PREFIXES.items():
        if customer_id.startswith(prefix):
            return name
    return None


def dashboard_url(
    customer_id: str | None, provider: str | None = None, mode: Mode | None = None
) -> str | None:
    """The customer's page in the provider's dashboard, or None for a provider without
    a known URL form. `mode` None (unknown) gives the live form (see the module docstring)."""
    if not customer_id:
        return None
    name = provider_of(customer_id, provider)
    base = _BASES.get((name or "", mode or "live"))
    return None if base is None else base + quote(customer_id, safe="")


def mode_of(sources: Iterable[SourceInfo]) -> Mode | None:
    """Test or live, as the billing sources' descriptions record it; None when they do
    not say (files, mirrors) or disagree."""
    modes: set[Mode] = set()
    for source in sources:
        if source.side != "billing":
            continue
        text = source.description
        if "(test mode" in text or "(sandbox" in text:
            modes.add("test")
        elif "(live mode" in text or "(live" in text:
            modes.add("live")
        else:
            return None
    return modes.pop() if len(modes) == 1 else None
