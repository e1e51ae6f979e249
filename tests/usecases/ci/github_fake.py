"""A local fake of the few GitHub REST API endpoints the action calls: a pull
request's comments (list, paginated; create; edit) and artifacts (list; download,
answered with a redirect to a second server standing in for blob storage, on another
origin, as GitHub does)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "ghs_fake_token_for_tests"
REPO = "acme/shop"


@dataclass
class GitHubState:
    """What the fake holds and what it was asked."""

    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    blobs: dict[int, bytes] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    blob_auth: list[str | None] = field(default_factory=list)
    next_id: int = 1000
    api_url: str = ""
    blob_url: str = ""

    def add_artifact(
        self, name: str, archive: bytes, branch: str, created_at: str, expired: bool = False
    ) -> int:
        self.next_id += 1
        artifact_id = self.next_id
        self.blobs[artifact_id] = archive
        self.artifacts.append(
            {
                "id": artifact_id,
                "name": name,
                "expired": expired,
                "created_at": created_at,
                "archive_download_url": f"{self.api_url}/repos/{REPO}/actions/artifacts/"
                f"{artifact_id}/zip",
                "workflow_run": {"id": artifact_id * 10, "head_branch": branch},
            }
        )
        return artifact_id


def _handler(state: GitHubState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def _send(self, status: int, body: object, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            parts = url.path.strip("/").split("/")
            state.requests.append((method, url.path))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._send(401, {"message": "Bad credentials"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            sent = json.loads(self.rfile.read(length)) if length else {}
            prefix = ["repos", *REPO.split("/")]
            if parts[:3] != prefix:
                self._send(404, {"message": "Not Found"})
                return
            rest = parts[3:]
            if rest[:1] == ["issues"] and len(rest) == 3 and rest[2] == "comments":
                number = int(rest[1])
                comments = state.comments.setdefault(number, [])
                if method == "GET":
                    size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
                    self._send(200, comments[(page - 1) * size : page * size])
                    return
                state.next_id += 1
                comment = {"id": state.next_id, "body": sent["body"], "html_url": "u"}
                comments.append(comment)
                self._send(201, comment)
                return
            if rest[:2] == ["issues", "comments"] and method == "PATCH":
                for comments in state.comments.values():
                    for comment in comments:
                        if comment["id"] == int(rest[2]):
                            comment["body"] = sent["body"]
                            self._send(200, comment)
                            return
                self._send(404, {"message": "Not Found"})
                return
            if rest == ["actions", "artifacts"]:
                found = [a for a in state.artifacts if a["name"] == query.get("name", a["name"])]
                size, page = int(query.get("per_page", 30)), int(query.get("page", 1))
                chunk = found[(page - 1) * size : page * size]
                self._send(200, {"total_count": len(found), "artifacts": chunk})
                return
            if rest[:2] == ["actions", "artifacts"] and rest[3:] == ["zip"]:
                location = f"{state.blob_url}/blob/{rest[2]}"
                self._send(302, {}, {"Location": location})
                return
            self._send(404, {"message": "Not Found"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

        def do_PATCH(self) -> None:
            self._route("PATCH")

    return Handler


def _blob_handler(state: GitHubState) -> type[BaseHTTPRequestHandler]:
    class Blob(BaseHTTPRequestHandler):
        def log_message(self, *_: object) -> None:
            pass

        def do_GET(self) -> None:
            state.blob_auth.append(self.headers.get("Authorization"))
            data = state.blobs[int(self.path.rsplit("/", 1)[1])]
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Blob


@contextmanager
def fake_github() -> Iterator[GitHubState]:
    """The fake API and its blob store, each on its own local port."""
    state = GitHubState()
    api = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    blob = ThreadingHTTPServer(("127.0.0.1", 0), _blob_handler(state))
    state.api_url = f"http://127.0.0.1:{api.server_address[1]}"
    state.blob_url = f"http://127.0.0.1:{blob.server_address[1]}"
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (api, blob)]
    for thread in threads:
        thread.start()
    try:
        yield state
    finally:
        for server in (api, blob):
            server.shutdown()
            server.server_close()
