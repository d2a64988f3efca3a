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
from inngest._engine.payload import NumberText, RawJSON, dump_escaped

Arguments = dict[str, JSON]
_GO_MAP = "map[string]interface {}"
_GO_LIST = "[]interface {}"


@dataclasses.dataclass(frozen=True)
class Result:
    text: str
    structured: JSON = None
    is_error: bool = False

    def to_json(self, typed: bool = False) -> dict[str, JSON]:
        """The result as the real server's SDK writes it: a text content is encoded with
        HTML characters escaped, and so is the structured content of a tool it types
        (``typed``); a REST API v2 tool's is written as it is."""
        content = RawJSON(dump_escaped({"type": "text", "text": self.text}))
        out: dict[str, JSON] = {"content": [content]}
        if self.structured is not None:
            out["structuredContent"] = \
                RawJSON(dump_escaped(self.structured)) if typed else self.structured
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
            return Result("invalid tool arguments", {"error": _not_a_map(arguments)},
                          is_error=True).to_json()
        if tool.validated:
            _refuse_big_numbers(arguments)
            try:
                schema.validate(arguments, tool.input_schema)
            except schema.SchemaError as err:
                raise InvalidArguments(str(err)) from None
        try:
            return tool.handler(arguments).to_json(typed=tool.validated)
        except ToolFailed as err:
            return Result(str(err), is_error=True).to_json()


def _not_a_map(arguments: JSON) -> str:
    """Go's words for arguments that are not an object, decoded into a map."""
    kind = ("bool" if isinstance(arguments, bool) else "string" if isinstance(arguments, str)
            else "array" if isinstance(arguments, list) else "number")
    return f"json: cannot unmarshal {kind} into Go value of type {_GO_MAP}"


def _refuse_big_numbers(arguments: Arguments) -> None:
    """The real server decodes a typed tool's arguments into a map of float64s before
    anything else: the first number beyond a float's range fails the call."""
    found = _first_big_number(arguments, _GO_MAP, "")
    if found is not None:
        number, containers, path = found
        raise InvalidArguments(f'unmarshaling arguments: json: cannot unmarshal "{number}" '
                               f"into Go struct field {containers}.{path} of type float64")


def _first_big_number(value: JSON, containers: str,
                      path: str) -> tuple[str, str, str] | None:
    """The first ``NumberText`` in ``value`` (in document order), with the Go types of the
    containers it lies in and its dotted path."""
    if isinstance(value, dict):
        items: typing.Iterable[tuple[str, JSON]] = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else key
        if isinstance(item, NumberText):
            return item, containers, where
        inner = _GO_MAP if isinstance(item, dict) else _GO_LIST
        found = _first_big_number(item, containers + inner, where)
        if found is not None:
            return found
    return None
