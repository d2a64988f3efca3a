"""Listings of the connect gateway's workers, as the dev server answers them (measured
against it with these same connect messages): ``GET /v0/connect/envs/{env}/conns`` for the
connected ones and GraphQL ``workerConnections``/``workerConnection`` for every one."""

from __future__ import annotations

import base64
import json
import struct
import typing

import pytest
import urllib3
from engine_fakes import wait
from test_connect_gateway import (
    APP, CONNECT, GATEWAY_HEARTBEAT, PAUSE, READY, WORKER_HEARTBEAT, connect_payload, dev,
    field, function, message, open_gateway, receive,
)
from ws_client import CLOSE, Client as WebSocket

from inngest._engine import ulid
from inngest._engine.connect import history
from inngest._engine.http.server import DevServer
from inngest._engine.otel import protowire

__all__ = ["dev"]  # the fixture
pytestmark = pytest.mark.timeout(60)
HTTP = urllib3.PoolManager(retries=False)
OTHER, THIRD = "py-other", "py-third"


def app(name: str, version: str | None = None) -> bytes:
    functions = [function(f"{name}-fn", f"{name}/event")]
    return field(1, name) + (field(2, version) if version is not None else b"") \
        + field(4, json.dumps(functions))


# A worker on a host it describes, on a platform, with a capacity, serving a versioned app;
# the dev server's worker group hashes for these messages (its answers to them).
DESCRIBED = field(7, field(1, 4) + field(2, 1000) + field(3, "linux")) \
    + field(10, "railway") + field(14, 5)
HASHES = {
    APP: "508c5d1c6ca3b66553921479dcd249eb096f23115cd3bc76d3810e40b30ae8d3",
    OTHER: "9aa6107eecbd80e019b27dd9d266c1e71df826308eef2650c6f40dad1d84e269",
    THIRD: "cfdb665e63a9637cf8add3e143aef82fe67a877d28d2b748a4d0101363afa9e3",
}


def worker(dev: DevServer, apps: list[bytes], extra: bytes = b"", instance_id: str = "inst",
           manual_readiness: bool = False) -> tuple[WebSocket, str]:
    """A connected worker and its connection id."""
    ws = open_gateway(dev)
    payload = connect_payload(dev, apps=apps, instance_id=instance_id) + extra \
        + field(6, int(manual_readiness))
    ws.send(message(CONNECT, payload))
    assert receive(ws)[0] == READY
    connection_id = next(value for number, _, value in protowire.fields(payload)
                         if number == 1)
    return ws, bytes(connection_id).decode()


def shut_down(ws: WebSocket) -> None:
    """Closes as the JS SDK does when its worker shuts down."""
    ws.send(struct.pack("!H", 1000) + b"WORKER_SHUTDOWN", CLOSE)
    ws.close_frame()
    ws.close()


def get(dev: DevServer, path: str) -> urllib3.BaseHTTPResponse:
    return HTTP.request("GET", dev.url + path)


def gql(dev: DevServer, query: str) -> dict[str, typing.Any]:
    response = HTTP.request("POST", dev.url + "/v0/gql", body=json.dumps({"query": query}),
                            headers={"Content-Type": "application/json"})
    assert response.status == 200
    return dict(json.loads(response.data))


def app_ids(dev: DevServer) -> dict[str, str]:
    return {a["externalID"]: a["id"] for a in gql(dev, "{ apps { id externalID } }")
            ["data"]["apps"]}


# GET /v0/connect/envs/{env}/conns


def test_the_connected_workers_are_listed(dev: DevServer) -> None:
    described, first = worker(dev, [app(APP, "v1")], DESCRIBED, "inst-a")
    plain, second = worker(dev, [app(OTHER), app(THIRD)], instance_id="inst-b")
    try:
        ids = app_ids(dev)
        response = get(dev, "/v0/connect/envs/any/conns")
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        listed = json.loads(response.data)["data"]
        for conn in listed:
            assert set(conn.pop("last_heartbeat_at")) == {"seconds", "nanos"}
        gateway_id = listed[0]["gateway_id"]
        assert ulid.is_ulid(gateway_id)
        assert listed == [{
            "id": first, "gateway_id": gateway_id, "instance_id": "inst-a",
            "all_worker_groups": {APP: HASHES[APP]},
            "synced_worker_groups": {ids[APP]: HASHES[APP]}, "status": 1,
            "sdk_language": "typescript", "sdk_version": "v3.54.2",
            "attributes": {"cpu_cores": 4, "mem_bytes": 1000, "os": "linux"},
        }, {
            "id": second, "gateway_id": gateway_id, "instance_id": "inst-b",
            "all_worker_groups": {OTHER: HASHES[OTHER], THIRD: HASHES[THIRD]},
            "synced_worker_groups": dict(sorted([(ids[OTHER], HASHES[OTHER]),
                                                 (ids[THIRD], HASHES[THIRD])])),
            "status": 1, "sdk_language": "typescript", "sdk_version": "v3.54.2",
        }]
        assert get(dev, "/v0/envs/any/conns").data == response.data
        by_app = json.loads(get(dev, f"/v0/connect/envs/any/conns?app_id={ids[THIRD]}").data)
        assert [conn["id"] for conn in by_app["data"]] == [second]
        bad = get(dev, "/v0/connect/envs/any/conns?app_id=zz")
        assert bad.status == 400
        assert json.loads(bad.data) | {"code": "", "message": ""} == {
            "error": "app_id is invalid UUID", "data": {"app_id": "zz"}, "status": 400,
            "code": "", "message": ""}
        plain.send(message(PAUSE))
        shut_down(described)
        # The pause and the shutdown come on two connections, read on two threads.
        wait(lambda: [(conn["id"], conn["status"]) for conn in json.loads(
            get(dev, "/v0/connect/envs/any/conns").data)["data"]] == [(second, 2)])  # draining
    finally:
        described.close()
        plain.close()


# GraphQL

NODE = """id gatewayId instanceId workerIp maxWorkerConcurrency appName appID
    app { externalID } connectedAt lastHeartbeatAt disconnectedAt disconnectReason status
    groupHash sdkLang sdkVersion sdkPlatform syncId buildId appVersion functionCount
    cpuCores memBytes os"""


def connections(dev: DevServer, args: str = "orderBy: [], filter: {}",
                node: str = "id appName status") -> dict[str, typing.Any]:
    body = gql(dev, "{ workerConnections(%s) { totalCount edges { cursor node { %s } } "
                    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
               % (args, node))
    return dict(body["data"]["workerConnections"])


def cursor(connection_id: str, values: dict[str, int] | None = None) -> str:
    sorts = {name: {"f": name, "v": value} for name, value in (values or {}).items()}
    page = {"id": connection_id, "c": sorts}
    return base64.b64encode(json.dumps(page, separators=(",", ":")).encode()).decode()


def test_graphql_lists_every_connection_and_keeps_the_disconnected(dev: DevServer) -> None:
    described, first = worker(dev, [app(APP, "v1")], DESCRIBED, "inst-a")
    waiting, second = worker(dev, [app(OTHER), app(THIRD)], instance_id="inst-b",
                             manual_readiness=True)
    try:
        shut_down(described)
        wait(lambda: connections(dev)["edges"][0]["node"]["status"] == "DISCONNECTED")
        listed = connections(dev, node=NODE)
        assert listed["totalCount"] == 3
        assert listed["pageInfo"] == {
            "hasNextPage": False, "hasPreviousPage": False,
            "startCursor": cursor(first), "endCursor": cursor(second)}
        assert [edge["cursor"] for edge in listed["edges"]] == [
            cursor(first), cursor(second), cursor(second)]
        # A connection's apps come in no set order there.
        gone, other, third = sorted((edge["node"] for edge in listed["edges"]),
                                    key=lambda node: (node["id"], node["appName"]))
        assert ulid.is_ulid(gone.pop("gatewayId"))
        assert gone.pop("workerIp").startswith("127.0.0.1:")
        assert gone.pop("connectedAt").startswith(gone.pop("lastHeartbeatAt")[:4])
        ids = app_ids(dev)
        assert gone.pop("syncId")
        assert gone == {
            "id": first, "instanceId": "inst-a", "maxWorkerConcurrency": 5,
            "appName": APP, "appID": ids[APP], "app": {"externalID": APP},
            "disconnectedAt": None, "disconnectReason": "WORKER_SHUTDOWN",
            "status": "DISCONNECTED", "groupHash": HASHES[APP], "sdkLang": "typescript",
            "sdkVersion": "v3.54.2", "sdkPlatform": "railway", "buildId": "v1",
            "appVersion": "v1", "functionCount": 1, "cpuCores": 4, "memBytes": 1000,
            "os": "linux"}
        # Not yet ready: the dev server wrote these nodes before their apps' sync.
        assert {key: other[key] for key in (
            "appName", "appID", "app", "syncId", "status", "groupHash", "sdkPlatform",
            "appVersion", "maxWorkerConcurrency", "cpuCores", "memBytes", "os",
            "disconnectReason")} == {
            "appName": OTHER, "appID": None, "app": None, "syncId": None,
            "status": "CONNECTED", "groupHash": HASHES[OTHER], "sdkPlatform": "",
            "appVersion": None, "maxWorkerConcurrency": 0, "cpuCores": 0, "memBytes": 0,
            "os": "", "disconnectReason": None}
        assert (third["appName"], third["groupHash"]) == (THIRD, HASHES[THIRD])
    finally:
        described.close()
        waiting.close()


def test_graphql_pages_orders_and_filters_connections(dev: DevServer) -> None:
    described, first = worker(dev, [app(APP, "v1")], DESCRIBED, "inst-a")
    waiting, second = worker(dev, [app(OTHER), app(THIRD)], instance_id="inst-b",
                             manual_readiness=True)
    try:
        page = connections(dev, "first: 1, orderBy: [], filter: {}")
        assert [edge["node"]["id"] for edge in page["edges"]] == [first]
        assert (page["pageInfo"]["hasNextPage"], page["totalCount"]) == (True, 3)
        # The page after a connection leaves out all of its nodes.
        rest = connections(dev, 'first: 1, after: "%s", orderBy: [], filter: {}'
                           % cursor(first))
        assert [edge["node"]["id"] for edge in rest["edges"]] == [second]
        assert rest["totalCount"] == 2
        assert connections(dev, 'after: "%s", orderBy: [], filter: {}'
                           % cursor(second))["totalCount"] == 1
        newest = connections(dev, "orderBy: [{field: CONNECTED_AT, direction: DESC}], "
                                  "filter: {}")
        assert [edge["node"]["id"] for edge in newest["edges"]] == [second, second, first]
        assert newest["edges"][2]["cursor"] == cursor(first, {
            "connected_at": ulid.timestamp_ms(first)})
        older = connections(dev, 'orderBy: [{field: CONNECTED_AT, direction: DESC}], '
                                 'after: "%s", filter: {}' % newest["edges"][0]["cursor"])
        assert [edge["node"]["appName"] for edge in older["edges"]] == [APP]
        ready = connections(dev, "orderBy: [], filter: {status: [READY]}")
        assert [edge["node"]["id"] for edge in ready["edges"]] == [first]
        ids = app_ids(dev)
        by_app = connections(dev, 'orderBy: [], filter: {appIDs: ["%s"]}' % ids[APP])
        assert [edge["node"]["id"] for edge in by_app["edges"]] == [first]
        # The dev server stores no disconnect times: that range holds nothing.
        assert connections(dev, "orderBy: [], filter: {timeField: DISCONNECTED_AT}") == {
            "totalCount": 0, "edges": [], "pageInfo": {
                "hasNextPage": False, "hasPreviousPage": False, "startCursor": None,
                "endCursor": None}}
        until = connections(dev, 'orderBy: [], filter: {until: "2020-01-01T00:00:00Z"}')
        assert until["totalCount"] == 0
    finally:
        described.close()
        waiting.close()


def test_graphql_gets_one_connection(dev: DevServer) -> None:
    ws, connection_id = worker(dev, [app(APP, "v1")], DESCRIBED)
    try:
        one = gql(dev, '{ workerConnection(connectionId: "%s") { id appName status '
                       'app { externalID } } }' % connection_id)
        # Its app's name is not read for this query there.
        assert one == {"data": {"workerConnection": {
            "id": connection_id, "appName": "", "status": "READY",
            "app": {"externalID": APP}}}}
        missing = gql(dev, '{ workerConnection(connectionId: "01ARZ3NDEKTSV4RRFFQ69G5FAV") '
                           '{ id } }')
        assert missing["data"] == {"workerConnection": None}
        assert [(e["message"], e["path"]) for e in missing["errors"]] == [(
            "error retrieving worker connection: sql: no rows in result set",
            ["workerConnection"])]
        bad = gql(dev, '{ workerConnection(connectionId: "zz") { id } }')
        assert [(e["message"], e["path"]) for e in bad["errors"]] == [(
            "ulid: bad data size when unmarshaling", ["workerConnection", "connectionId"])]
    finally:
        ws.close()


def test_only_the_newest_disconnected_connections_are_kept(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The dev server keeps all of them; the engine keeps history.KEPT (1000).
    monkeypatch.setattr(history, "KEPT", 2)
    live, kept = worker(dev, [app(APP)])
    try:
        gone = []
        for _ in range(3):
            ws, connection_id = worker(dev, [app(OTHER)])
            shut_down(ws)
            gone.append(connection_id)
            wait(lambda: connections(dev)["edges"][-1]["node"]["status"] == "DISCONNECTED")
        listed = [edge["node"]["id"] for edge in connections(dev)["edges"]]
        assert listed == [kept, *gone[1:]]
    finally:
        live.close()


def test_a_worker_group_is_shown_while_it_has_connections(dev: DevServer) -> None:
    first_ws, first = worker(dev, [app(APP, "v1")], DESCRIBED, "inst-a")
    second_ws, second = worker(dev, [app(APP, "v1")], DESCRIBED, "inst-b")
    path = f"/v0/connect/envs/any/groups/{HASHES[APP]}"
    try:
        response = get(dev, path)
        assert response.status == 200
        group = json.loads(response.data)["data"]
        assert group.pop("created_at").startswith("20")
        assert group.pop("sync_id")
        assert sorted(group.pop("conns")) == sorted([first, second])
        assert group == {
            "acct_id": "00000000-0000-4000-a000-000000000000",
            "env_id": "00000000-0000-4000-b000-000000000000", "app_id": app_ids(dev)[APP],
            "app_name": APP, "app_version": "v1", "sdk_lang": "typescript",
            "sdk_version": "v3.54.2", "sdk_platform": "railway", "fns": [f"{APP}-fn"],
            "hash": HASHES[APP], "synced": True}
        assert get(dev, f"/v0/envs/any/groups/{HASHES[APP]}").data == response.data
    finally:
        shut_down(first_ws)
        shut_down(second_ws)
    wait(lambda: get(dev, path).status == 404)
    assert json.loads(get(dev, path).data) | {"code": "", "message": ""} == {
        "error": "error retrieving worker group", "status": 404, "code": "", "message": "",
        "data": {"envID": "00000000-0000-4000-b000-000000000000", "groupID": HASHES[APP]}}


def test_a_heartbeat_lists_the_connection_as_ready(dev: DevServer) -> None:
    # As the dev server's history, whatever the worker said; its live listing keeps the
    # connection's own status.
    paused, _ = worker(dev, [app(APP)], instance_id="paused")
    waiting, _ = worker(dev, [app(OTHER)], instance_id="waiting", manual_readiness=True)
    try:
        paused.send(message(PAUSE))
        paused.send(message(WORKER_HEARTBEAT))
        assert receive(paused) == (GATEWAY_HEARTBEAT, {})
        # Not answered there before the worker says it is ready (or pauses).
        waiting.send(message(WORKER_HEARTBEAT))
        waiting.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            waiting.receive()
        listed = connections(dev, node="appName status appID")
        assert [(edge["node"]["appName"], edge["node"]["status"], bool(edge["node"]["appID"]))
                for edge in listed["edges"]] == [(APP, "READY", True), (OTHER, "READY", True)]
        live = json.loads(get(dev, "/v0/connect/envs/any/conns").data)["data"]
        assert [(conn["instance_id"], conn.get("status")) for conn in live] == [
            ("paused", 2), ("waiting", None)]
    finally:
        paused.close()
        waiting.close()
