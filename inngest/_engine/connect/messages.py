"""The Connect protocol's protobuf messages (package ``connect.v1``), as far as the gateway
reads and writes them. Every WebSocket message is a binary ``ConnectMessage``: a kind and
the bytes of the message of that kind.

Decoding follows proto3: a missing field has its zero value, the last of a repeated scalar
field wins, unknown fields are skipped, and so is a field of the wrong wire type (Go's
decoder keeps it as an unknown field).
"""

from __future__ import annotations

import dataclasses
import enum
import typing

from inngest._engine.otel import protowire
from inngest._engine.otel.protowire import WireError

__all__ = ["WireError"]

Scalar = typing.Union[str, bytes, int, bool, None]


class Kind(enum.IntEnum):
    GATEWAY_HELLO = 0
    WORKER_CONNECT = 1
    GATEWAY_CONNECTION_READY = 2
    GATEWAY_EXECUTOR_REQUEST = 3
    WORKER_READY = 4
    WORKER_REQUEST_ACK = 5
    WORKER_REPLY = 6
    WORKER_REPLY_ACK = 7
    WORKER_PAUSE = 8
    WORKER_HEARTBEAT = 9
    GATEWAY_HEARTBEAT = 10
    GATEWAY_CLOSING = 11
    WORKER_REQUEST_EXTEND_LEASE = 12
    WORKER_REQUEST_EXTEND_LEASE_ACK = 13
    SYNC_FAILED = 14
    WORKER_STATUS = 15


class SDKStatus(enum.IntEnum):
    NOT_COMPLETED = 0
    DONE = 1
    ERROR = 2


class Present(str):
    """A string written even when empty (an ``optional`` field that is set)."""


def encode(*fields: tuple[int, Scalar]) -> bytes:
    """A message of ``(number, value)`` fields; zero values (and None) are left out, as
    proto3 writes them, except strings given as ``Present``."""
    out = bytearray()
    for number, value in fields:
        if value is None or (value == 0 and not isinstance(value, (str, bytes))):
            continue
        if isinstance(value, (bool, int)):
            out += protowire.field(number, protowire.VARINT, int(value))
        elif value or isinstance(value, Present):
            out += protowire.field(number, protowire.LEN,
                                   value.encode("utf-8") if isinstance(value, str) else value)
    return bytes(out)


class Fields:
    """A decoded message's fields by number."""

    def __init__(self, data: bytes) -> None:
        self._fields: dict[int, list[tuple[int, protowire.Value]]] = {}
        for number, wire, value in protowire.fields(data):
            self._fields.setdefault(number, []).append((wire, value))

    def has(self, number: int) -> bool:
        return number in self._fields

    def blob(self, number: int) -> bytes:
        values = self._values(number, protowire.LEN)
        return bytes(values[-1]) if values else b""

    def text(self, number: int) -> str:
        return protowire.text(self.blob(number))

    def number(self, number: int) -> int:
        values = self._values(number, protowire.VARINT)
        return int(values[-1]) if values else 0

    def repeated(self, number: int) -> list[bytes]:
        return [bytes(value) for value in self._values(number, protowire.LEN)]

    def _values(self, number: int, wire: int) -> list[typing.Any]:
        return [value for kind, value in self._fields.get(number, []) if kind == wire]


def connect_message(kind: Kind, payload: bytes = b"") -> bytes:
    return encode((1, int(kind)), (2, payload))


def read_connect_message(data: bytes) -> tuple[int, bytes]:
    """A ``ConnectMessage``'s kind (any number: unknown kinds are the caller's to ignore)
    and payload."""
    fields = Fields(data)
    return fields.number(1), fields.blob(2)


@dataclasses.dataclass(frozen=True)
class AppConfig:
    name: str
    version: str | None
    functions: bytes


@dataclasses.dataclass(frozen=True)
class WorkerConnect:
    connection_id: str
    instance_id: str
    session_token: str
    capabilities: bytes
    apps: list[AppConfig]
    manual_readiness: bool
    environment: str
    platform: str | None
    sdk_version: str
    sdk_language: str
    attributes: SystemAttributes | None
    max_worker_concurrency: int | None

    @classmethod
    def decode(cls, data: bytes) -> WorkerConnect:
        fields = Fields(data)
        auth = Fields(fields.blob(3))
        return cls(
            connection_id=fields.text(1), instance_id=fields.text(2),
            session_token=auth.text(1),
            capabilities=fields.blob(4), apps=[_app(app) for app in fields.repeated(5)],
            manual_readiness=bool(fields.number(6)), environment=fields.text(8),
            platform=fields.text(10) if fields.has(10) else None,
            sdk_version=fields.text(11), sdk_language=fields.text(12),
            attributes=SystemAttributes.decode(fields.blob(7)) if fields.has(7) else None,
            max_worker_concurrency=_int64(fields.number(14)) if fields.has(14) else None,
        )


@dataclasses.dataclass(frozen=True)
class SystemAttributes:
    """The worker's host, as it describes it."""

    cpu_cores: int
    mem_bytes: int
    os: str

    @classmethod
    def decode(cls, data: bytes) -> SystemAttributes:
        fields = Fields(data)
        cpu_cores = fields.number(1) & 0xFFFFFFFF
        return cls(cpu_cores=cpu_cores - (1 << 32) if cpu_cores >= 1 << 31 else cpu_cores,
                   mem_bytes=_int64(fields.number(2)), os=fields.text(3))


def _int64(value: int) -> int:
    """A varint read as protobuf's ``int64`` (two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def _app(data: bytes) -> AppConfig:
    fields = Fields(data)
    return AppConfig(name=fields.text(1), version=fields.text(2) if fields.has(2) else None,
                     functions=fields.blob(4))


@dataclasses.dataclass(frozen=True)
class ExecutorRequest:
    """``GatewayExecutorRequestData``: one call of a function, sent to a worker."""

    request_id: str
    account_id: str
    env_id: str
    app_id: str
    app_name: str
    function_id: str
    function_slug: str
    step_id: str
    payload: bytes
    system_trace_ctx: bytes
    user_trace_ctx: bytes
    run_id: str
    lease_id: str
    job_id: str

    def encode(self) -> bytes:
        return encode(
            (1, self.request_id), (2, self.account_id), (3, self.env_id), (4, self.app_id),
            (5, self.app_name), (6, self.function_id), (7, self.function_slug),
            (8, Present(self.step_id)), (9, self.payload), (10, self.system_trace_ctx),
            (11, self.user_trace_ctx), (12, self.run_id), (13, self.lease_id),
            (14, self.job_id),
        )


@dataclasses.dataclass(frozen=True)
class SDKResponse:
    """A worker's reply to an executor request."""

    request_id: str
    status: int
    body: bytes
    no_retry: bool
    retry_after: str | None
    sdk_version: str
    request_version: int
    system_trace_ctx: bytes

    @classmethod
    def decode(cls, data: bytes) -> SDKResponse:
        fields = Fields(data)
        return cls(
            request_id=fields.text(1), status=fields.number(5), body=fields.blob(6),
            no_retry=bool(fields.number(7)), retry_after=fields.text(8) if fields.has(8) else None,
            sdk_version=fields.text(9), request_version=fields.number(10) & 0xFFFFFFFF,
            system_trace_ctx=fields.blob(11),
        )


@dataclasses.dataclass(frozen=True)
class LeaseRequest:
    """``WorkerRequestExtendLeaseData`` (and the request id of a ``WorkerRequestAckData``)."""

    request_id: str
    account_id: str
    env_id: str
    app_id: str
    function_slug: str
    lease_id: str

    @classmethod
    def decode(cls, data: bytes) -> LeaseRequest:
        fields = Fields(data)
        return cls(request_id=fields.text(1), account_id=fields.text(2), env_id=fields.text(3),
                   app_id=fields.text(4), function_slug=fields.text(5),
                   lease_id=fields.text(10))

    def ack(self, new_lease_id: str | None) -> bytes:
        return encode((1, self.request_id), (2, self.account_id), (3, self.env_id),
                      (4, self.app_id), (5, self.function_slug),
                      (6, None if new_lease_id is None else Present(new_lease_id)))


def read_request_ack(data: bytes) -> str:
    """The request id of a ``WorkerRequestAckData``."""
    return Fields(data).text(1)


def start_response(connection_id: str, gateway_endpoint: str, gateway_group: str,
                   session_token: str, sync_token: str) -> bytes:
    return encode((1, connection_id), (2, gateway_endpoint), (3, gateway_group),
                  (4, session_token), (5, sync_token))


def read_start_request(data: bytes) -> list[str]:
    """A ``StartRequest``'s gateway groups to exclude."""
    return [protowire.text(group) for group in Fields(data).repeated(1)]


def connection_ready(heartbeat: str, extend_lease: str, status: str) -> bytes:
    return encode((1, heartbeat), (2, extend_lease), (3, status))


def system_error(code: str, message: str) -> bytes:
    return encode((1, code), (3, message))


def reply_ack(request_id: str) -> bytes:
    """A ``WorkerReplyAckData`` (a ``FlushResponse`` is the same message)."""
    return encode((1, request_id))
