"""A real MCP client session against ``python -m billdrift mcp`` (a subprocess over stdio,
through the SDK's ``stdio_client`` and ``ClientSession``), and a data directory holding
the bundled sample data with a config that names it and a history store."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from billdrift.usecases.demo import demo_paths

SRC = Path(__file__).resolve().parents[2] / "src"
T = TypeVar("T")

#: What a fix plan writes, named (a plan never writes a guessed column).
APP_COLUMNS = """
access_fields = ["has_paid_access"]
status_fields = ["subscription_status"]
columns = { account_id = "id", plan = "plan", customer_id = "stripe_customer_id" }
"""
#: The demo's config plus where its data and history are (paths next to the file).
CONFIG_TAIL = """
[billing]
sources = ["stripe_subscriptions.json"]

[history]
location = "history.sqlite"
"""


def sample_dir(directory: Path) -> Path:
    """`directory` holding the demo data and a billdrift.toml that names it."""
    paths = demo_paths()
    shutil.copy(paths.billing, directory / "stripe_subscriptions.json")
    shutil.copy(paths.app, directory / "app.sqlite")
    config = paths.config.read_text(encoding="utf-8").replace(
        '[app]\ntable = "users"', '[app]\ntable = "users"\nsource = "app.sqlite"' + APP_COLUMNS
    )
    (directory / "billdrift.toml").write_text(config + CONFIG_TAIL, encoding="utf-8")
    return directory


@dataclass(frozen=True)
class Reply:
    """One tool call's answer: the JSON (structured content, which the text content
    repeats) or the error text."""

    is_error: bool
    data: dict[str, Any]
    text: str


class Agent:
    """The client side of a session, with the calls the tests make."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session
        self.texts: list[str] = []

    async def call(self, name: str, **arguments: Any) -> Reply:
        result = await self.session.call_tool(name, arguments)
        text = "".join(getattr(block, "text", "") for block in result.content)
        self.texts.append(text)
        if result.structured_content is not None:
            self.texts.append(json.dumps(result.structured_content))
        if result.is_error:
            return Reply(True, {}, text)
        data = result.structured_content
        assert data is not None, f"{name} returned no structured content"
        assert json.loads(text) == data, "the text content must be the same JSON"
        return Reply(False, data, text)

    async def ok(self, name: str, **arguments: Any) -> dict[str, Any]:
        reply = await self.call(name, **arguments)
        assert not reply.is_error, reply.text
        return reply.data


def session(
    cwd: Path,
    scenario: Callable[[Agent], Awaitable[T]],
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    errlog: Path | None = None,
) -> T:
    """Start the server in `cwd`, run `scenario` over one session, stop the server."""

    async def run() -> T:
        params = StdioServerParameters(
            command=sys.executable,
            args=["-m", "billdrift", "mcp", *args],
            env={"PYTHONPATH": str(SRC), **(env or {})},
            cwd=str(cwd),
        )
        log = errlog or cwd / "server-stderr.log"
        with anyio.fail_after(120), log.open("a", encoding="utf-8") as stderr:
            async with (
                stdio_client(params, errlog=stderr) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                return await scenario(Agent(client))

    # A thread of its own: the web tests' browser (Playwright's sync API) keeps an event
    # loop running in the main thread for the whole session, and anyio refuses to start a
    # second loop in a thread that has one; the client session needs no particular thread.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcp-client") as pool:
        return pool.submit(anyio.run, run).result()
