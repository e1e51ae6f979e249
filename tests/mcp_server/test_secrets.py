"""No secret from the server's environment reaches an agent: not in a result, not in a
tool error, not in the server's log.

Planted: the Stripe and Paddle keys, an app database URL with a password (its
server down), an alert webhook secret and a variable of the user's own whose name
says it is a token. Each carries a marker no escaping changes. Every tool is
called over a real session, in set-ups where the sources fail; one set-up fails
with an error that names a secret itself (a restricted key the environment does
not hold, pasted into the config as a billing source: "billing file not found:
rk_live_..."), which only the scrubber's key shapes mask."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from billdrift.infra.secrets import Scrubber
from billdrift.mcp_server.guard import scrubber_for
from tests.mcp_server.helpers import Agent, sample_dir, session
from tests.test_secrets_never_leak import closed_port

STRIPE_KEY = "sk_test_51StrKeyQ7xMcpLeak000000000000"
PADDLE_KEY = "pdl_sdbx_apikey_01PadKeyQ7xMcpLeak_Secret0000"
APP_PASSWORD = "AppPwQ7x:/?#[]@!$&'()*+,;=%"
HOOK_SECRET = "whsec_HookSecQ7xMcpLeak"
OWN_TOKEN = "OwnTokQ7x-mcp-leak-token"
PASTED_KEY = "rk_live_51PastedQ7xMcpLeak0000"
MARKERS = ("StrKeyQ7x", "PadKeyQ7x", "AppPwQ7x", "HookSecQ7x", "OwnTokQ7x", "PastedQ7x")


def _environment() -> dict[str, str]:
    return {
        "STRIPE_API_KEY": STRIPE_KEY,
        "PADDLE_API_KEY": PADDLE_KEY,
        "DATABASE_URL": f"postgresql://app:{APP_PASSWORD}@127.0.0.1:{closed_port()}/app",
        "BILLDRIFT_WEBHOOK_SECRET": HOOK_SECRET,
        "ACME_EXPORT_TOKEN": OWN_TOKEN,
    }


def _leaks(texts: list[str]) -> list[str]:
    return [marker for text in texts for marker in MARKERS if marker in text]


def test_no_planted_secret_reaches_the_agent_or_the_log(tmp_path: Path) -> None:
    down = tmp_path / "down"
    down.mkdir()
    (down / "billdrift.toml").write_text(
        '[app]\nsource = "env:DATABASE_URL"\n'
        '[billing]\nsources = ["stripe"]\n'
        f'[billing.stripe]\napi_base = "http://127.0.0.1:{closed_port()}"\nretries = 0\n'
        f'snapshot_dir = "{tmp_path / "cache"}"\n',
        encoding="utf-8",
    )
    pasted = tmp_path / "pasted"
    pasted.mkdir()
    sample_dir(pasted)
    config = (pasted / "billdrift.toml").read_text(encoding="utf-8")
    (pasted / "billdrift.toml").write_text(
        config.replace('sources = ["stripe_subscriptions.json"]', f'sources = ["{PASTED_KEY}"]'),
        encoding="utf-8",
    )
    log = tmp_path / "stderr.log"

    async def calls(agent: Agent) -> list[str]:
        replies = [
            await agent.call("check"),
            await agent.call("doctor"),
            await agent.call("list_findings"),
            await agent.call("explain_finding", fingerprint="abcd"),
            await agent.call("fix_sql"),
        ]
        assert replies[0].is_error and not replies[1].is_error
        assert replies[1].data["status"] == "fail"
        return agent.texts

    texts = session(down, calls, env=_environment(), errlog=log)
    # the key pasted into the config: the error names the source, masked
    pasted_texts = session(pasted, calls, env=_environment(), errlog=log)
    assert any("billing file not found: rk_live_***" in text for text in pasted_texts), pasted_texts
    assert _leaks(texts + pasted_texts) == []
    assert _leaks([log.read_text(encoding="utf-8")]) == []
    # the doctor's checks did run against the planted set-up
    assert any("DATABASE_URL" in text for text in texts)


def test_every_spelling_of_a_secret_is_masked_in_results() -> None:
    environ = {
        "STRIPE_API_KEY": STRIPE_KEY,
        "DATABASE_URL": "postgresql://a:Pw1234567@h/db",
        "ACME_EXPORT_TOKEN": "Tok/Q7x@9+z",
    }
    scrub = scrubber_for(None, environ)
    document: dict[str, Any] = {
        "raw": f"key {STRIPE_KEY}",
        "repr": repr(f"Bearer {STRIPE_KEY}\n".encode()),
        "quoted": "https://x/?k=" + quote("Tok/Q7x@9+z", safe=""),
        STRIPE_KEY: ["nested", {"deeper": STRIPE_KEY}],
        "password": "login failed for a with Pw1234567",
        "count": 7,
    }
    clean = scrub.tree(document)
    for marker in ("StrKeyQ7x", "Pw1234567", "Q7x"):
        assert marker not in repr(clean), marker
    assert clean["count"] == 7 and clean["raw"] == "key ***"


def test_short_values_and_harmless_variables_are_left_alone() -> None:
    environ = {"API_KEY": "1234567", "HOME": "/root/place", "SECRET_ID": "12345678"}
    scrub = scrubber_for(None, environ)
    # seven characters: not masked by value (it would mask every "1234567"); eight: masked
    assert scrub.text("ids 1234567 and 12345678") == "ids 1234567 and ***"
    assert scrub.text("/root/place") == "/root/place"
    # a URL's password is masked whatever the environment holds
    assert Scrubber([]).text("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
