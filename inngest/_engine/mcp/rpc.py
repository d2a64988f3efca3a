"""JSON-RPC 2.0 for one MCP session: a message in, its reply (or nothing) out.

Messages are checked as the real server's SDK checks them before it answers: a message it
refuses (unknown method, a call without an id, missing ``params``) fails the whole HTTP
request (``Refused``, a 400 with a text body); errors found while answering a call become
JSON-RPC errors in the reply.
"""

from __future__ import annotations

import dataclasses
import enum
import typing

from inngest._engine.goquote import quote
from inngest._engine.mcp import tools
from inngest._engine.models import JSON
from inngest._engine.payload import BodyError, NumberText, load_keeping_numbers

# Newest first, as the real server lists them.
SUPPORTED_VERSIONS = ("2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05")
# What ``initialize`` with a version the server does not know negotiates to.
NEGOTIATED_VERSION = "2025-06-18"
# What a request without an ``Mcp-Protocol-Version`` header is taken to speak.
HEADER_DEFAULT_VERSION = "2025-03-26"
# From this version on, a POST may not carry a JSON-RPC batch.
NO_BATCH_VERSION = "2025-06-18"

SERVER_INFO: dict[str, JSON] = {"name": "inngest-dev", "title": "Inngest Dev Server MCP Tools",
                                "version": "v1.0.0"}
CAPABILITIES: dict[str, JSON] = {"logging": {}, "tools": {}}

INVALID_PARAMS = -32602
METHOD_NOT_FOUND = -32601
RESOURCE_NOT_FOUND = -32002
# The real server's code for an error that is not one of JSON-RPC's own.
OTHER_ERROR = 0


class Refused(Exception):
    """A message the server will not take: the HTTP request fails with 400 and this text."""


class Kind(enum.Flag):
    CALL = enum.auto()
    NOTIFICATION = enum.auto()
    PARAMS_OPTIONAL = enum.auto()


_CALL_OPTIONAL = Kind.CALL | Kind.PARAMS_OPTIONAL
_NOTIFICATION_OPTIONAL = Kind.NOTIFICATION | Kind.PARAMS_OPTIONAL
METHODS: dict[str, Kind] = {
    "initialize": Kind.CALL, "ping": _CALL_OPTIONAL,
    "tools/list": _CALL_OPTIONAL, "tools/call": Kind.CALL,
    "prompts/list": _CALL_OPTIONAL, "prompts/get": Kind.CALL,
    "resources/list": _CALL_OPTIONAL, "resources/templates/list": _CALL_OPTIONAL,
    "resources/read": Kind.CALL, "resources/subscribe": Kind.CALL,
    "resources/unsubscribe": Kind.CALL, "logging/setLevel": Kind.CALL,
    "completion/complete": Kind.CALL,
    "notifications/initialized": _NOTIFICATION_OPTIONAL,
    "notifications/cancelled": _NOTIFICATION_OPTIONAL,
    "notifications/roots/list_changed": _NOTIFICATION_OPTIONAL,
    "notifications/progress": Kind.NOTIFICATION,
}
# Methods a session answers before ``initialize``.
_BEFORE_INITIALIZE = frozenset({"initialize", "ping", "notifications/initialized"})
# Empty lists the server has nothing for: it offers tools only.
_EMPTY_LISTS = {"prompts/list": "prompts", "resources/list": "resources",
                "resources/templates/list": "resourceTemplates"}

_NO_ID = object()


@dataclasses.dataclass(frozen=True)
class Message:
    """A request or notification (``method`` set), or a reply the client sent (no method)."""

    method: str
    id: object  # a str, an int, None, or _NO_ID for a notification
    params: JSON
    has_params: bool

    @property
    def is_call(self) -> bool:
        return self.id is not _NO_ID and self.id is not None


class RpcError(Exception):
    def __init__(self, code: int, message: str, data: JSON = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


def decode(body: bytes) -> tuple[list[Message], bool]:
    """The messages of a POST body, and whether it was a batch; raises ``Refused``."""
    try:
        # The real server keeps params as raw JSON: a number past a float's range fails
        # only a tool that decodes it.
        value = load_keeping_numbers(body)
    except BodyError as err:
        raise Refused(f"malformed payload: unmarshaling jsonrpc message: {err}") from None
    if isinstance(value, list):
        if not value:
            raise Refused("malformed payload: empty batch")
        return [_message(item) for item in value], True
    return [_message(value)], False


def _message(value: JSON) -> Message:
    if not isinstance(value, dict):
        raise Refused("malformed payload: unmarshaling jsonrpc message: "
                      "a message must be a JSON object")
    version = value.get("jsonrpc")
    if version != "2.0":
        tag = version if isinstance(version, str) else ""
        raise Refused(f'malformed payload: invalid message version tag "{tag}"; expected "2.0"')
    message_id = value.get("id", _NO_ID)
    if isinstance(message_id, NumberText):
        raise Refused(f'malformed payload: unmarshaling jsonrpc message: json: cannot unmarshal '
                      f'"{message_id}" into Go struct field jsonrpc2.wireCombined.id of type '
                      "float64")
    if isinstance(message_id, float):
        message_id = int(message_id)  # as the real server reads a number id: an int64
    if message_id is not _NO_ID and message_id is not None \
            and (isinstance(message_id, bool) or not isinstance(message_id, (str, int))):
        raise Refused("malformed payload: parse error: invalid ID type")
    method = value.get("method")
    if not isinstance(method, str) or not method:
        if message_id is _NO_ID or message_id is None:
            raise Refused("malformed payload: invalid request")
        method = ""
    params = value.get("params")
    return Message(method, message_id, params, "params" in value and params is not None)


def check(message: Message) -> None:
    """Refuse a request the server would not dispatch (replies from the client pass)."""
    if not message.method:
        return
    kind = METHODS.get(message.method)
    if kind is None:
        raise Refused(f'JSON RPC not handled: "{message.method}" unsupported')
    if Kind.NOTIFICATION in kind and message.is_call:
        raise Refused(f'invalid request: unexpected id for "{message.method}"')
    if Kind.CALL in kind and not message.is_call:
        raise Refused(f'invalid request: missing id for "{message.method}"')
    if Kind.PARAMS_OPTIONAL not in kind and not message.has_params:
        raise Refused('invalid request: missing required "params"')


class Session:
    """One client's session: negotiated version and whether ``initialize`` has succeeded."""

    def __init__(self, toolbox: tools.Toolbox) -> None:
        self.toolbox = toolbox
        self.protocol_version: str | None = None

    @property
    def initialized(self) -> bool:
        return self.protocol_version is not None

    def answer(self, message: Message) -> dict[str, JSON] | None:
        """The reply to a call; None for a notification or a client's reply."""
        if not (message.method and message.is_call):
            return None
        try:
            result = self._dispatch(message)
        except RpcError as err:
            error: dict[str, JSON] = {"code": err.code, "message": err.message}
            if err.data is not None:
                error["data"] = err.data
            return {"jsonrpc": "2.0", "id": typing.cast(JSON, message.id), "error": error}
        return {"jsonrpc": "2.0", "id": typing.cast(JSON, message.id), "result": result}

    def _dispatch(self, message: Message) -> JSON:
        method = message.method
        if not self.initialized and method not in _BEFORE_INITIALIZE:
            raise RpcError(OTHER_ERROR,
                           f'method "{method}" is invalid during session initialization')
        params = self._params(message)
        if method == "initialize":
            return self._initialize(params)
        if method == "tools/list":
            return {"tools": self.toolbox.listing()}
        if method == "tools/call":
            return self._call_tool(params)
        if method in _EMPTY_LISTS:
            return {_EMPTY_LISTS[method]: []}
        if method == "prompts/get":
            raise RpcError(INVALID_PARAMS, f'unknown prompt {quote(_text(params.get("name")))}')
        if method == "resources/read":
            raise RpcError(RESOURCE_NOT_FOUND, "Resource not found",
                           {"uri": _text(params.get("uri"))})
        if method in ("ping", "logging/setLevel"):
            return {}
        raise RpcError(METHOD_NOT_FOUND, f'method not found: "{method}"')

    @staticmethod
    def _params(message: Message) -> dict[str, JSON]:
        if message.params is None:
            return {}
        if not isinstance(message.params, dict):
            raise RpcError(OTHER_ERROR, f"handling '{message.method}': params must be a JSON "
                                        "object")
        return message.params

    def _initialize(self, params: dict[str, JSON]) -> JSON:
        asked = params.get("protocolVersion")
        version = asked if isinstance(asked, str) and asked in SUPPORTED_VERSIONS \
            else NEGOTIATED_VERSION
        self.protocol_version = version
        return {"capabilities": CAPABILITIES, "protocolVersion": version,
                "serverInfo": SERVER_INFO}

    def _call_tool(self, params: dict[str, JSON]) -> JSON:
        name = params.get("name")
        tool = self.toolbox.tool(name) if isinstance(name, str) else None
        if tool is None:
            raise RpcError(INVALID_PARAMS, f"unknown tool {quote(_text(name))}")
        try:
            return self.toolbox.call(tool, params.get("arguments"))
        except tools.InvalidArguments as err:
            raise RpcError(INVALID_PARAMS, f'invalid params: validating "arguments": {err}') \
                from None


def _text(value: JSON) -> str:
    return value if isinstance(value, str) else ""
