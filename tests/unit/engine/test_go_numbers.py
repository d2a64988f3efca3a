"""Numbers in event data and outputs as the real server keeps them: decoded to Go's float64
and written back by Go's encoder. ``-0`` and ``-0.0`` are both ``-0``, ``1.0`` is ``1``, an
integer past 2^53 rounds, and small and huge floats take Go's forms (measured on the dev
server: events posted to ``/e/``, a raw app replying with these bytes; the expected texts
are its answers)."""

from __future__ import annotations

import json
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, step_hash

from inngest._engine.payload import dump_escaped, load_body
from inngest._engine.responses import sorted_keys

LOOPBACK = True

EVENT_DATA = (b'{"a":-0,"b":-0.0,"c":[-0,-0.0,0.0,-0e0,-0.000],"d":0.0,"e":-0E+2,"f":1.0,'
              b'"g":-1.50,"key":"k"}')
STORED_DATA = '{"a":-0,"b":-0,"c":[-0,-0,0,-0,-0],"d":0,"e":-0,"f":1,"g":-1.5,"key":"k"}'
STEP_REPLY = b'[{"op":"StepRun","id":"%s","name":"A","displayName":"A","data":{"x":-0,"y":-0.0}}]'
FINAL_REPLY = b'{"out":-0,"o2":-0.0,"o3":[-0.0,2.0]}'
OUTPUT = '{"o2":-0,"o3":[-0,2],"out":-0}'


def gql(client: Client, query: str, **variables: object) -> dict[str, typing.Any]:
    status, answer = client.request("POST", "/v0/gql", {"query": query, "variables": variables})
    assert status == 200 and not answer.get("errors"), answer
    return typing.cast("dict[str, typing.Any]", answer["data"])


def handler(call: Call) -> Reply:
    if step_hash("A") not in call.body["steps"]:
        return 206, {}, STEP_REPLY % step_hash("A").encode()
    return 200, {}, FINAL_REPLY


def test_event_data_is_stored_and_shown_as_go_floats(client: Client) -> None:
    status, answer = client.request_raw("POST", "/e/key", b'{"name":"test/n","data":%s}'
                                        % EVENT_DATA)
    assert status == 200, answer
    [event_id] = client.send({"name": "test/n", "data": {}})  # a second, to read the first
    first = gql(client, '{ events(query: {}) { id } }')["events"]
    shown = [event for event in first if event["id"] != event_id][0]["id"]
    event = gql(client, "query($id: ID!) { event(query: {eventId: $id}) { payload raw } }",
                id=shown)["event"]
    assert event["payload"] == STORED_DATA
    assert f'"data":{STORED_DATA}' in event["raw"]
    status, rest = client.request_raw("GET", f"/v1/events/{shown}")
    assert f'"data":{STORED_DATA}'.encode() in rest


def test_outputs_are_shown_as_go_floats(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn", "data": {}})
    run_id = client.wait_for_run(event_id, "Completed")["run_id"]
    status, rest = client.request_raw("GET", f"/v1/runs/{run_id}")
    assert f'"output":{OUTPUT}'.encode() in rest
    assert gql(client, "query($id: String!) { run(runID: $id) { output } }",
               id=run_id)["run"]["output"] == OUTPUT
    trace = gql(client, "query($id: String!) { runTrace(runID: $id) { childrenSpans { "
                        "name outputID } } }", id=run_id)["runTrace"]["childrenSpans"]
    step = next(span for span in trace if span["name"] == "A")
    assert gql(client, "query($id: String!) { runTraceSpanOutputByID(outputID: $id) { data } }",
               id=step["outputID"])["runTraceSpanOutputByID"]["data"] == '{"x":-0,"y":-0}'
    # The step's result goes back to the function as the server sends it: zero, no sign.
    assert app.posts()[-1].body["steps"][step_hash("A")] == {"data": {"x": 0, "y": 0}}


@pytest.mark.parametrize("number, go", [
    ("9007199254740993", "9007199254740992"),
    ("123456789012345678901234", "1.2345678901234569e+23"),
    ("1e-5", "0.00001"), ("-1.5e-6", "-0.0000015"), ("1e-7", "1e-7"), ("1e-10", "1e-10"),
    ("1e2", "100"), ("1e16", "10000000000000000"), ("1e21", "1e+21"),
    ("-1e16", "-10000000000000000"),
    ("0.1", "0.1"), ("123456789.125", "123456789.125"), ("-0", "-0"), ("2.50", "2.5"),
])
def test_a_stored_number_is_written_as_go_writes_its_float64(number: str, go: str) -> None:
    assert dump_escaped(sorted_keys(load_body(b'{"n":%s}' % number.encode()))) == f'{{"n":{go}}}'


def test_only_numbers_are_rewritten() -> None:
    value = {"k\"-0.0 e-05": "-0.0 1e-05", "n": [-0.0, 1e-05]}
    assert dump_escaped(value) == '{"k\\"-0.0 e-05":"-0.0 1e-05","n":[-0,0.00001]}'


def test_graphql_reads_a_variable_of_minus_zero_as_its_text(client: Client) -> None:
    """``-0`` is an Int, and the String ``-0``, in GraphQL variables, as gqlgen reads it."""
    status, raw = client.request_raw("POST", "/v0/gql", (
        b'{"query": "query($n: Int!) { runs(first: $n, orderBy: [], filter: '
        b'{from: \\"2000-01-01T00:00:00Z\\"}) { edges { node { id } } } }",'
        b' "variables": {"n": -0}}'))
    assert (status, raw) == (200, b'{"data":{"runs":{"edges":[]}}}')
    status, raw = client.request_raw("POST", "/v0/gql", (
        b'{"query": "mutation($s: String!) { invokeFunction(functionSlug: $s) }",'
        b' "variables": {"s": -0}}'))
    assert (status, raw) == (200, b'{"data":{"invokeFunction":true}}')
    events = gql(client, '{ eventsV2(first: 5, filter: {from: "2000-01-01T00:00:00Z", '
                         "includeInternalEvents: true}) { edges { node { raw } } } }")
    [invoked] = [edge["node"]["raw"] for edge in events["eventsV2"]["edges"]
                 if '"name":"inngest/function.invoked"' in edge["node"]["raw"]]
    assert '"fn_id":"-0"' in invoked


def test_graphql_variables_floats_are_stored_as_go_floats(client: Client, app: FakeApp) -> None:
    """A float of the variables keeps its text for those who read it (a session id), but an
    event's data stores it as the float64 it is, as the dev server does (measured)."""
    client.register(app, [app.function("fn", handler=lambda call: (200, {}, b'"ok"'))])
    status, raw = client.request_raw("POST", "/v0/gql", (
        b'{"query": "mutation($d: Map) { invokeFunction(functionSlug: \\"app-fn\\", data: $d) }",'
        b' "variables": {"d": {"x": 1e2, "y": 1.50, "z": -0, "w": 1E+2}}}'))
    assert (status, raw) == (200, b'{"data":{"invokeFunction":true}}')
    client.wait(lambda: app.posts("app-fn"))
    data = app.posts("app-fn")[0].raw
    assert b'"w":100,"x":100,"y":1.5,"z":0}' in data, data


@pytest.mark.parametrize("ts, status", [
    # Measured: ts is decoded to an int64, which -0 is (0: the receipt time) and floats not.
    ("-0", 200), ("0", 200), ("-0.0", 400), ("0.0", 400), ("1.0", 400), ("1e2", 400),
])
def test_an_events_ts_is_read_as_go_reads_an_int64(client: Client, ts: str, status: int) -> None:
    answer = client.request_raw("POST", "/e/key", b'{"name": "t/ts", "ts": %s}' % ts.encode())
    assert answer[0] == status, answer


def _synced(client: Client, app: FakeApp, function: dict[str, typing.Any],
            number: str) -> tuple[int, bytes]:
    """A sync of ``function``, each ``"@"`` in it sent as the JSON text ``number``."""
    body = json.dumps({"url": app.url, "v": "0.1", "deployType": "ping", "sdk": "py:v0.1.0",
                       "framework": "flask", "appName": app.app_id, "functions": [function]})
    return client.request_raw("POST", "/fn/register", body.replace('"@"', number).encode())


@pytest.mark.parametrize("config, number, status", [
    # Measured: Go reads -0 into a signed int as 0 and refuses it for a uint; a concurrency
    # that is a number but not an integer is ignored (no limit), as is one that is a string.
    ({"concurrency": "@"}, "-0", 200), ({"concurrency": [{"limit": "@"}]}, "-0", 200),
    ({"steps": {"step": {"id": "step", "name": "step", "retries": {"attempts": "@"},
                         "runtime": {"type": "http", "url": "http://127.0.0.1:9/"}}}}, "-0", 200),
    ({"rateLimit": {"limit": "@", "period": "1m"}}, "-0", 400),
    ({"throttle": {"limit": "@", "period": "1m"}}, "-0", 400),
    ({"throttle": {"limit": 1, "burst": "@", "period": "1m"}}, "-0", 400),
    ({"concurrency": "@"}, "-0.0", 200), ({"concurrency": "@"}, "1.0", 200),
    ({"concurrency": "@"}, "1e2", 200), ({"concurrency": "@"}, '"5"', 200),
    ({"concurrency": [{"limit": "@"}]}, "1.0", 400),
])
def test_a_syncs_integers_are_read_as_go_reads_them(
        client: Client, app: FakeApp, config: dict[str, object], number: str,
        status: int) -> None:
    answer = _synced(client, app, {**app.function("fn"), **config}, number)
    assert answer[0] == status, answer


def test_retries_of_minus_zero_are_none(client: Client, app: FakeApp) -> None:
    """Steps' ``retries.attempts`` of ``-0`` is 0 (Go's int): a failing run is tried once."""
    function = app.function("fn", handler=lambda call: (500, {}, b'{"error": "boom"}'))
    function["steps"]["step"]["retries"] = {"attempts": "@"}
    assert _synced(client, app, function, "-0")[0] == 200
    event_id = client.send({"name": "test/fn"})[0]
    assert client.wait_for_run(event_id)["status"] == "Failed"
    assert len(app.posts("app-fn")) == 1


def test_a_resync_that_reads_the_same_but_is_no_integer_is_refused(
        client: Client, app: FakeApp) -> None:
    """Measured: ``-0.0`` (or ``1.0``) for an int after ``-0`` (or ``1``) is refused by the
    server's decoder, though its checksum would read it as unchanged."""
    function = {**app.function("fn"), "concurrency": [{"limit": "@"}]}
    assert _synced(client, app, function, "-0")[0] == 200
    assert _synced(client, app, function, "-0.0")[0] == 400
    assert _synced(client, app, function, "1")[0] == 200
    assert _synced(client, app, function, "1.0")[0] == 400


@pytest.mark.parametrize("ts, status", [
    # Measured: protojson reads a whole number as an int64; 1.0 and 1e2 are then too early.
    ("-0", 200), ("-0.0", 200), ("1.0", 400), ("1e2", 400), ("1.5", 400), ("1e30", 400),
])
def test_a_v2_events_ts_is_read_as_protojson_reads_an_int64(
        client: Client, ts: str, status: int) -> None:
    answer = client.request_raw("POST", "/api/v2/events",
                                b'{"name": "t/ts", "ts": %s}' % ts.encode())
    assert answer[0] == status, answer
    if ts in ("1.0", "1e2"):  # read, then refused as a timestamp
        assert b"timestamp is before Jan 1, 1980" in answer[1]


@pytest.mark.parametrize("size, status", [
    # Measured: the batch config is read through a float64, then into an int.
    ("2.0", 200), ("3e1", 200), ("1e2", 200), ("2.5", 400), ("1e20", 400), ("1.0", 400),
    ("-0", 400),
])
def test_a_batch_size_is_any_whole_number(client: Client, app: FakeApp, size: str,
                                          status: int) -> None:
    function = {**app.function("fn"), "batchEvents": {"maxSize": "@", "timeout": "1s"}}
    assert _synced(client, app, function, size)[0] == status


def test_a_batch_size_given_as_a_float_batches_that_many(client: Client, app: FakeApp) -> None:
    function = {**app.function("fn", handler=lambda call: (200, {}, b'"ok"')),
                "batchEvents": {"maxSize": "@", "timeout": "60s"}}
    assert _synced(client, app, function, "2.0")[0] == 200
    client.send({"name": "test/fn"}, {"name": "test/fn"})
    call = client.wait(lambda: app.posts("app-fn"))[0]
    assert len(call.body["events"]) == 2
