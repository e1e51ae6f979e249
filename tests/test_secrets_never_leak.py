"""No secret ever reaches anything billdrift writes or prints.

A distinct secret is planted in every credential slot: database passwords holding
every character RFC 3986 reserves (``--app``, a mirror ``--billing`` URL and
``--history``), the Stripe and Paddle API keys, the Slack webhook URL, the webhook
signing secret and the SMTP password. Checks then run through the command line,
each way a run can go: every source read (a real PostgreSQL app database with
the planted password, the providers' APIs on local fakes accepting the planted
keys, a SQLite history store, alerts to closed ports), and each slot failing in
turn (closed ports on 127.0.0.1), a key pasted with a line break included. Each
run is repeated in every output format, to stdout (with ``--debug``) and to a
file. Every output, stderr, the history store file and the Stripe snapshot cache
are then searched for each secret.

Each secret carries an alphanumeric marker that no escaping or URL quoting
changes, so finding the marker finds the secret in any spelling; the SMTP
password is also searched in the base64 forms SMTP AUTH sends.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli
from tests.dbservers import PostgresServer
from tests.fakes.paddle_fake import FakePaddle
from tests.fakes.paddle_fake import make_customer as paddle_customer
from tests.fakes.paddle_fake import make_subscription as paddle_subscription
from tests.fakes.stripe_fake import FakeStripe, make_customer, make_subscription

FORMATS = ("text", "json", "markdown", "html", "csv")
#: Every character RFC 3986 reserves, unencoded in the password as users paste it.
RESERVED = ":/?#[]@!$&'()*+,;=%"
NOW = 1_790_000_000
AS_OF = "2026-09-22T00:00:00Z"

APP_PASSWORD = "AppPwQ7x" + RESERVED
MIRROR_PASSWORD = "MirPwQ7x" + RESERVED
HISTORY_PASSWORD = "HisPwQ7x" + RESERVED
STRIPE_KEY = "sk_test_51StrKeyQ7xLeakCheck000000000000"
PADDLE_KEY = "pdl_sdbx_apikey_01PadKeyQ7xLeakCheck_Secret0000"
SLACK_TOKEN = "SlackTokQ7xLeakCheck"
WEBHOOK_SECRET = "whsec_HookSecQ7xLeakCheck"
SMTP_PASSWORD = "SmtpPwQ7x leak check"

#: Secret -> the marker inside it that every spelling keeps.
MARKERS = {
    APP_PASSWORD: "AppPwQ7x",
    MIRROR_PASSWORD: "MirPwQ7x",
    HISTORY_PASSWORD: "HisPwQ7x",
    STRIPE_KEY: "StrKeyQ7x",
    PADDLE_KEY: "PadKeyQ7x",
    SLACK_TOKEN: "SlackTokQ7x",
    WEBHOOK_SECRET: "HookSecQ7x",
    SMTP_PASSWORD: "SmtpPwQ7x",
}
SMTP_USER = "billdrift"
#: The SMTP password as AUTH PLAIN and LOGIN put it on the wire.
SMTP_WIRE = [
    base64.b64encode(text.encode()).decode()
    for text in (f"\0{SMTP_USER}\0{SMTP_PASSWORD}", SMTP_PASSWORD)
]


def leaks(blob: str | bytes) -> list[str]:
    """The markers (and SMTP AUTH forms) found in `blob`."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    found = [marker for marker in MARKERS.values() if marker in text]
    return found + [wire for wire in SMTP_WIRE if wire in text]


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Setup:
    tmp: Path
    config: Path
    unreachable_apis: Path
    env: dict[str, str]
    csv_billing: Path
    csv_app: Path
    app_url: str

    @property
    def history_file(self) -> Path:
        return self.tmp / "history.sqlite"

    @property
    def cache(self) -> Path:
        return self.tmp / "cache"


@pytest.fixture
def fakes() -> Iterator[tuple[FakeStripe, FakePaddle]]:
    with (
        FakeStripe(keys={STRIPE_KEY: None}) as stripe,
        FakePaddle(keys={PADDLE_KEY: None}) as paddle,
    ):
        yield stripe, paddle


@pytest.fixture
def setup(
    tmp_path: Path, postgres_server: PostgresServer, fakes: tuple[FakeStripe, FakePaddle]
) -> Setup:
    stripe, paddle = fakes
    stripe.store.add_customers([make_customer("cus_1", "ann@example.com")])
    stripe.store.add_customers([make_customer("cus_2", "bob@example.com")])
    stripe.store.add_subscriptions(
        [
            make_subscription("sub_1", "cus_1", "active", NOW - 1000),
            make_subscription("sub_2", "cus_2", "canceled", NOW - 9000, ended_at=NOW - 500),
        ]
    )
    paddle.store.add_customer(paddle_customer("ctm_1", "cy@example.com"))
    paddle.store.add_subscription(paddle_subscription("sub_p1", "ctm_1", "active", NOW - 1000))

    # The app database: a role whose password holds every reserved character.
    quoted = APP_PASSWORD.replace("'", "''")
    postgres_server.execute("DROP TABLE IF EXISTS leak_accounts")
    postgres_server.execute("DROP ROLE IF EXISTS leak_reader")
    postgres_server.execute(f"CREATE ROLE leak_reader LOGIN PASSWORD '{quoted}'")
    postgres_server.execute(
        "CREATE TABLE leak_accounts (id text PRIMARY KEY, email text, "
        "stripe_customer_id text, has_paid_access boolean)"
    )
    postgres_server.execute(
        "INSERT INTO leak_accounts VALUES ('u1', 'ann@example.com', 'cus_1', false), "
        "('u2', 'bob@example.com', 'cus_2', true)"
    )
    postgres_server.execute("GRANT SELECT ON leak_accounts TO leak_reader")
    app_url = postgres_server.url_for("leak_reader", APP_PASSWORD, "testdb")

    csv_billing = tmp_path / "subscriptions.csv"
    csv_billing.write_text(
        "id,Customer ID,Customer Email,Status,Plan,Quantity,Currency,Interval,Amount,"
        "Current Period Start (UTC),Current Period End (UTC),Cancel At Period End\n"
        "sub_1,cus_1,ann@example.com,active,price_pro,1,usd,month,29.00,"
        "2026-09-01 00:00,2026-10-01 00:00,false\n",
        "utf-8",
    )
    csv_app = tmp_path / "users.csv"
    csv_app.write_text("id,email,stripe_customer_id,has_paid_access\nu1,ann@example.com,cus_1,f\n")

    alerts = (
        '[alerts]\nalert_on = "all"\nretries = 0\ntimeout_seconds = 2\n'
        '[alerts.slack]\nwebhook_env = "SLACK_WEBHOOK_URL"\n'
        f'[alerts.webhook]\nurl = "http://127.0.0.1:{closed_port()}/hook"\n'
        'secret_env = "BILLDRIFT_WEBHOOK_SECRET"\n'
        f'[alerts.email]\nhost = "127.0.0.1"\nport = {closed_port()}\nstarttls = false\n'
        f'username = "{SMTP_USER}"\npassword_env = "SMTP_PASSWORD"\n'
        'from = "billdrift@example.com"\nto = ["ops@example.com"]\n'
    )

    def config(name: str, stripe_base: str, paddle_base: str) -> Path:
        path = tmp_path / name
        path.write_text(
            f'[billing.stripe]\napi_base = "{stripe_base}"\n'
            f'snapshot_dir = "{tmp_path / "cache"}"\nretries = 0\n'
            f'[billing.paddle]\napi_base = "{paddle_base}"\nretries = 0\n' + alerts,
            "utf-8",
        )
        return path

    closed = f"http://127.0.0.1:{closed_port()}"
    return Setup(
        tmp=tmp_path,
        config=config("billdrift.toml", stripe.url, paddle.url),
        unreachable_apis=config("unreachable.toml", closed, closed),
        env={
            "STRIPE_API_KEY": STRIPE_KEY,
            "PADDLE_API_KEY": PADDLE_KEY,
            "SLACK_WEBHOOK_URL": f"http://127.0.0.1:{closed_port()}/services/T0/B0/{SLACK_TOKEN}",
            "BILLDRIFT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "SMTP_PASSWORD": SMTP_PASSWORD,
            "CI": "1",
        },
        csv_billing=csv_billing,
        csv_app=csv_app,
        app_url=app_url,
    )


@dataclass(frozen=True)
class Scenario:
    """One way a run goes: its arguments, environment changes and expected exit code."""

    args: tuple[str, ...]
    exit_code: int
    #: Text stderr must show, proving the run got where the scenario says.
    shows: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


def scenarios(s: Setup) -> dict[str, Scenario]:
    port = closed_port()
    csv = ("--billing", str(s.csv_billing), "--app", str(s.csv_app))
    history = ("--history", str(s.history_file))
    config = ("--config", str(s.config))
    return {
        "every source read, alerts failing": Scenario(
            ("--billing", "stripe", "--billing", "paddle", "--app", s.app_url,
             "--app-table", "leak_accounts", *history, *config),
            1,
            ("alert via slack: FAILED", "alert via webhook: FAILED", "alert via email: FAILED"),
        ),
        "app PostgreSQL unreachable": Scenario(
            ("--billing", str(s.csv_billing), *config,
             "--app", f"postgresql://app:{APP_PASSWORD}@127.0.0.1:{port}/app"),
            2,
            ("postgresql://app:***@127.0.0.1",),
        ),
        "app MariaDB unreachable": Scenario(
            ("--billing", str(s.csv_billing), *config,
             "--app", f"mysql://app:{APP_PASSWORD}@127.0.0.1:{port}/app"),
            2,
            ("mysql://app:***@127.0.0.1",),
        ),
        "mirror unreachable": Scenario(
            ("--billing", f"postgresql://mirror:{MIRROR_PASSWORD}@127.0.0.1:{port}/stripe",
             "--app", str(s.csv_app), *config),
            2,
            ("postgresql://mirror:***@127.0.0.1",),
        ),
        "history unreachable": Scenario(
            (*csv, *config, "--history", f"postgresql://hist:{HISTORY_PASSWORD}@127.0.0.1:{port}/h"),
            2,
            ("could not record the run",),
        ),
        "Stripe API unreachable": Scenario(
            ("--billing", "stripe", "--app", str(s.csv_app), "--config", str(s.unreachable_apis)),
            2,
            ("Stripe: cannot connect to 127.0.0.1",),
        ),
        "Paddle API unreachable": Scenario(
            ("--billing", "paddle", "--app", str(s.csv_app), "--config", str(s.unreachable_apis)),
            2,
            ("Paddle: cannot connect to 127.0.0.1",),
        ),
        "a key pasted with a line break": Scenario(
            ("--billing", "stripe", "--app", str(s.csv_app), *config),
            2,
            ("environment variable STRIPE_API_KEY holds a line break",),
            (("STRIPE_API_KEY", f"{STRIPE_KEY}\nsk_test_51SecondKeyQ7x"),),
        ),
    }  # fmt: skip


def cache_text(cache: Path) -> str:
    """Every file of the snapshot cache, Parquet decoded to its values."""
    parts = []
    for path in sorted(p for p in cache.rglob("*") if p.is_file()):
        parts.append(path.name)
        raw = path.read_bytes()
        parts.append(raw.decode("utf-8", "replace"))
        if path.suffix == ".parquet":
            parts.append(str(pq.read_table(path).to_pylist()))
    return "\n".join(parts)


def test_no_secret_reaches_any_output_stderr_history_or_cache(setup: Setup) -> None:
    found: dict[str, list[str]] = {}  # where -> the secrets seen there
    astray: list[tuple[str, int, str]] = []  # runs that did not go as their scenario says
    for name, scenario in scenarios(setup).items():
        env = {**setup.env, **dict(scenario.env)}
        for fmt in FORMATS:
            output = setup.tmp / f"report.{fmt}"
            output.unlink(missing_ok=True)
            base = ["check", "--as-of", AS_OF, *scenario.args, "--format", fmt]
            for extra in (["--debug"], ["--output", str(output)]):
                result = CliRunner().invoke(cli.main, base + extra, env=env)
                where = f"{name}, {fmt}, {' '.join(extra)}"
                for stream, text in (("stdout", result.stdout), ("stderr", result.stderr)):
                    if leaks(text):
                        found[f"{where}: {stream}"] = leaks(text)
                expected = all(shown in result.stderr for shown in scenario.shows)
                if result.exit_code != scenario.exit_code or not expected:
                    astray.append((where, result.exit_code, result.stderr))
            # An ERROR in text is said on stderr only; every other report is written.
            if not output.exists() and (fmt != "text" or scenario.exit_code != 2):
                astray.append((f"{name}, {fmt}", -1, "no report written"))
            if output.exists() and leaks(output.read_bytes()):
                found[f"{name}, {fmt}: {output.name}"] = leaks(output.read_bytes())
    assert setup.history_file.stat().st_size > 0  # the runs that recorded did record
    assert list(setup.cache.glob("stripe-*/meta.json"))  # and the Stripe snapshot was kept
    for label, blob in (
        ("history store", setup.history_file.read_bytes()),
        ("snapshot cache", cache_text(setup.cache)),
    ):
        if leaks(blob):
            found[label] = leaks(blob)
    assert found == {}
    assert astray == []
