"""``GET /v0/connect/envs/{env}/conns`` (also at ``/v0/envs/{env}/conns``): the dev server's
testing route for the workers connected now, each as a ``connect.v1.ConnMetadata`` in Go's
JSON (snake-case names, zero values left out); ``?app_id=`` keeps those serving that app.
The dev server takes any environment."""

from __future__ import annotations

import uuid

from inngest._engine.connect.history import History, Record
from inngest._engine.models import JSON


def listing(connections: History, app_id: str) -> tuple[int, JSON]:
    """The status and body of the answer."""
    if app_id:
        try:
            app_id = str(uuid.UUID(app_id))
        except ValueError:
            return 400, {"error": "app_id is invalid UUID", "data": {"app_id": app_id},
                         "status": 400}
    data: list[JSON] = [
        _metadata(records, connections.gateway_id) for records in connections.live()
        if not app_id or any(record.app_id == app_id for record in records)]
    return 200, {"data": data}


def _metadata(records: list[Record], gateway_id: str) -> JSON:
    first = records[0]
    hello = first.hello
    metadata: dict[str, JSON] = {
        "id": first.connection_id, "gateway_id": gateway_id, "instance_id": hello.instance_id,
        # Go writes a map's keys sorted.
        "all_worker_groups": dict(sorted((r.app_name, r.group_hash) for r in records)),
        "synced_worker_groups": dict(sorted((r.app_id, r.group_hash) for r in records)),
        "status": int(first.status),
        "last_heartbeat_at": _timestamp(first.last_heartbeat_ms),
        "sdk_language": hello.sdk_language, "sdk_version": hello.sdk_version,
    }
    if hello.attributes is not None:
        metadata["attributes"] = {
            "cpu_cores": hello.attributes.cpu_cores, "mem_bytes": hello.attributes.mem_bytes,
            "os": hello.attributes.os}
    return _omit_zero(metadata)


def _timestamp(ms: int | None) -> JSON:
    """A ``google.protobuf.Timestamp`` in Go's JSON."""
    if ms is None:
        return None
    return {"seconds": ms // 1000, "nanos": ms % 1000 * 1_000_000}


def _omit_zero(value: JSON) -> JSON:
    """Go's ``omitempty``: zero numbers, empty strings, maps and nulls left out."""
    if isinstance(value, dict):
        kept = {key: _omit_zero(item) for key, item in value.items()}
        return {key: item for key, item in kept.items() if item not in (0, "", None, {})
                or isinstance(item, bool)}
    return value
