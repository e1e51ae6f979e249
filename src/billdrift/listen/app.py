"""The ASGI application: one POST endpoint per provider and a health check.

``POST /webhooks/stripe`` and ``POST /webhooks/paddle`` hand the raw body (the
signature covers the bytes as sent) and the headers to the
:class:`~billdrift.usecases.receiving.Receiver`, which answers within a
millisecond or so; ``GET /healthz`` says how many events wait and how many
checks run. Bodies over :data:`MAX_BODY` are refused before they are read whole.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from billdrift.sources.billing.webhook_events import PROVIDERS, Provider
from billdrift.usecases.receiving import Receiver

#: Provider events are a few kilobytes; a megabyte is generous.
MAX_BODY = 1 << 20
#: Where each provider posts (the README names them).
PATHS: dict[Provider, str] = {provider: f"/webhooks/{provider}" for provider in PROVIDERS}


def build_app(receiver: Receiver) -> Starlette:
    """The application serving `receiver`."""

    def endpoint(provider: Provider) -> Callable[[Request], Awaitable[Response]]:
        async def receive(request: Request) -> Response:
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
                return PlainTextResponse("body too large", status_code=413)
            body = b""
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    return PlainTextResponse("body too large", status_code=413)
            answer = receiver.receive(provider, body, request.headers)
            return PlainTextResponse(answer.text, status_code=answer.status)

        return receive

    async def health(request: Request) -> Response:
        queue = receiver.queue
        return JSONResponse({"waiting": queue.waiting, "running": queue.running()})

    routes = [Route(path, endpoint(p), methods=["POST"]) for p, path in PATHS.items()]
    routes.append(Route("/healthz", health, methods=["GET"]))
    return Starlette(routes=routes)
