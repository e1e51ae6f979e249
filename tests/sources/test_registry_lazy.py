"""The sources chosen by name or URL alone (provider APIs, the Stripe mirror, app
databases) are imported only when chosen: a check of local files, the common small
run, does not pay for their HTTP clients, retry policies and database drivers."""

from __future__ import annotations

import subprocess
import sys

#: Modules a check of files must not load (each pulled in by one named source).
_NAMED_ONLY = (
    "billdrift.sources.billing.stripe_api",
    "billdrift.sources.billing.paddle_api",
    "billdrift.sources.billing.stripe_mirror",
    "billdrift.sources.app.database",
    "tenacity",
)

_PROBE = """
import sys
from billdrift.usecases.check import check
from billdrift.usecases.demo import DEMO_AS_OF, demo_paths
paths = demo_paths()
check(billing=str(paths.billing), app=str(paths.app), config=paths.config, as_of=DEMO_AS_OF)
print(" ".join(name for name in {names!r} if name in sys.modules) or "-")
from billdrift.config import AppConfig, BillingConfig
from billdrift.sources.registry import open_app, open_billing
print(type(open_billing("stripe", BillingConfig())).__name__)
print(type(open_billing("postgresql://u@127.0.0.1/db", BillingConfig())).__name__)
print(type(open_app("postgresql://u@127.0.0.1/db", AppConfig())).__name__)
print(type(open_billing("paddle:paddle", BillingConfig())).__name__)
"""


def test_named_sources_are_imported_only_when_chosen() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(names=_NAMED_ONLY)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out == [
        "-",
        "StripeApiSource",
        "StripeMirrorSource",
        "DatabaseAppSource",
        "PaddleApiSource",
    ]
