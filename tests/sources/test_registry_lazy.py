"""The sources chosen by name or URL alone (provider APIs, the Stripe mirror, app
databases) are imported only when chosen: a check of local files, the common small
run, does not pay for their HTTP clients, retry policies and database drivers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from billdrift.sources.registry import SNIFFED_SOURCES, named_source
from tests.sources.test_read_sources import FIXTURES

_STRIPE_CSV = FIXTURES / "stripe_dashboard.csv"

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


#: What a check of two CSV files must not load: the JSON readers and the SQLite reader.
_CSV_CHECK = """
import sys
from billdrift.config import AppConfig, BillingConfig
from billdrift.sources.registry import read_sources
read_sources([sys.argv[1]], sys.argv[2], BillingConfig(), AppConfig())
print(" ".join(name for name in {names!r} if name in sys.modules) or "-")
"""


def test_a_check_of_csv_files_loads_no_json_or_sqlite_reader(tmp_path: Path) -> None:
    """The sources told by content are imported when the content is theirs: the
    JSON readers for content that opens a JSON object or array, the SQLite reader
    for a SQLite database (issue 17: start-up of the common small check)."""
    app = tmp_path / "app.csv"
    app.write_text("id,email,stripe_customer_id,has_paid_access\nacct_1,a@example.com,cus_1,t\n")
    names = (
        "billdrift.sources.billing.stripe_json",
        "billdrift.sources.billing.paddle_json",
        "billdrift.sources.app.sqlite",
    )
    out = subprocess.run(
        [sys.executable, "-c", _CSV_CHECK.format(names=names), str(_STRIPE_CSV), str(app)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "-\n"


def test_every_sniffed_kind_names_its_source() -> None:
    assert [named_source(kind).kind for kind in SNIFFED_SOURCES] == list(SNIFFED_SOURCES)
