"""The dev server's testing routes for the workers connected now (also under ``/v0/envs``;
any environment):

* ``GET /v0/connect/envs/{env}/conns``: each connection as a ``connect.v1.ConnMetadata`` in
  Go's JSON (snake-case names, zero values left out); ``?app_id=`` keeps those serving that
  app.
* ``GET /v0/connect/envs/{env}/groups/{hash}``: a worker group (an app as a worker serves
  it) and its connections, while it has some.
"""

from __future__ import annotations

import uuid

from inngest._engine.connect.history import History, Record
from inngest._engine.models import JSON
from inngest._engine.realtime.tokens import ACCOUNT_ID, ENV_ID
from inngest._engine.timeparse import rfc3339


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


def group(connections: History, group_hash: str) -> tuple[int, JSON]:
    """The status and body of the answer."""
    records = [record for conn in connections.live() for record in conn
               if record.group_hash == group_hash]
    if not records:
        return 404, {"error": "error retrieving worker group",
                     "data": {"envID": ENV_ID, "groupID": group_hash}, "status": 404}
    first = records[0]
    data: dict[str, JSON] = {
        "acct_id": ACCOUNT_ID, "env_id": ENV_ID, "app_id": first.app_id,
        "app_name": first.app_name, "app_version": first.app_version,
        "sdk_lang": first.hello.sdk_language, "sdk_version": first.hello.sdk_version,
        "sdk_platform": first.hello.platform or "", "fns": list(first.function_slugs),
        "sync_id": first.sync_id, "hash": group_hash,
        "created_at": rfc3339(first.synced_at_ms), "synced": True,
        "conns": [record.connection_id for record in records],
    }
    return 200, {"data": {key: value for key, value in data.items() if value is not None}}


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
