"""The tools an MCP session offers: their listing, and calling one with its arguments.

A tool's handler returns its result's text and structured content, or raises ``ToolFailed``:
both are results (a failure has ``isError: true``), not JSON-RPC errors. Arguments that do
not fit the tool's input schema are refused before the handler runs (``InvalidArguments``),
except for the tools the real server derives from its REST API v2, which take arguments
as they come.
"""

from __future__ import annotations

import dataclasses
import typing

from inngest._engine.mcp import schema
from inngest._engine.models import JSON

Arguments = dict[str, JSON]


@dataclasses.dataclass(frozen=True)
class Result:
    text: str
    structured: JSON = None
    is_error: bool = False

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"content": [{"type": "text", "text": self.text}]}
        if self.structured is not None:
            out["structuredContent"] = self.structured
        if self.is_error:
            out["isError"] = True
        return out


class ToolFailed(Exception):
    """The tool could not do what was asked: an error result with this text."""


class InvalidArguments(ValueError):
    """Arguments the tool's schema refuses: a JSON-RPC invalid-params error."""


Handler = typing.Callable[[Arguments], Result]


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str
    title: str
    description: str
    input_schema: dict[str, JSON]
    handler: Handler
    annotations: dict[str, JSON] | None = None
    validated: bool = True

    def to_json(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"description": self.description,
                                "inputSchema": self.input_schema, "name": self.name,
                                "title": self.title}
        if self.annotations is not None:
            out = {"annotations": self.annotations, **out}
        return out


def object_schema(properties: dict[str, JSON], required: list[str]) -> dict[str, JSON]:
    """The input schema of a tool the real server types itself (not from REST API v2)."""
    out: dict[str, JSON] = {"type": "object"}
    if properties:
        out["properties"] = properties
    if required:
        out["required"] = list(required)
    out["additionalProperties"] = False
    return out


class Toolbox:
    def __init__(self, tools: typing.Iterable[Tool]) -> None:
        self._tools = {tool.name: tool for tool in sorted(tools, key=lambda tool: tool.name)}

    def listing(self) -> list[JSON]:
        return [tool.to_json() for tool in self._tools.values()]

    def tool(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def call(self, tool: Tool, arguments: JSON) -> dict[str, JSON]:
        if arguments is None:
            arguments = {}
        if not isinstance(arguments, dict):
            if tool.validated:
                raise InvalidArguments("unmarshaling arguments: arguments must be a JSON object")
            return Result("invalid tool arguments", {"error": "arguments must be a JSON object"},
                          is_error=True).to_json()
        if tool.validated:
            try:
                schema.validate(arguments, tool.input_schema)
            except schema.SchemaError as err:
                raise InvalidArguments(str(err)) from None
        try:
            return tool.handler(arguments).to_json()
        except ToolFailed as err:
            return Result(str(err), is_error=True).to_json()
