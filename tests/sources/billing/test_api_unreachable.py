"""A provider API that cannot be reached for a reason waiting does not fix (no DNS
answer, a refused connection, a TLS certificate not accepted) ends the check fast, as
an ERROR (exit 2) naming the host and the cause, not after seven attempts as a fetch
that "stopped part-way". Transient failures (429, 5xx, drops) keep their retries:
see test_stripe_api.py and test_api_pacing.py."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from billdrift.cli import app as cli

KEYS = {
    "stripe": ("STRIPE_API_KEY", "sk_test_51UnreachableUnreachable"),
    "paddle": ("PADDLE_API_KEY", "pdl_sdbx_apikey_01unreachable"),
}


#: What "fast" means: well under the least a retried failure would wait. The default
#: 6 retries back off from 0.25 s (Stripe) or 0.5 s (Paddle), doubling, jittered down to
#: half: at least 7.9 s of waiting, before any request time, for a failure retried.
FAST = 5.0


def free_port() -> int:
    """A port on 127.0.0.1 that nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(tmp_path: Path, provider: str, base: str) -> tuple[int, dict[str, object], float]:
    app = tmp_path / "app.csv"
    app.write_text("id,stripe_customer_id,has_paid_access\nu1,cus_1,f\n", "utf-8")
    config = tmp_path / "billdrift.toml"
    extra = f'snapshot_dir = "{tmp_path / "cache"}"\n' if provider == "stripe" else ""
    config.write_text(f'[billing.{provider}]\napi_base = "{base}"\n{extra}', "utf-8")
    variable, key = KEYS[provider]
    started = time.monotonic()
    arguments = ["check", "--billing", provider, "--app", str(app), "--config", str(config)]
    result = CliRunner().invoke(
        cli.main,
        [*arguments, "--format", "json"],
        env={variable: key, "CI": "1"},
    )
    took = time.monotonic() - started
    assert key not in result.output
    return result.exit_code, json.loads(result.stdout), took


@pytest.mark.parametrize("provider", ["stripe", "paddle"])
def test_a_refused_connection_ends_fast_naming_host_and_cause(
    tmp_path: Path, provider: str
) -> None:
    port = free_port()
    code, report, took = check(tmp_path, provider, f"http://127.0.0.1:{port}")
    assert code == 2
    error = str(report["errors"])
    assert f"cannot connect to 127.0.0.1:{port}: the connection was refused" in error
    assert "api_base" in error
    assert "part-way" not in error and "attempts" not in error
    assert took < FAST, took


@pytest.mark.parametrize("provider", ["stripe", "paddle"])
def test_a_host_name_that_does_not_resolve_ends_fast_naming_it(
    tmp_path: Path, provider: str
) -> None:
    code, report, took = check(tmp_path, provider, "https://api.nonexistent.invalid")
    assert code == 2
    error = str(report["errors"])
    assert "cannot resolve api.nonexistent.invalid: " in error
    assert "check the network, DNS and proxy settings" in error
    assert "part-way" not in error and "attempts" not in error
    assert took < FAST, took


@contextlib.contextmanager
def self_signed_server(folder: Path) -> Iterator[int]:
    """An HTTPS server on 127.0.0.1 whose certificate no trust store holds."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is needed to make a certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    subprocess.run(
        [openssl, *request, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_certificate_not_accepted_ends_fast_saying_so(tmp_path: Path) -> None:
    with self_signed_server(tmp_path) as port:
        code, report, took = check(tmp_path, "stripe", f"https://127.0.0.1:{port}")
    assert code == 2
    error = str(report["errors"])
    assert "the TLS certificate of 127.0.0.1 was not accepted: self-signed certificate" in error
    assert "SSL_CERT_FILE" in error
    assert took < FAST, took
