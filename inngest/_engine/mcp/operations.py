"""``GET /v2/operations`` (and ``/api/v2/operations``): the catalog of what an agent can do
with the dev server, as the real one lists it. Each REST API v2 route that is also an MCP
tool is one operation (its RPC name, HTTP route, ``inngest`` CLI command and tool), in the
order of the API's service definition; then each MCP tool of the dev server alone, as
``mcp.<name>``, by name. Summaries and descriptions are the tools' own."""

from __future__ import annotations

import re

from inngest._engine.mcp import api_tools, tools
from inngest._engine.models import JSON
from inngest._engine.payload import dump_escaped

PREFIXES = ("/v2/operations", "/api/v2/operations")
_UNDER_PREFIXES = tuple(prefix + "/" for prefix in PREFIXES)
HEADERS = {"access-control-allow-origin": "*", "content-type": "application/json",
           "cache-control": "public, max-age=300, stale-while-revalidate=3600"}
# (operation id, MCP tool, CLI command), in the service definition's order.
_OPERATIONS = (
    ("Health", "health", "health"),
    ("GetFunctionRun", "get_run", "get-function-run"),
    ("ListRuns", "list_runs", "get-function-runs"),
    ("ListFunctionRuns", "list_function_runs", "get-function-runs"),
    ("GetEventRuns", "get_event_runs", "get-event-runs"),
    ("Rerun", "rerun", "rerun"),
    ("CancelRun", "cancel_run", "cancel-run"),
    ("GetApp", "get_app", "get-app"),
    ("GetApps", "get_apps", "get-apps"),
    ("GetFunctionTrace", "get_run_trace", "get-function-trace"),
    ("GetFunction", "get_function", "get-function"),
    ("GetFunctions", "list_functions", "get-functions"),
    ("InvokeFunction", "invoke_function", "invoke-function"),
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z0-9])([A-Z])")


def serves(path: str) -> bool:
    return path in PREFIXES or path.startswith(_UNDER_PREFIXES)


def catalog(toolbox: tools.Toolbox) -> bytes:
    """The catalog's JSON, as the dev server writes it (no newline at the end)."""
    endpoints = {endpoint.name: endpoint for endpoint in api_tools.ENDPOINTS}
    operations: list[JSON] = []
    for operation_id, name, command in _OPERATIONS:
        endpoint, tool = endpoints[name], toolbox.tool(name)
        assert tool is not None, name
        operations.append({
            "id": operation_id, "summary": tool.title, "description": tool.description,
            "http": {"method": endpoint.method, "path": _route(endpoint.path)},
            "cli": {"command": command}, "mcp": tool.to_json()})
    for listed in toolbox.listing():
        assert isinstance(listed, dict)
        if listed["name"] not in endpoints:
            operations.append({"id": f"mcp.{listed['name']}", "summary": listed["title"],
                               "description": listed["description"], "mcp": listed})
    return dump_escaped({"data": {"operations": operations}}).encode("utf-8")


def _route(path: str) -> str:
    """The REST route with its parameters named as the service names them (``run_id``)."""
    return _CAMEL_HUMP.sub(lambda hump: "_" + hump.group(1).lower(), path)
