"""Reading an SDK's reply to a call request (pure functions; no I/O)."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import typing

from inngest._engine.models import JSON
from inngest._engine.payload import FloatText, Object, Text, dump, load_strict, object_or_empty
from inngest._protocol.headers import Header
from inngest._protocol.opcodes import Opcode

_BY_LOWER = {op.value.lower(): op.value for op in Opcode}
_TEXT_LIMIT = 500
MAX_OUTPUT_BYTES = 4 * 1024 * 1024
_READING = "error reading generator opcode response"


@dataclasses.dataclass(frozen=True)
class Reply:
    """An HTTP response as received (header names lower-cased)."""

    status: int
    headers: dict[str, str]
    body: bytes


# Response headers the dev server shows masked in a span's ``response``.
_SENSITIVE = frozenset(("authorization", "proxy-authorization", "cookie", "set-cookie",
                        "x-api-key", "x-auth-token", "www-authenticate", "proxy-authenticate"))
# Not shown: the framing Go's HTTP client consumes (measured: an SDK's "Connection:
# keep-alive" is not shown) and the encoding the server's driver undoes.
_CONSUMED = frozenset(("connection", "transfer-encoding", "content-encoding"))
_REDACTED = "[REDACTED]"


def shown_response(reply: Reply) -> dict[str, JSON]:
    """A reply as a span's ``response`` shows it: its status and headers, names written as
    Go writes them (``X-Inngest-Sdk``), sensitive values masked, keys in order."""
    headers: dict[str, JSON] = {
        canonical_header(name): _REDACTED if name in _SENSITIVE else value
        for name, value in reply.headers.items() if name not in _CONSUMED}
    return {"statusCode": reply.status, "headers": dict(sorted(headers.items()))}


def shown_response_text(reply: Reply) -> str:
    """``shown_response``'s JSON text, kept for each status and headers seen lately: an app
    answers call after call with the same headers, and they are a third of the history
    item that shows them."""
    return _shown_text(reply.status, tuple(reply.headers.items()))


@functools.lru_cache(maxsize=64)  # (a reply's head is at most 64 KiB)
def _shown_text(status: int, headers: tuple[tuple[str, str], ...]) -> str:
    return dump(shown_response(Reply(status, dict(headers), b"")))


@functools.lru_cache(maxsize=256)  # apps answer with the same few names again and again
def canonical_header(name: str) -> str:
    """Go's canonical form of a header name: each dash-separated word capitalized. A name
    with a character no token may hold is left as it is, as there."""
    if not _TOKEN.fullmatch(name):
        return name
    return "-".join(word[:1].upper() + word[1:].lower() for word in name.split("-"))


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


@dataclasses.dataclass(frozen=True)
class Op:
    op: str
    id: str
    raw: Object

    @property
    def opts(self) -> Object:
        opts = self.raw.get("opts")
        if type(opts) is dict:
            return opts
        # (None, most often, when there are none: spared the costly Mapping check.)
        return opts if opts is not None and isinstance(opts, typing.Mapping) else {}

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

    @functools.cached_property
    def stored_text(self) -> str:
        """The JSON text of the value the op's step stores (``stored_value``): the size
        check, the step's save and its history item each need it, and it is encoded once."""
        return dump(stored_value(self))


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
    status: int = 0
    no_retry: bool = False  # the SDK's no-retry header

    @property
    def reply_error(self) -> str | None:
        """What the real server calls this failure in a run's finish events: the no-retry
        header wins over an error status."""
        if self.no_retry:
            return "NonRetriableError"
        return f"invalid status code: {self.status}" if self.status >= 300 else None

    @property
    def reason(self) -> str:
        """Why, for the engine's log: the status, the error, and a hint for a 401."""
        text = error_text(self.output)
        if self.status == 401:
            text += " (the app refused the request's signature: is the engine's " \
                    "--signing-key the app's INNGEST_SIGNING_KEY?)"
        prefix = f"status {self.status}"
        return text if not self.status or prefix in text else f"{prefix}: {text}"


Outcome = typing.Union[Complete, Ops, Failure]


def interpret(reply: Reply) -> Outcome:
    if Header.SDK not in reply.headers:
        return Failure(not_sdk_error(reply), retriable=True, retry_after=None,
                       status=reply.status)
    if reply.status == 201:
        reply = unwrap_stream(reply)
    retry_after = reply.headers.get("retry-after")
    no_retry = reply.headers.get(Header.NO_RETRY, "").lower() == "true"
    if reply.status == 206:
        try:
            ops = parse_ops(reply.body)
        except ValueError as err:
            return Failure(wrapped_error("Error", str(err), prefixed=False), not no_retry,
                           retry_after, reply.status, no_retry)
        too_large = next((op for op in ops if stored_size(op) > MAX_OUTPUT_BYTES), None)
        if too_large is not None:
            message = (f"error validating generator opcode {too_large.id}: "
                       "step output size is greater than the limit")
            # Not retried (the real server retries): the step ran, and would run again.
            return Failure(wrapped_error("Error", message, prefixed=False), False,
                           retry_after, reply.status)
        return Ops(ops, no_retry, retry_after)
    if 200 <= reply.status < 300:
        return Complete(parse_output(reply.body))
    return Failure(parse_output(reply.body), retriable=not no_retry, retry_after=retry_after,
                   status=reply.status, no_retry=no_retry)


def unwrap_stream(reply: Reply) -> Reply:
    """A 201 body wraps the real ``{status, body, headers}``."""
    try:
        wrapper = load_strict(reply.body)
    except ValueError:
        wrapper = None
    status = wrapper.get("status") if isinstance(wrapper, typing.Mapping) else None
    if not isinstance(wrapper, typing.Mapping) or not isinstance(status, int):
        return Reply(500, reply.headers, reply.body)
    inner = wrapper.get("body")
    body = inner.encode() if isinstance(inner, str) else json.dumps(inner).encode()
    headers = {**reply.headers, **{
        str(k).lower(): str(v)
        for k, v in object_or_empty(wrapper.get("headers"), "headers").items()
    }}
    return Reply(status, headers, body)


def parse_output(body: bytes) -> JSON:
    """Lenient: JSON if it parses (a string holding a JSON object is decoded), else ``Text``.

    Object keys come out sorted at every level, as the server re-encodes an SDK's output.
    """
    text = body.decode("utf-8", errors="replace")
    try:
        value = load_strict(body)
    except ValueError:  # as the real server keeps a body it cannot decode ("Infinity")
        return Text(text)
    if isinstance(value, str):
        try:
            inner = load_strict(value.encode("utf-8", "surrogatepass"))
        except ValueError:
            return value
        if isinstance(inner, typing.Mapping):
            return sorted_keys(inner)
    return sorted_keys(value)


def sorted_keys(value: JSON) -> JSON:
    """A JSON value as the real server keeps one it decoded to Go's ``map[string]any``:
    object keys sorted at any depth, every number a float64 (``1.0`` is ``1``, an integer
    past 2^53 rounds, and the float's Go text is ``go_floats``'s business)."""
    # Decoded JSON is dicts and lists: checked first, as the ABC checks cost more (every
    # stored event's data goes through here).
    if type(value) is dict:
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if type(value) is list:
        return [sorted_keys(item) for item in value]
    if type(value) is float:
        return as_float64(value)
    if type(value) is int:
        return value if -_EXACT_INT <= value <= _EXACT_INT else as_float64(float(value))
    if isinstance(value, FloatText):  # from GraphQL variables: a float64 like the others
        return as_float64(float(value))
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, typing.Mapping):
        return {key: sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, typing.Sequence) and not isinstance(value, str):
        return [sorted_keys(item) for item in value]
    return value


# Integers a float64 holds exactly; past them Go's decoding rounds.
_EXACT_INT = 2 ** 53
# From here up Go writes a float64 with an exponent, as Python does.
_EXPONENT_FROM = 1e21


def as_float64(value: float) -> JSON:
    """A float64 as Python should hold it to be written as Go writes it: a whole number below
    1e21 as an int (Go writes ``100``, not ``100.0``), negative zero as a float."""
    if value.is_integer() and abs(value) < _EXPONENT_FROM and (value or str(value)[0] != "-"):
        return int(value)
    return value


def stored_value(op: Op) -> JSON:
    """The value a step op stores, wrapped as the state store keeps it."""
    if op.op in (Opcode.STEP_ERROR, Opcode.STEP_FAILED):
        return {"error": op.error}
    if op.op == Opcode.STEP_RUN:
        return {"data": op.data}
    return op.data


def stored_size(op: Op) -> int:
    """Bytes of the value a step op would store (wrapped as the state store keeps it)."""
    return len(op.stored_text.encode())


def parse_ops(body: bytes) -> list[Op]:
    try:
        raw = load_strict(body) if body.strip() else []
    except ValueError as err:
        raise ValueError(f"{_READING}: {err}") from None
    # Decoded JSON is dicts and lists: checked first, as the ABC checks cost more.
    if type(raw) is not list:
        if type(raw) is dict or isinstance(raw, typing.Mapping):
            raw = [raw]
        elif not isinstance(raw, typing.Sequence) or isinstance(raw, str):
            raise ValueError(f"{_READING}: expected JSON object or array")
    ops = []
    for item in raw:
        if type(item) is not dict and not isinstance(item, typing.Mapping):
            raise ValueError(f"{_READING}: expected JSON object or array")
        name = _BY_LOWER.get(str(item.get("op", "")).lower())
        if name is None:
            raise ValueError(f"{_READING}: {item.get('op')} does not belong to Opcode values")
        if name == Opcode.STEP_ERROR and not item.get("error"):
            raise ValueError("StepError opcode without an error")
        ops.append(Op(name, str(item.get("id") or ""), item))
    return ops


def error_text(error: JSON) -> str:
    """An SDK error as ``Name: message`` (other bodies as they came, shortened)."""
    if isinstance(error, typing.Mapping) and (error.get("name") or error.get("message")):
        return f"{error.get('name') or 'Error'}: {error.get('message') or ''}"
    if isinstance(error, typing.Mapping) and error.get("error"):
        return str(error["error"])[:_TEXT_LIMIT]
    return (error if isinstance(error, str) else json.dumps(error))[:_TEXT_LIMIT]


def error_body(name: str, message: str) -> dict[str, JSON]:
    return {"error": f"{name}: {message}", "name": name, "message": message}


def wrapped_error(name: str, message: str, *, prefixed: bool = True) -> dict[str, JSON]:
    """A run output for an error the server itself raised: the error under an ``error`` key.

    Named errors repeat the name before the message; plain driver errors do not.
    """
    return {"error": {"error": f"{name}: {message}" if prefixed else message,
                      "name": name, "message": message}}


def not_sdk_error(reply: Reply) -> dict[str, JSON]:
    body = reply.body[:1024].decode("utf-8", errors="replace")
    return error_body(
        "Error",
        f"Server returned a fatal error: status {reply.status}: the response did not come "
        f"from an Inngest SDK: {body}",
    )
