"""``billdrift mcp``: start the agent server (:mod:`billdrift.mcp_server`) on stdio.

Only starts it: the tools, their results and their errors are the server's.
Without the optional MCP SDK the command fails with exit 2 naming the extra to
install.
"""

from __future__ import annotations

import click

from billdrift.cli.exits import run_command
from billdrift.cli.options import config_option
from billdrift.errors import ConfigError
from billdrift.infra.runtime import loading

INSTALL_HINT = "pip install 'billdrift[mcp]'"


@click.command()
@config_option
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def mcp(config_path: str | None, debug: bool) -> None:
    """Serve billdrift's tools to coding agents over the Model Context Protocol (stdio).

    Tools: check, doctor, list_findings, explain_finding. The config file is found
    as for every command, at each call. Results are versioned JSON; secrets stay in
    the environment and never appear in results or errors. Runs until the client
    closes stdin; exits 2 if the MCP SDK is not installed.
    """

    def body() -> int:
        try:
            with loading():  # here: --help and argument errors load none of it (issue 17)
                from billdrift.mcp_server import Settings, serve
        except ModuleNotFoundError as missing:
            if (missing.name or "").partition(".")[0] not in ("mcp", "mcp_types"):
                raise
            raise ConfigError(
                f"billdrift mcp needs the MCP SDK, which is not installed: {INSTALL_HINT}"
            ) from None
        serve(Settings(config_path))
        return 0

    run_command(body, debug)
