"""The Stripe API key: what kind it is, where it comes from, what it may not read.

Apart from the source that uses it because both the full fetch
(:mod:`billdrift.sources.billing.stripe_api`) and the snapshot it keeps
(:mod:`billdrift.sources.billing.stripe_snapshot`, whose directory is named after
the key's hash) need to know the key, and neither should import the other for it.
The key itself is never shown: messages name the environment variable and the
kind of key, judged from its prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from billdrift.config import StripeApiConfig
from billdrift.errors import ConfigError, SourceError
from billdrift.infra.api.client import ApiError
from billdrift.infra.api.keys import key_from_env

_PERMISSION = re.compile(r"\brak_[a-z_]+\b")


@dataclass(frozen=True)
class StripeKey:
    """What a key is, judged from its prefix (the key itself is never shown)."""

    value: str
    env_name: str

    @property
    def restricted(self) -> bool:
        return self.value.startswith("rk_")

    @property
    def live(self) -> bool:
        return "_live_" in self.value[:8]

    @property
    def mode(self) -> str:
        return "live mode" if self.live else "test mode"

    @property
    def kind(self) -> str:
        return "restricted key" if self.restricted else "secret key"


def stripe_key(options: StripeApiConfig, environ: dict[str, str] | None = None) -> StripeKey:
    found = key_from_env(options.api_key_env, environ)
    if found is not None:
        name, value = found
        if not value.startswith(("sk_", "rk_")):
            raise ConfigError(
                f"{name} does not hold a Stripe API key (expected rk_live_..., rk_test_..., "
                "sk_live_... or sk_test_...)"
            )
        return StripeKey(value, name)
    names = " or ".join(options.api_key_env)
    raise ConfigError(
        f"--billing stripe needs an API key in {names}: a restricted key (rk_...) with Read "
        "permission on Subscriptions, Customers and Events is enough, and safer than a secret key"
    )


def key_notes(key: StripeKey) -> list[str]:
    if key.restricted:
        return []
    return [
        f"{key.env_name} holds a secret key ({key.mode}), which can change the account; "
        "billdrift only reads, so a restricted key with Read on Subscriptions, Customers, "
        "Events (and Entitlements if used) is enough: Dashboard > Developers > API keys > "
        "Create restricted key"
    ]


def permission_error(error: ApiError, key: StripeKey, what: str) -> SourceError:
    """A SourceError that names the missing permission and how to grant it."""
    found = _PERMISSION.search(str(error))
    if error.status == 401:
        return SourceError(
            f"Stripe rejected the API key in {key.env_name} (HTTP 401) while reading {what}: "
            "check that it is current and complete"
        )
    if error.status == 403 or found:
        permission = found.group(0) if found else "a read permission"
        return SourceError(
            f"the {key.kind} in {key.env_name} lacks {permission}, needed to read {what}: in "
            "the Stripe Dashboard (Developers > API keys), edit the restricted key and set "
            f"that resource to Read"
        )
    return SourceError(f"reading {what} from Stripe failed: {error}")
