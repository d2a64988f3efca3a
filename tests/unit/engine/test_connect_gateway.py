"""The connect protocol as a worker sees it, from a worker written here: the start request,
the gateway's WebSocket handshake, executor requests and their replies, and bad input
(closed with the dev server's codes and reasons, measured against it; never a crash)."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import typing

import pytest
import urllib3
from engine_fakes import Client, wait
from ws_client import BINARY, TEXT, Client as WebSocket

from inngest._engine import ulid
from inngest._engine.connect import gateway, workers
from inngest._engine.http.server import DevServer
from inngest._engine.otel import protowire

pytestmark = pytest.mark.timeout(60)
HTTP = urllib3.PoolManager(retries=False)
PROTOCOL = "v0.connect.inngest.com"
# GatewayMessageType
CONNECT, READY, EXECUTOR_REQUEST, WORKER_READY, REQUEST_ACK = 1, 2, 3, 4, 5
REPLY, REPLY_ACK, PAUSE = 6, 7, 8
WORKER_HEARTBEAT, GATEWAY_HEARTBEAT, EXTEND_LEASE, EXTEND_LEASE_ACK = 9, 10, 12, 13
SYNC_FAILED = 14
APP = "py-connect"


def field(number: int, value: str | bytes | int) -> bytes:
    if isinstance(value, int):
        return protowire.field(number, protowire.VARINT, value)
    return protowire.field(number, protowire.LEN,
                           value.encode() if isinstance(value, str) else value)


def message(kind: int, payload: bytes = b"") -> bytes:
    return (field(1, kind) if kind else b"") + (field(2, payload) if payload else b"")


def decoded(data: bytes) -> dict[int, typing.Any]:
    """A message's fields by number (the last of each), strings as text where they are."""
    out: dict[int, typing.Any] = {}
    for number, _, value in protowire.fields(data):
        if isinstance(value, bytes):
            try:
                value = value.decode()
            except UnicodeDecodeError:
                pass
        out[number] = value
    return out


def function(slug: str, event: str) -> dict[str, typing.Any]:
    # Retried often enough that a worker can reconnect between attempts.
    return {"id": slug, "name": slug, "triggers": [{"event": event}],
            "steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": 20},
                               "runtime": {"type": "ws",
                                           "url": f"wss://connect/?fnId={slug}&stepId=step"}}}}


@pytest.fixture
def dev() -> typing.Iterator[DevServer]:
    with DevServer(port=0, poll=False, retry_interval=0.05) as server:
        yield server


def start(dev: DevServer, headers: dict[str, str] | None = None,
          body: bytes = b"") -> urllib3.BaseHTTPResponse:
    return HTTP.request("POST", dev.url + "/v0/connect/start", body=body, headers=headers)


def session(dev: DevServer) -> dict[int, typing.Any]:
    response = start(dev)
    assert response.status == 200
    return decoded(response.data)


def connect_payload(dev: DevServer, *, apps: list[bytes] | None = None,
                    connection_id: str | None = None, token: str | None = None,
                    instance_id: str = "test-instance") -> bytes:
    started = session(dev)
    if apps is None:
        functions = [function(f"{APP}-fn", "py/connect")]
        apps = [field(1, APP) + field(4, json.dumps(functions))]
    return b"".join([
        field(1, connection_id if connection_id is not None else started[1]),
        field(2, instance_id) if instance_id else b"",
        field(3, field(1, token if token is not None else started[4])),
        field(4, '{"trust_probe":"v1","connect":"v1"}'),
        *(field(5, app) for app in apps),
        field(9, "connect"), field(11, "v3.54.2"), field(12, "typescript"),
    ])


def open_gateway(dev: DevServer) -> WebSocket:
    ws = WebSocket(str(session(dev)[2]), PROTOCOL)
    assert ws.status == 101
    assert ws.receive() == (BINARY, b"")  # the hello: an empty message
    return ws


def receive(ws: WebSocket) -> tuple[int, dict[int, typing.Any]]:
    opcode, data = ws.receive()
    assert opcode == BINARY, (opcode, data)
    fields = {number: value for number, _, value in protowire.fields(data)}
    payload = fields.get(2, b"")
    assert isinstance(payload, bytes)
    return int(fields.get(1, 0)), decoded(payload)


def ready_worker(dev: DevServer, manual_readiness: bool = False) -> WebSocket:
    ws = open_gateway(dev)
    ws.send(message(CONNECT, connect_payload(dev) + field(6, int(manual_readiness))))
    kind, ready = receive(ws)
    assert (kind, ready) == (READY, {1: "10s", 2: "30s", 3: "0s"})
    return ws


def engine_alive(dev: DevServer) -> bool:
    return HTTP.request("GET", dev.url + "/health").status == 200


def statuses(dev: DevServer) -> list[int]:
    """The connections' statuses in the connect listing (0 connected, 1 ready, 2 draining)."""
    listing = HTTP.request("GET", dev.url + "/v0/connect/envs/any/conns")
    return [conn.get("status", 0) for conn in json.loads(listing.data)["data"]]


# The start request


def test_start_answers_a_connection_and_the_gateway_to_open(dev: DevServer) -> None:
    response = start(dev, {"Authorization": "Bearer signkey-test-abc"})
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    started = decoded(response.data)
    assert ulid.is_ulid(started[1])
    assert started[2] == f"ws://127.0.0.1:{dev.port}/v0/connect"
    assert started[3] == "gw-dev"
    assert len(started[4].split(".")) == 3  # a JWT
    assert started[5] == "signkey-test-abc"  # the sync token: the bearer token back
    assert 5 not in session(dev)  # none without one
    assert session(dev)[1] != started[1]


def nested_groups(depth: int, closed: bool = True) -> bytes:
    """Groups of field 11 (``[`` starts one, ``\\`` ends it) nested ``depth`` deep."""
    return b"[" * depth + (b"\\" * depth if closed else b"")


@pytest.mark.parametrize("body", [
    b"zzz",
    # Nesting took Python's recursion (a 500); the dev server's decoder allows 10,001.
    nested_groups(5000, closed=False), nested_groups(10_002),
])
def test_start_refuses_a_body_that_is_not_a_start_request(dev: DevServer, body: bytes) -> None:
    response = start(dev, body=body)
    assert response.status == 400
    assert response.data == b'{"error":"could not unmarshal request","data":null,"status":400}\n'


def test_start_skips_unknown_groups_nested_as_deep_as_the_dev_server_allows(
        dev: DevServer) -> None:
    assert start(dev, body=nested_groups(10_001)).status == 200
    assert start(dev, body=field(1, "gw-other")).status == 200


@pytest.mark.parametrize("body", [b"\x08\x01", b"\x0b\x0c", b"\x0d\x01\x02\x03\x04"])
def test_start_skips_a_field_of_the_wrong_wire_type(dev: DevServer, body: bytes) -> None:
    """Field 1 (the groups to exclude, a string) as a varint, a group or 4 bytes: Go's
    decoder keeps it as an unknown field, as the dev server's 200 shows."""
    assert start(dev, body=body).status == 200


# The gateway's own port


@pytest.fixture
def gateway_dev() -> typing.Iterator[DevServer]:
    """An engine whose gateway has a port of its own, as ``python -m inngest dev``'s."""
    with DevServer(port=0, poll=False, retry_interval=0.05, connect_gateway_port=0) as server:
        yield server


def test_the_start_response_names_the_gateways_own_port(gateway_dev: DevServer) -> None:
    port = gateway_dev.connect_gateway_port
    assert port not in (None, 0, gateway_dev.port)
    assert session(gateway_dev)[2] == f"ws://127.0.0.1:{port}/v0/connect"
    # The name the worker reached the API by, with the gateway's port, as the dev server's.
    for host, named in [("localhost:1234", "localhost"), ("127.0.0.2", "127.0.0.2"),
                        ("[::1]:1234", "[::1]")]:
        started = decoded(start(gateway_dev, {"Host": host}).data)
        assert started[2] == f"ws://{named}:{port}/v0/connect"


def test_a_taken_gateway_port_moves_the_gateway_to_the_next_free_one() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with DevServer(port=0, poll=False, connect_gateway_port=busy) as server:
            assert server.connect_gateway_port in range(busy + 1, busy + 20)
            assert session(server)[2] == \
                f"ws://127.0.0.1:{server.connect_gateway_port}/v0/connect"


def test_a_worker_runs_over_the_gateways_own_port(gateway_dev: DevServer) -> None:
    ws = ready_worker(gateway_dev)
    client = Client(gateway_dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(ws)
        assert kind == EXECUTOR_REQUEST
        reply(ws, request[1], "own port")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "own port")
    finally:
        ws.close()


def test_the_gateways_own_port_answers_as_the_dev_servers(gateway_dev: DevServer) -> None:
    """Measured on the dev server's --connect-gateway-port."""
    origin = f"http://127.0.0.1:{gateway_dev.connect_gateway_port}"

    def answer(method: str, path: str) -> tuple[int, str, str, bytes]:
        response = HTTP.request(method, origin + path)
        return (response.status, response.headers.get("Content-Type", ""),
                response.headers.get("Allow", ""), response.data)

    text = "text/plain; charset=utf-8"
    assert answer("GET", "/v0") == answer("GET", "/v0/") == (200, text, "", b".")
    assert answer("GET", "/ready") == (200, "", "", b"")
    assert answer("POST", "/ready") == answer("HEAD", "/ready") == (405, "", "GET", b"")
    for method, path in [("GET", "/health"), ("POST", "/v0/connect/start"), ("GET", "/")]:
        assert answer(method, path) == (404, text, "", b"404 page not found\n")
    assert answer("GET", "/v0/connect")[0] == 426
    assert HTTP.request("GET", origin + "/ready", headers={"Host": "evil.test"},
                        ).status == 403  # the API port's guard, here too


# The handshake


def test_the_gateway_refuses_a_request_that_is_not_a_websocket(dev: DevServer) -> None:
    response = HTTP.request("GET", dev.url + "/v0/connect")
    assert response.status == 426
    assert response.headers["Upgrade"] == "websocket"
    assert response.data == b'WebSocket protocol violation: Connection header "" does not ' \
                            b'contain Upgrade\n'


def test_a_connect_apps_functions_carry_its_run_limit(dev: DevServer) -> None:
    """Measured (a JS SDK worker on the dev server): each function of a Connect app lists
    the app's own run limit, ``app:<app UUID>``, among its function limits."""
    ws = ready_worker(dev)
    try:
        client = Client(dev)
        [listed] = client.request("GET", "/dev")[1]["functions"]
        [fn] = client.request("GET", f"/v1/apps/{APP}/functions")[1]
    finally:
        ws.close()
    limit = {"fn": [{"limit": 0, "scope": "app", "id": f"app:{fn['app_id']}"}]}
    assert listed["concurrency"] == fn["config"]["concurrency"] == limit
    assert listed["steps"][0]["uri"] == f"wss://connect/?fnId={APP}-fn&stepId=step"


def test_a_worker_that_connects_syncs_its_app(dev: DevServer) -> None:
    ws = ready_worker(dev)
    try:
        client = Client(dev)
        status, functions = client.request("GET", f"/v1/apps/{APP}/functions")
        assert status == 200 and [fn["id"] for fn in functions] == [f"{APP}-fn"]
        status, body = client.request("POST", "/v0/gql", {
            "query": "{ apps { externalID url method sdkLanguage sdkVersion appVersion "
                     "framework connected } }"})
        # An app with no version has "" as on the dev server (its apps' version is a string).
        assert body["data"]["apps"] == [{
            "externalID": APP, "url": f"ws://connect?app_name={APP}", "method": "CONNECT",
            "sdkLanguage": "typescript", "sdkVersion": "v3.54.2", "appVersion": "",
            "framework": None, "connected": True}]
        ws.send(message(WORKER_HEARTBEAT))
        assert receive(ws) == (GATEWAY_HEARTBEAT, {})
    finally:
        ws.close()


BAD_HANDSHAKES: dict[str, tuple[typing.Callable[[DevServer], bytes], int, int, str]] = {
    "not protobuf": (lambda dev: b"\xff\xff\xff", BINARY, 1007, "failed to unmarshal Protobuf"),
    "text frame": (lambda dev: b"hi", TEXT, 1008, "connect_worker_hello_invalid_msg"),
    "heartbeat first": (lambda dev: message(WORKER_HEARTBEAT), BINARY, 1008,
                        "connect_worker_hello_invalid_msg"),
    "bad payload": (lambda dev: message(CONNECT, b"\xff\xff"), BINARY, 1008,
                    "connect_worker_hello_invalid_payload"),
    "bad connection id": (lambda dev: message(CONNECT, connect_payload(
        dev, connection_id="nope")), BINARY, 1008, "connect_worker_hello_invalid_payload"),
    "no instance id": (lambda dev: message(CONNECT, connect_payload(dev, instance_id="")),
                       BINARY, 1008, "connect_worker_hello_invalid_payload"),
    "bad session token": (lambda dev: message(CONNECT, connect_payload(dev, token="x.y.z")),
                          BINARY, 1008, "connect_authentication_failed"),
    "no apps": (lambda dev: message(CONNECT, connect_payload(dev, apps=[])), BINARY, 1008,
                "connect_worker_hello_invalid_payload"),
    "functions not JSON": (lambda dev: message(CONNECT, connect_payload(
        dev, apps=[field(1, "py-bad") + field(4, "{not json")])), BINARY, 1011,
        "connect_internal_error"),
}


@pytest.mark.parametrize("case", list(BAD_HANDSHAKES))
def test_a_bad_handshake_is_closed_with_the_dev_servers_code(dev: DevServer, case: str) -> None:
    build, opcode, code, reason = BAD_HANDSHAKES[case]
    ws = open_gateway(dev)
    try:
        ws.send(build(dev), opcode)
        assert ws.close_frame() == (code, reason)
    finally:
        ws.close()
    assert engine_alive(dev)
    Client(dev).request("GET", "/v1/apps/py-bad/functions")
    ready_worker(dev).close()


def test_a_message_over_the_limit_closes_the_connection(dev: DevServer) -> None:
    ws = ready_worker(dev)
    try:
        # Only the head of a 9 MiB frame: the limit (8 MiB) is checked before the payload.
        ws.sock.sendall(b"\x82\xff" + struct.pack("!Q", 9 * 2**20) + b"mask" + b"\0" * 64)
        assert ws.close_frame() == (1009, "read limited at 8388609 bytes")
    finally:
        ws.close()
    assert engine_alive(dev)


def test_a_worker_that_says_nothing_is_closed_after_the_hello_timeout(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway, "HELLO_TIMEOUT_SECONDS", 0.1)  # 5 s, as the dev server
    ws = open_gateway(dev)
    try:
        assert ws.close_frame() == (1008, "connect_worker_hello_timeout")
    finally:
        ws.close()


def test_an_app_that_does_not_sync_is_reported_before_the_close(dev: DevServer) -> None:
    ws = open_gateway(dev)
    try:
        invalid = [{"id": "x", "name": "x", "triggers": [], "steps": {}}]
        ws.send(message(CONNECT, connect_payload(dev, apps=[
            field(1, "py-invalid") + field(4, json.dumps(invalid))])))
        assert receive(ws) == (SYNC_FAILED, {3: "At least one function is invalid"})
        assert ws.close_frame() == (1008, "")
    finally:
        ws.close()
    assert Client(dev).request("GET", "/v1/apps/py-invalid/functions")[1] == []


def test_bad_messages_once_ready(dev: DevServer) -> None:
    ws = ready_worker(dev)
    try:
        ws.send(message(99))  # an unknown kind is ignored
        unknown = ulid.Generator().new(0)
        # A request that is not waiting: an ack without a lease, as there.
        ws.send(message(EXTEND_LEASE, field(1, unknown) + field(10, unknown)))
        assert receive(ws) == (EXTEND_LEASE_ACK, {1: unknown})
        ws.send(message(REPLY, field(1, unknown) + field(5, 1)))  # acked, as there
        assert receive(ws) == (REPLY_ACK, {1: unknown})
        ws.send(message(REQUEST_ACK, field(1, unknown)))  # an unknown request: ignored
        ws.send(message(EXTEND_LEASE, field(1, "req") + field(10, "not-a-ulid")))
        assert ws.close_frame() == (1008, "connect_worker_request_extend_lease_invalid_payload")
    finally:
        ws.close()
    for bad, closed in [(b"\xff\xff\xff", (1007, "failed to unmarshal Protobuf")),
                        (message(REPLY, b"\xff\xff"), (1011, "connect_internal_error")),
                        (message(REQUEST_ACK, b"\xff\xff"),
                         (1008, "connect_worker_request_ack_invalid_payload"))]:
        ws = ready_worker(dev)
        try:
            ws.send(bad)
            assert ws.close_frame() == closed
        finally:
            ws.close()
    assert engine_alive(dev)


# Executor requests


def test_a_run_is_sent_to_the_worker_and_finished_by_its_reply(dev: DevServer) -> None:
    ws = ready_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {"n": 1}})
        kind, request = receive(ws)
        assert kind == EXECUTOR_REQUEST
        run_id = client.wait(lambda: client.runs(event_id))[0]["run_id"]
        assert (request[4], request[5], request[7], request[8], request[12]) == (
            client.request("GET", f"/v1/apps/{APP}/functions")[1][0]["app_id"], APP,
            f"{APP}-fn", "step", run_id)
        body = json.loads(request[9])
        assert body["event"]["data"] == {"n": 1} and body["ctx"]["run_id"] == run_id
        assert ulid.is_ulid(request[1]) and ulid.is_ulid(request[13])
        assert "traceparent" in json.loads(request[10])
        ack = b"".join([field(1, request[1]), field(4, request[4]), field(5, request[7]),
                        field(9, run_id)])
        ws.send(message(REQUEST_ACK, ack))
        ws.send(message(EXTEND_LEASE, ack + field(10, request[13])))
        kind, extended = receive(ws)
        assert kind == EXTEND_LEASE_ACK
        assert (extended[1], extended[4], extended[5]) == (request[1], request[4], request[7])
        assert ulid.is_ulid(extended[6]) and extended[6] != request[13]
        ws.send(message(EXTEND_LEASE, ack + field(10, extended[6])))
        newest = receive(ws)[1][6]
        ws.send(message(EXTEND_LEASE, ack + field(10, request[13])))  # two leases back
        assert receive(ws) == (EXTEND_LEASE_ACK, {1: request[1], 4: request[4],
                                                  5: request[7]})
        assert newest not in (request[13], extended[6])
        ws.send(message(REPLY, b"".join([
            field(1, request[1]), field(5, 1), field(6, '"done"'),
            field(9, "inngest-js:v3.54.2"), field(10, 1), field(13, run_id)])))
        assert receive(ws) == (REPLY_ACK, {1: request[1]})
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "done")
    finally:
        ws.close()


def test_a_call_with_no_worker_connected_is_retried_until_one_is(dev: DevServer) -> None:
    ws = ready_worker(dev)
    client = Client(dev)
    [event_id] = client.send({"name": "py/connect", "data": {}})
    assert receive(ws)[0] == EXECUTOR_REQUEST
    ws.close()  # the worker goes away without replying: the attempt fails, and the next
    wait(lambda: not statuses(dev))  # ones until a worker is connected again
    ws = ready_worker(dev)
    try:
        kind, request = receive(ws)
        assert kind == EXECUTOR_REQUEST and json.loads(request[9])["ctx"]["attempt"] >= 1
        ws.send(message(REPLY, field(1, request[1]) + field(5, 1) + field(6, '"second"')
                        + field(9, "inngest-js:v3.54.2")))
        assert receive(ws)[0] == REPLY_ACK
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "second")
    finally:
        ws.close()


def test_a_request_the_worker_acked_outlives_its_connection(dev: DevServer) -> None:
    """As the JS SDK does when its connection drops during a graceful shutdown: it
    reconnects, pauses at once, extends the lease of the request it runs and replies on the
    new connection. The attempt is the first one still (the dev server's JS integration test
    connect/shutdown-reconnect)."""
    ws = ready_worker(dev)
    client = Client(dev)
    [event_id] = client.send({"name": "py/connect", "data": {}})
    kind, request = receive(ws)
    assert kind == EXECUTOR_REQUEST
    ack = field(1, request[1]) + field(4, request[4]) + field(5, request[7])
    ws.send(message(REQUEST_ACK, ack))
    ws.close()
    again = open_gateway(dev)
    try:
        again.send(message(CONNECT, connect_payload(dev) + field(6, 1)))  # manual readiness
        assert receive(again)[0] == READY
        again.send(message(PAUSE))
        wait(lambda: 1 not in statuses(dev) and 2 in statuses(dev))  # the first one ended
        again.send(message(EXTEND_LEASE, ack + field(10, request[13])))
        kind, extended = receive(again)
        assert kind == EXTEND_LEASE_ACK and ulid.is_ulid(extended[6])
        reply(again, request[1], "after the reconnect")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "after the reconnect")
        assert json.loads(request[9])["ctx"]["attempt"] == 0
    finally:
        again.close()


def reply(ws: WebSocket, request_id: str, output: str) -> None:
    ws.send(message(REPLY, field(1, request_id) + field(5, 1) + field(6, json.dumps(output))
                    + field(9, "inngest-js:v3.54.2")))
    assert receive(ws) == (REPLY_ACK, {1: request_id})


def lose(ws: WebSocket, how: str) -> None:
    """The worker's connection stops taking requests: it closes, or pauses."""
    if how == "close":
        ws.close()
    else:
        ws.send(message(PAUSE))


@pytest.mark.parametrize("how", ["close", "pause"])
def test_a_request_lost_before_its_ack_goes_to_another_connection(
        dev: DevServer, how: str) -> None:
    """As on the dev server, within the same attempt."""
    other, first = ready_worker(dev), ready_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(first)  # the newest connection gets it
        assert kind == EXECUTOR_REQUEST
        lose(first, how)
        kind, again = receive(other)
        assert kind == EXECUTOR_REQUEST and again == request
        assert json.loads(again[9])["ctx"]["attempt"] == 0
        reply(other, again[1], "rerouted")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "rerouted")
    finally:
        first.close()
        other.close()


def test_a_request_lost_three_times_fails_its_attempt(dev: DevServer) -> None:
    """The dev server sends a request 3 times at most; then the attempt fails, and the next
    one goes to the connection still ready."""
    spare, *losing = (ready_worker(dev) for _ in range(4))
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        sent = []
        for ws in reversed(losing):  # newest first
            kind, request = receive(ws)
            assert kind == EXECUTOR_REQUEST
            sent.append(request)
            ws.close()
        assert [json.loads(request[9])["ctx"]["attempt"] for request in sent] == [0, 0, 0]
        assert len({request[1] for request in sent}) == 1  # the same request each time
        kind, retried = receive(spare)
        assert kind == EXECUTOR_REQUEST and json.loads(retried[9])["ctx"]["attempt"] == 1
        reply(spare, retried[1], "second attempt")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "second attempt")
    finally:
        for ws in (spare, *losing):
            ws.close()


def test_an_acked_request_is_not_sent_to_another_connection(dev: DevServer) -> None:
    """Its connection closed, it waits for a reply (on any connection) while its lease
    lasts."""
    other, first = ready_worker(dev), ready_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(first)
        assert kind == EXECUTOR_REQUEST
        first.send(message(REQUEST_ACK, field(1, request[1]) + field(4, request[4])
                           + field(5, request[7])))
        first.close()
        wait(lambda: len(statuses(dev)) == 1)
        time.sleep(0.2)
        other.send(message(WORKER_HEARTBEAT))
        assert receive(other) == (GATEWAY_HEARTBEAT, {})  # it got no request
        reply(other, request[1], "acked")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "acked")
        assert json.loads(request[9])["ctx"]["attempt"] == 0
    finally:
        other.close()


def test_a_call_waits_while_the_apps_connections_drain_for_one_to_be_ready(
        dev: DevServer) -> None:
    """As the dev server's router does during a worker's rollout: it looks again each second,
    10 times, within the same attempt. A paused connection stays paused: its ready is
    ignored."""
    paused, waiting = ready_worker(dev), ready_worker(dev, manual_readiness=True)
    client = Client(dev)
    try:
        paused.send(message(PAUSE))
        paused.send(message(WORKER_READY))
        wait(lambda: 2 in statuses(dev))  # the pause is read on the connection's thread
        [event_id] = client.send({"name": "py/connect", "data": {}})
        client.wait(lambda: client.runs(event_id))
        time.sleep(0.3)  # the call waits meanwhile: the only other connection is not ready
        assert sorted(statuses(dev)) == [0, 2]
        waiting.send(message(WORKER_READY))
        kind, request = receive(waiting)
        assert kind == EXECUTOR_REQUEST and json.loads(request[9])["ctx"]["attempt"] == 0
        reply(waiting, request[1], "ready")
        paused.send(message(WORKER_HEARTBEAT))
        assert receive(paused) == (GATEWAY_HEARTBEAT, {})  # it got no request
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "ready")
    finally:
        paused.close()
        waiting.close()


NO_HEALTHY_CONNECTION = {"error": {
    "error": "connect_no_healthy_connection: Could not find a healthy connection",
    "name": "connect_no_healthy_connection", "message": "Could not find a healthy connection"}}


def single_attempt_worker(dev: DevServer, manual_readiness: bool = False) -> WebSocket:
    """A worker whose function is not retried: its first failure fails the run."""
    fn = function(f"{APP}-fn", "py/connect")
    fn["steps"]["step"]["retries"] = {"attempts": 0}
    ws = open_gateway(dev)
    ws.send(message(CONNECT, connect_payload(dev, apps=[field(1, APP) + field(4, json.dumps(
        [fn]))]) + field(6, int(manual_readiness))))
    assert receive(ws)[0] == READY
    return ws


def test_a_call_fails_when_no_connection_gets_ready_while_the_others_drain(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "DRAINING_RETRY_SECONDS", 0.1)  # 1 s, as the dev server
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        ws.send(message(PAUSE))
        wait(lambda: statuses(dev) == [2])
        sent = time.monotonic()
        [event_id] = client.send({"name": "py/connect", "data": {}})
        run = client.wait_for_run(event_id)
        assert time.monotonic() - sent >= 10 * 0.1
        assert (run["status"], run["output"]) == ("Failed", NO_HEALTHY_CONNECTION)
    finally:
        ws.close()


def test_a_call_fails_at_once_when_no_connection_is_ready_or_draining(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "DRAINING_RETRY_SECONDS", 5.0)  # 1 s, as the dev server
    ws = single_attempt_worker(dev, manual_readiness=True)  # connected, never ready
    client = Client(dev)
    try:
        sent = time.monotonic()
        [event_id] = client.send({"name": "py/connect", "data": {}})
        run = client.wait_for_run(event_id)
        assert time.monotonic() - sent < 5.0  # it did not look again
        assert (run["status"], run["output"]) == ("Failed", NO_HEALTHY_CONNECTION)
    finally:
        ws.close()


def test_a_worker_gets_no_more_requests_at_once_than_its_capacity(dev: DevServer) -> None:
    ws = open_gateway(dev)
    ws.send(message(CONNECT, connect_payload(dev) + field(14, 1)))  # max_worker_concurrency
    assert receive(ws)[0] == READY
    client = Client(dev)
    try:
        first_event, second_event = client.send(
            *({"name": "py/connect", "data": {"n": n}} for n in (1, 2)))
        kind, first = receive(ws)
        assert kind == EXECUTOR_REQUEST
        client.wait(lambda: client.runs(first_event) and client.runs(second_event))
        time.sleep(0.3)  # the other call is held back meanwhile, not sent
        ws.send(message(WORKER_HEARTBEAT))
        assert receive(ws) == (GATEWAY_HEARTBEAT, {})
        reply(ws, first[1], "first")
        kind, second = receive(ws)  # room again: the other goes out, no attempt used
        assert kind == EXECUTOR_REQUEST
        assert json.loads(second[9])["ctx"]["attempt"] == 0
        assert json.loads(second[9])["event"]["data"] != json.loads(first[9])["event"]["data"]
        reply(ws, second[1], "second")
        outputs = {client.wait_for_run(event)["output"] for event in (first_event, second_event)}
        assert outputs == {"first", "second"}
    finally:
        ws.close()


def test_a_workers_capacity_counts_across_its_connections(dev: DevServer) -> None:
    older, newer = open_gateway(dev), open_gateway(dev)
    for ws in (older, newer):  # one worker instance, connected twice
        ws.send(message(CONNECT, connect_payload(dev, instance_id="shared") + field(14, 1)))
        assert receive(ws)[0] == READY
    client = Client(dev)
    try:
        events = client.send(*({"name": "py/connect", "data": {"n": n}} for n in (1, 2)))
        kind, first = receive(newer)
        assert kind == EXECUTOR_REQUEST
        client.wait(lambda: all(client.runs(event) for event in events))
        time.sleep(0.3)  # the other call is held back, not sent on the older connection
        older.send(message(WORKER_HEARTBEAT))
        assert receive(older) == (GATEWAY_HEARTBEAT, {})
        reply(newer, first[1], "first")
        kind, second = receive(newer)
        assert kind == EXECUTOR_REQUEST and second[1] != first[1]
        reply(newer, second[1], "second")
    finally:
        older.close()
        newer.close()


def test_a_reply_may_come_on_another_connection(dev: DevServer) -> None:
    first, second = ready_worker(dev), ready_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(second)  # the newest connection gets it
        assert kind == EXECUTOR_REQUEST
        reply(first, request[1], "elsewhere")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "elsewhere")
    finally:
        first.close()
        second.close()


def test_the_connection_that_got_ready_last_is_the_newest(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    joining, joins, first_joined = gateway.Workers.add, [], threading.Event()

    def slow_first_join(workers: gateway.Workers, connection: typing.Any) -> None:
        joins.append(connection)
        if len(joins) == 1:  # the first connection's thread is held up a while
            time.sleep(0.3)
        joining(workers, connection)
        if connection is joins[0]:
            first_joined.set()

    monkeypatch.setattr(gateway.Workers, "add", slow_first_join)
    first = open_gateway(dev)
    first.send(message(CONNECT, connect_payload(dev)))
    assert receive(first)[0] == READY
    second = ready_worker(dev)  # connects only once the first got READY
    assert first_joined.wait(5)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(second)
        assert kind == EXECUTOR_REQUEST
        reply(second, request[1], "newest")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "newest")
    finally:
        first.close()
        second.close()


def test_a_worker_that_stops_sending_heartbeats_is_dropped(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway, "HEARTBEAT_SECONDS", 0.05)
    ws = ready_worker(dev)
    try:
        with pytest.raises(ConnectionError):
            ws.receive()  # dropped without a close frame, as on the dev server
    finally:
        ws.close()
    ws = ready_worker(dev)
    try:
        for _ in range(8):  # a worker that keeps sending them stays
            time.sleep(0.05)
            ws.send(message(WORKER_HEARTBEAT))
            assert receive(ws) == (GATEWAY_HEARTBEAT, {})
    finally:
        ws.close()


def flush(dev: DevServer, body: bytes) -> urllib3.BaseHTTPResponse:
    return HTTP.request("POST", dev.url + "/v0/connect/flush", body=body)


@pytest.mark.parametrize(("body", "error"), [
    (b"", "missing request body"),
    (b"zzz", "could not unmarshal request"),
    (nested_groups(5000, closed=False), "could not unmarshal request"),
    (field(1, "req") + field(6, "{}"), "could not unmarshal system trace ctx"),
    (field(1, "req") + field(11, '{"traceparent": 1}'), "could not unmarshal system trace ctx"),
    # Fields of the wrong wire type are skipped (as there): the request id as a varint, the
    # status as bytes; the reply then has no trace context.
    (b"\x08\x01", "could not unmarshal system trace ctx"),
    (b"\x2a\x01x", "could not unmarshal system trace ctx"),
])
def test_flush_refuses_what_is_not_a_reply(dev: DevServer, body: bytes, error: str) -> None:
    response = flush(dev, body)
    assert response.status == 400
    assert json.loads(response.data) == {"error": error, "data": None, "status": 400}


def test_a_reply_flushed_over_http_finishes_the_call(dev: DevServer) -> None:
    ws = ready_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(ws)
        assert kind == EXECUTOR_REQUEST
        response = flush(dev, field(1, request[1]) + field(5, 1) + field(6, '"flushed"')
                         + field(9, "inngest-js:v3.54.2") + field(11, request[10]))
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/octet-stream"
        assert decoded(response.data) == {1: request[1]}
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "flushed")
    finally:
        ws.close()


# Leases: the dev server's lease is 120 s, checked each 30 s from the call's start, with 5 s of
# grace once it ran out; a request not acked in 125 s is sent again. Shortened here.

STOPPED_RESPONDING = {"error": {
    "error": "connect_worker_stopped_responding: The worker stopped responding to the request.",
    "name": "connect_worker_stopped_responding",
    "message": "The worker stopped responding to the request."}}


@pytest.fixture
def short_leases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "LEASE_SECONDS", 0.6)
    monkeypatch.setattr(workers, "LEASE_CHECK_SECONDS", 0.15)
    monkeypatch.setattr(workers, "GRACE_SECONDS", 1.0)


def ack(ws: WebSocket, request: dict[int, typing.Any]) -> None:
    ws.send(message(REQUEST_ACK, field(1, request[1]) + field(4, request[4])
                    + field(5, request[7])))


@pytest.mark.usefixtures("short_leases")
def test_an_acked_request_that_is_never_answered_fails_once_its_lease_and_grace_end(
        dev: DevServer) -> None:
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(ws)
        acked = time.monotonic()
        ack(ws, request)
        run = client.wait_for_run(event_id)
        assert time.monotonic() - acked >= 0.6 + 1.0 - 0.1  # the lease began with the call
        assert (run["status"], run["output"]) == ("Failed", STOPPED_RESPONDING)
    finally:
        ws.close()


@pytest.mark.usefixtures("short_leases")
def test_a_reply_in_the_grace_after_the_lease_ran_out_still_counts(dev: DevServer) -> None:
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(ws)
        ack(ws, request)
        time.sleep(0.85)  # the lease (0.6 s) has run out; the grace (1 s more) has not
        reply(ws, request[1], "just in time")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "just in time")
    finally:
        ws.close()


def test_a_request_never_acked_is_sent_again_and_then_fails_its_attempt(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev server waits 125 s for the ack, then routes the request again (here to the
    same connection, the only one): 3 sends, then the attempt fails."""
    monkeypatch.setattr(workers, "ACK_SECONDS", 0.3)
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        sent = [receive(ws) for _ in range(3)]
        assert {kind for kind, _ in sent} == {EXECUTOR_REQUEST}
        assert len({request[1] for _, request in sent}) == 1
        run = client.wait_for_run(event_id)
        listing = HTTP.request("GET", dev.url + "/v0/connect/envs/any/conns")
        [connection] = json.loads(listing.data)["data"]
        error = (f"failed to route request to gateway: gateway could not forward to "
                 f"connection {connection['id']}: connection not available")
        assert (run["status"], run["output"]) == ("Failed", {"error": {
            "error": error, "name": "Error", "message": error}})
    finally:
        ws.close()


def test_a_request_acked_after_its_lease_ran_out_fails_at_once(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its lease ran out while the worker had not acked it (no reply in the grace): the ack of
    the request sent again ends the call."""
    monkeypatch.setattr(workers, "LEASE_SECONDS", 0.2)
    monkeypatch.setattr(workers, "LEASE_CHECK_SECONDS", 0.1)
    monkeypatch.setattr(workers, "GRACE_SECONDS", 0.1)
    monkeypatch.setattr(workers, "ACK_SECONDS", 0.8)
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        assert receive(ws)[0] == EXECUTOR_REQUEST
        kind, again = receive(ws)  # not acked in time: sent again
        assert kind == EXECUTOR_REQUEST
        ack(ws, again)
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Failed", STOPPED_RESPONDING)
    finally:
        ws.close()


# Lease extensions, as the dev server's gateway answers them (its extend_lease.lua; measured).


def acked_request(ws: WebSocket,
                  client: Client) -> tuple[str, dict[int, typing.Any], bytes]:
    """An event sent now, its executor request (acked), and the ids an extension of the
    request's lease carries."""
    [event_id] = client.send({"name": "py/connect", "data": {}})
    kind, request = receive(ws)
    assert kind == EXECUTOR_REQUEST
    ids = field(1, request[1]) + field(4, request[4]) + field(5, request[7])
    ws.send(message(REQUEST_ACK, ids))
    return event_id, request, ids


def extend(ws: WebSocket, ids: bytes, lease: str) -> str | None:
    """The lease the gateway answers an extension of ``lease`` with (None: refused)."""
    ws.send(message(EXTEND_LEASE, ids + field(10, lease)))
    kind, answer = receive(ws)
    assert kind == EXTEND_LEASE_ACK
    return typing.cast("str | None", answer.get(6))


def runs_out_in(lease: str) -> float:
    """Seconds from now until the lease runs out, by its ULID time."""
    return ulid.timestamp_ms(lease) / 1000 - time.time()


def test_a_lease_id_carries_when_the_lease_runs_out(dev: DevServer) -> None:
    """Measured: the request's lease and each extension's are ULIDs of their end, 120 s on."""
    ws = ready_worker(dev)
    try:
        _, request, ids = acked_request(ws, Client(dev))
        assert 119 < runs_out_in(request[13]) <= 120
        extended = extend(ws, ids, request[13])
        assert extended is not None and 119 < runs_out_in(extended) <= 120
        reply(ws, request[1], "done")
    finally:
        ws.close()


def test_the_previous_lease_gets_the_current_one_back_from_its_own_instance_only(
        dev: DevServer) -> None:
    """An extension can outlive the connection carrying its ack: the instance that made
    the current lease asks again with the previous one and gets the current one, not a new
    one; another instance with it gets none, and with the current one takes the lease."""
    other = open_gateway(dev)
    other.send(message(CONNECT, connect_payload(dev, instance_id="other-instance")))
    assert receive(other)[0] == READY
    ws = ready_worker(dev)  # the newest: it gets the request
    try:
        client = Client(dev)
        event_id, request, ids = acked_request(ws, client)
        current = extend(ws, ids, request[13])
        assert current is not None
        assert extend(ws, ids, request[13]) == current
        assert extend(other, ids, request[13]) is None
        taken = extend(other, ids, current)
        assert taken not in (None, current)
        assert extend(ws, ids, current) is None  # now the other's previous lease
        reply(ws, request[1], "done")
        client.wait_for_run(event_id)
        assert extend(ws, ids, typing.cast(str, taken)) is None  # answered: no lease
    finally:
        ws.close()
        other.close()


def test_a_lease_that_ran_out_is_extended_whatever_lease_is_given(
        dev: DevServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The dev server refuses a lease that is not the current one only while the current
    one runs: once it has run out (and before the call checks it), any lease extends it, and
    the call goes on to the reply."""
    monkeypatch.setattr(workers, "LEASE_SECONDS", 0.4)
    monkeypatch.setattr(workers, "LEASE_CHECK_SECONDS", 1.0)
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        [event_id] = client.send({"name": "py/connect", "data": {}})
        kind, request = receive(ws)
        ids = field(1, request[1]) + field(4, request[4]) + field(5, request[7])
        ws.send(message(REQUEST_ACK, ids))
        made_up = ulid.Generator().new(0)
        assert extend(ws, ids, made_up) is None  # the lease still runs
        time.sleep(0.5)
        assert extend(ws, ids, made_up) is not None
        time.sleep(0.7)  # past the check at 1 s: the lease, extended, still runs
        reply(ws, request[1], "extended late")
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Completed", "extended late")
    finally:
        ws.close()


def test_a_capped_instance_extends_only_the_requests_routed_to_it(dev: DevServer) -> None:
    """An instance with a concurrency cap has its requests counted, and its extension of
    a request routed elsewhere is refused even with the current lease."""
    capped = open_gateway(dev)
    capped.send(message(CONNECT, connect_payload(dev, instance_id="capped") + field(14, 5)))
    assert receive(capped)[0] == READY
    ws = ready_worker(dev)  # the newest: it gets the request
    try:
        _, request, ids = acked_request(ws, Client(dev))
        assert extend(capped, ids, request[13]) is None
        assert extend(ws, ids, request[13]) is not None
        reply(ws, request[1], "done")
    finally:
        ws.close()
        capped.close()


@pytest.mark.usefixtures("short_leases")
def test_the_lease_of_a_call_that_failed_is_still_extended(dev: DevServer) -> None:
    """Measured: the dev server lets a request's lease go only once it is answered; after
    its call failed (the worker stopped extending in time), the worker's extension still
    gets a new lease, and its reply is acked and dropped."""
    ws = single_attempt_worker(dev)
    client = Client(dev)
    try:
        event_id, request, ids = acked_request(ws, client)
        run = client.wait_for_run(event_id)
        assert (run["status"], run["output"]) == ("Failed", STOPPED_RESPONDING)
        extended = extend(ws, ids, request[13])
        assert extended is not None and extend(ws, ids, extended) is not None
        reply(ws, request[1], "too late")
        assert client.wait_for_run(event_id)["output"] == STOPPED_RESPONDING
    finally:
        ws.close()
