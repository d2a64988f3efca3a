"""The worker connections the gateway has had, as the dev server keeps them: one record per
connection and app (its "worker group"), from the sync to the disconnect, kept after it.

The dev server lists the live ones at ``GET /v0/connect/envs/{env}/conns`` and every one
through GraphQL ``workerConnections``; both read these records.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import threading

from inngest._engine import ulid
from inngest._engine.connect import messages
from inngest._engine.realtime.tokens import ACCOUNT_ID, ENV_ID
from inngest._protocol import jcs


class Status(enum.IntEnum):
    """``connect.v1.ConnectionStatus``."""

    CONNECTED = 0
    READY = 1
    DRAINING = 2
    DISCONNECTING = 3
    DISCONNECTED = 4


# ``connect.v1.WorkerDisconnectReason`` names, as the dev server records them.
WORKER_SHUTDOWN = "WORKER_SHUTDOWN"
UNEXPECTED = "UNEXPECTED"
HEARTBEATS_MISSED = "CONSECUTIVE_HEARTBEATS_MISSED"
MESSAGE_TOO_LARGE = "MESSAGE_TOO_LARGE"
KEPT = 1000


@dataclasses.dataclass
class Record:
    """One app of one connection (a row of the dev server's connection history)."""

    connection_id: str
    worker_ip: str
    hello: messages.WorkerConnect  # without its apps
    app_name: str
    app_version: str | None
    function_slugs: tuple[str, ...]
    app_id: str
    sync_id: str
    group_hash: str
    synced_at_ms: int
    status: Status = Status.READY  # the connection's, as the live listing shows it
    # The status GraphQL shows: the dev server's history writes READY at every heartbeat,
    # even for a paused worker or one that has not said it is ready.
    listed_status: Status = Status.READY
    last_heartbeat_ms: int | None = None
    disconnect_reason: str | None = None
    name_listed: bool = True  # whether GraphQL shows the app's name (not by connection id)

    @property
    def connected_at_ms(self) -> int:
        return ulid.timestamp_ms(self.connection_id)

    @property
    def function_count(self) -> int:
        return len(self.function_slugs)


def functions(app: messages.AppConfig) -> object:
    """The app's functions as the worker sent them (None if they are not JSON)."""
    try:
        return json.loads(app.functions)
    except (ValueError, RecursionError):
        return None


def records(connection_id: str, worker_ip: str, hello: messages.WorkerConnect,
            synced: list[tuple[messages.AppConfig, tuple[str, str]]],
            now_ms: int) -> list[Record]:
    """A new connection's records: one per app, with its (app id, sync id)."""
    status = Status.CONNECTED if hello.manual_readiness else Status.READY
    slim = dataclasses.replace(hello, apps=[])  # the functions need not be kept
    return [Record(
        connection_id=connection_id, worker_ip=worker_ip, hello=slim, app_name=app.name,
        app_version=app.version, function_slugs=_slugs(functions(app)), app_id=app_id,
        sync_id=sync_id, group_hash=group_hash(hello, app), status=status,
        listed_status=status,
        synced_at_ms=now_ms, last_heartbeat_ms=now_ms,
    ) for app, (app_id, sync_id) in synced]


def _slugs(value: object) -> tuple[str, ...]:
    """The functions' ids (their slugs)."""
    listed = value if isinstance(value, list) else []
    return tuple(str(fn.get("id") or "") if isinstance(fn, dict) else "" for fn in listed)


def group_hash(hello: messages.WorkerConnect, app: messages.AppConfig) -> str:
    """The dev server's worker group hash: the account, environment, SDK, platform, the
    canonical functions' digest (its raw bytes) and the app version, hashed."""
    digest = hashlib.sha256(jcs.canonicalize(functions(app))).digest()
    head = ":".join((ACCOUNT_ID, ENV_ID, hello.sdk_language, hello.sdk_version,
                     hello.platform if hello.platform is not None else "-"))
    base = head.encode() + b":" + digest + b":" + (app.version or "").encode()
    return hashlib.sha256(base).hexdigest()


class History:
    """The connections' records, in the order they connected, to the gateway
    ``gateway_id``: every live one, and the newest ``KEPT`` disconnected ones (the dev
    server keeps all of them for as long as it runs)."""

    def __init__(self, gateway_id: str) -> None:
        self.gateway_id = gateway_id
        self._lock = threading.Lock()
        self._records: list[Record] = []

    def add(self, records: list[Record]) -> None:
        with self._lock:
            self._records.extend(records)

    def heartbeat(self, connection_id: str, now_ms: int) -> None:
        self.update(connection_id, now_ms, listed_status=Status.READY)

    def update(self, connection_id: str, now_ms: int, status: Status | None = None,
               reason: str | None = None, listed_status: Status | None = None) -> None:
        """A change of ``status`` of a connection's records (also the one GraphQL shows,
        unless given)."""
        with self._lock:
            for record in self._records:
                if record.connection_id != connection_id \
                        or record.status == Status.DISCONNECTED:
                    continue
                record.last_heartbeat_ms = now_ms
                if status is not None:
                    record.status = record.listed_status = status
                if listed_status is not None:
                    record.listed_status = listed_status
                if reason is not None:
                    record.disconnect_reason = reason
            if status == Status.DISCONNECTED:
                self._forget_oldest()

    def _forget_oldest(self) -> None:
        """Past ``KEPT`` disconnected connections, the oldest ones' records go (the lock
        held)."""
        gone = list(dict.fromkeys(record.connection_id for record in self._records
                                  if record.status == Status.DISCONNECTED))
        dropped = set(gone[:max(0, len(gone) - KEPT)])
        if dropped:
            self._records = [r for r in self._records if r.connection_id not in dropped]

    def records(self) -> list[Record]:
        with self._lock:
            return [dataclasses.replace(record) for record in self._records]

    def live(self) -> list[list[Record]]:
        """The connections not yet disconnected: each one's records."""
        grouped: dict[str, list[Record]] = {}
        for record in self.records():
            if record.status != Status.DISCONNECTED:
                grouped.setdefault(record.connection_id, []).append(record)
        return list(grouped.values())
