"""Running the app: uvicorn on the configured address, quiet by default.

The access log is off: a request line is not worth a log full of customer ids in
finding URLs, and the token never travels in a URL anyway.
"""

from __future__ import annotations

import uvicorn

from billdrift.infra.failures import scrub_log_records
from billdrift.web.app import create_app
from billdrift.web.settings import WebSettings


def serve(settings: WebSettings) -> None:
    """Serve until interrupted (Ctrl-C). Log records are scrubbed of secrets."""
    scrub_log_records()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_level="warning",
        server_header=False,
    )
