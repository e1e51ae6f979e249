"""Real local receivers for the alert sinks: an HTTP endpoint and an SMTP server.

The HTTP receiver answers from a script (500 then 200, 429 with Retry-After...)
and, given a secret, verifies the webhook signature exactly as a receiver in
production would: on the raw body, before parsing, with a timestamp tolerance,
refusing a delivery id it already accepted. It verifies with the standard
library (hmac, hashlib) from the documented scheme, not with billdrift's own
``verify_signature``: a bug shared by signer and verifier would pass unseen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

SIGNATURE_HEADER = "Billdrift-Signature"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


class HttpReceiver:
    """A POST endpoint on 127.0.0.1 that records requests and replies from `script`.

    Once the script runs out, every request gets 200 "ok". With `secret` set, a
    request whose signature does not verify, or that repeats the delivery id of an
    accepted one, gets 400 and is counted in `rejected`.
    """

    def __init__(self, secret: str | None = None, tolerance: int = 300) -> None:
        self.secret = secret
        self.tolerance = tolerance
        self.requests: list[Received] = []
        self.accepted: list[Received] = []
        self.rejected: list[Received] = []
        self.replayed: list[Received] = []
        self.script: list[Reply] = []
        self._processed: set[str] = set()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                received = Received(self.path, dict(self.headers.items()), body)
                reply = receiver._reply(received)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _reply(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            delivery_id = None
            if self.secret is not None:
                if not self._verified(received):
                    self.rejected.append(received)
                    return Reply(400, b"signature verification failed")
                delivery_id = received.json()["delivery_id"]
                if delivery_id in self._processed:
                    self.rejected.append(received)
                    self.replayed.append(received)
                    return Reply(400, b"delivery already processed")
            reply = self.script.pop(0) if self.script else Reply()
            if 200 <= reply.status < 300:
                self.accepted.append(received)
                if delivery_id is not None:
                    self._processed.add(delivery_id)
            return reply

    def _verified(self, received: Received) -> bool:
        """The documented scheme, by the standard library alone: v1 is
        HMAC-SHA256(secret, "<t>.<raw body>"), t within the tolerance."""
        assert self.secret is not None
        fields = [
            part.partition("=") for part in received.headers.get(SIGNATURE_HEADER, "").split(",")
        ]
        stamps = [value for key, _, value in fields if key == "t"]
        signatures = [value for key, _, value in fields if key == "v1"]
        if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
            return False
        if abs(time.time() - int(stamps[0])) > self.tolerance:
            return False
        signed = stamps[0].encode() + b"." + received.body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return any(hmac.compare_digest(expected, signature) for signature in signatures)

    def url(self, path: str = "/hook") -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


class MailHandler:
    """Captures every message; `data_replies` scripts the answers to DATA (e.g. 451)."""

    def __init__(self) -> None:
        self.messages: list[Envelope] = []
        self.data_replies: list[str] = []
        self.refuse_recipients = False
        self.data_attempts = 0
        self.port = 0  # set once the server listens

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if self.refuse_recipients:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.data_attempts += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


class Authenticator:
    """Accepts exactly one username/password pair (LOGIN or PLAIN)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username.encode()
        self.password = password.encode()

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login == self.username
            and data.password == self.password
        )
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_smtp(handler: MailHandler, **kwargs: Any) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made with the openssl command line (cert, key)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
