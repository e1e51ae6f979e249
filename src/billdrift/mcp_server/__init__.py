"""``billdrift mcp``: an agent server over the Model Context Protocol (issue 16).

A front-end beside the command line: coding agents that edit webhook handlers
call billdrift's tools (``check``, ``doctor``, ``list_findings``,
``explain_finding``) over stdio, through the official MCP SDK (the ``mcp``
extra). It calls :mod:`billdrift.usecases` and the layers below it, never the
command line. Modules: :mod:`.server` registers the tools with the SDK,
:mod:`.tools` does each one's work, :mod:`.findings` filters the history's
findings, :mod:`.explain` tells one finding whole, :mod:`.shapes` declares the
versioned JSON each tool returns (docs/mcp.md), and :mod:`.guard` keeps secrets
out of every result and error.
"""

from __future__ import annotations

from billdrift.mcp_server.server import build_server, serve
from billdrift.mcp_server.tools import Settings

__all__ = ["Settings", "build_server", "serve"]
