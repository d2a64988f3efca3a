"""The engine's MCP (Model Context Protocol) endpoint, ``/mcp``: tools for AI agents.

``transport`` speaks MCP's streamable HTTP transport (sessions, headers, statuses),
``rpc`` the JSON-RPC 2.0 messages of a session, ``tools`` and its neighbours the tools. All
of it answers as the real dev server's Go MCP SDK does (measured against it).
"""

from __future__ import annotations

from inngest._engine.engine import Engine
from inngest._engine.mcp import api_tools, docs_tools, run_tools, tools, transport


def endpoint(engine: Engine, rest_v2: api_tools.RestV2) -> transport.Endpoint:
    """The ``/mcp`` endpoint of ``engine``, with every tool; ``rest_v2`` answers the tools
    derived from the REST API v2."""
    return transport.Endpoint(tools.Toolbox([
        *run_tools.RunTools(engine).tools(), *api_tools.ApiTools(rest_v2).tools(),
        *docs_tools.DocsTools().tools(),
    ]))
