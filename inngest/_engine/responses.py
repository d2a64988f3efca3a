"""Reading an SDK's reply to a call request (pure functions; no I/O)."""

from __future__ import annotations

import dataclasses
import json
import typing

from inngest._engine.models import JSON

OPCODES = (
    "None", "Step", "StepRun", "StepError", "StepPlanned", "Sleep", "WaitForEvent",
    "InvokeFunction", "AIGateway", "Gateway", "WaitForSignal", "RunComplete", "StepFailed",
    "SyncRunComplete", "DiscoveryRequest", "DeferAdd", "DeferAbort",
)
_BY_LOWER = {name.lower(): name for name in OPCODES}
LAZY_OPS = ("DeferAdd", "DeferAbort")


@dataclasses.dataclass(frozen=True)
class Reply:
    """An HTTP response as received (header names lower-cased)."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclasses.dataclass(frozen=True)
class Op:
    op: str
    id: str
    raw: dict[str, JSON]

    @property
    def opts(self) -> dict[str, JSON]:
        opts = self.raw.get("opts")
        return opts if isinstance(opts, dict) else {}

    @property
    def data(self) -> JSON:
        return self.raw.get("data")

    @property
    def error(self) -> JSON:
        return self.raw.get("error")

    @property
    def name(self) -> str:
        return str(self.raw.get("name") or "")

    @property
    def display_name(self) -> str:
        return str(self.raw.get("displayName") or self.raw.get("name") or self.id)


@dataclasses.dataclass(frozen=True)
class Complete:
    """The function returned (200)."""

    output: JSON


@dataclasses.dataclass(frozen=True)
class Ops:
    """The SDK reported steps (206)."""

    ops: list[Op]
    no_retry: bool
    retry_after: str | None


@dataclasses.dataclass(frozen=True)
class Failure:
    """The call failed; ``output`` becomes the run's output if it is final."""

    output: JSON
    retriable: bool
    retry_after: str | None


Outcome = typing.Union[Complete, Ops, Failure]


def interpret(reply: Reply) -> Outcome:
    if "x-inngest-sdk" not in reply.headers:
        return Failure(not_sdk_error(reply), retriable=True, retry_after=None)
    if reply.status == 201:
        reply = unwrap_stream(reply)
    retry_after = reply.headers.get("retry-after")
    no_retry = reply.headers.get("x-inngest-no-retry", "").lower() == "true"
    if reply.status == 206:
        try:
            return Ops(parse_ops(reply.body), no_retry, retry_after)
        except ValueError as err:
            return Failure(error_body("OpcodeParseError", str(err)), True, retry_after)
    if 200 <= reply.status < 300:
        return Complete(sorted_keys(parse_output(reply.body)))
    return Failure(sorted_keys(parse_output(reply.body)), retriable=not no_retry,
                   retry_after=retry_after)


def unwrap_stream(reply: Reply) -> Reply:
    """A 201 body wraps the real ``{status, body, headers}``."""
    try:
        wrapper = json.loads(reply.body)
    except ValueError:
        wrapper = None
    if not isinstance(wrapper, dict) or not isinstance(wrapper.get("status"), int):
        return Reply(500, reply.headers, reply.body)
    inner = wrapper.get("body")
    body = inner.encode() if isinstance(inner, str) else json.dumps(inner).encode()
    headers = {**reply.headers, **{
        str(k).lower(): str(v) for k, v in (wrapper.get("headers") or {}).items()
    }}
    return Reply(wrapper["status"], headers, body)


def parse_output(body: bytes) -> JSON:
    """Lenient: JSON if it parses (a string holding a JSON object is decoded), else text."""
    text = body.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, str):
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        if isinstance(inner, dict):
            return inner
    return value


def sorted_keys(value: JSON) -> JSON:
    """Objects with their keys sorted, at every depth: the real server decodes a function's
    output into a map and encodes it again, so a run's output lists keys in sorted order."""
    if isinstance(value, dict):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [sorted_keys(item) for item in value]
    return value


def parse_ops(body: bytes) -> list[Op]:
    try:
        raw = json.loads(body) if body.strip() else []
    except ValueError as err:
        raise ValueError(f"error parsing opcodes: {err}") from None
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list):
        raise ValueError("opcodes must be an array of objects")
    ops = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("opcodes must be an array of objects")
        name = _BY_LOWER.get(str(item.get("op", "")).lower())
        if name is None:
            raise ValueError(f"unknown opcode: {item.get('op')!r}")
        if name == "StepError" and not item.get("error"):
            raise ValueError("StepError opcode without an error")
        ops.append(Op(name, str(item.get("id") or ""), item))
    return ops


def error_body(name: str, message: str) -> dict[str, JSON]:
    return {"error": f"{name}: {message}", "name": name, "message": message}


def not_sdk_error(reply: Reply) -> dict[str, JSON]:
    body = reply.body[:1024].decode("utf-8", errors="replace")
    return error_body(
        "Error",
        f"Server returned a fatal error: status {reply.status}: the response did not come "
        f"from an Inngest SDK: {body}",
    )
