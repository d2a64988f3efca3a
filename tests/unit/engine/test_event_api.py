"""``POST /e/{key}`` and the other event-facing routes."""

from __future__ import annotations

import base64
import json
import typing

import pytest
from engine_fakes import Client, FakeApp, LoopbackDev, ok

from inngest._engine import ulid
from inngest._engine.http.api import _ENV_ID, Api, _run_text
from inngest._engine.http.replies import respond
from inngest._engine.http.server import DevServer
from inngest._engine.models import Run, RunStatus
from inngest._engine.payload import Text, dump_escaped
from inngest._engine.timeparse import rfc3339

LOOPBACK = True


def post(client: Client, body: bytes | object) -> tuple[int, object]:
    return client.request("POST", "/e/key", body)


def test_single_and_array_return_internal_ulids(client: Client) -> None:
    status, body = post(client, {"name": "a/b", "id": "mine"})
    assert status == 200
    assert body["status"] == 200 and len(body["ids"]) == 1
    assert ulid.is_ulid(body["ids"][0]) and body["ids"][0] != "mine"
    status, body = post(client, [{"name": "a/b"}, {"name": "a/c"}])
    assert status == 200 and len(body["ids"]) == 2 and body["ids"][0] < body["ids"][1]


def test_empty_body_ingests_nothing(client: Client) -> None:
    assert post(client, b"") == (200, {"ids": [""], "status": 200})


@pytest.mark.parametrize("body, message", [
    (b"42", "Request body must contain an event object or an array of event objects"),
    # As the dev server, which reads the first JSON token, words anything that does not
    # start an object or an array.
    (b"not json", "Request body must contain an event object or an array of event objects"),
    (b"\xff\xfe", "Request body must contain an event object or an array of event objects"),
    (b"\xef\xbb\xbf{}", "Request body must contain an event object or an array of event "
                        "objects"),
    (b" NaN", "Request body must contain an event object or an array of event objects"),
    (b"1e999", "Request body must contain an event object or an array of event objects"),
    ([{"name": "x"}] * 5001, "Cannot have more than 5000 events in a batch"),
    ({"name": "inngest/function.failed"},
     "event name is reserved for internal use: inngest/function.failed"),
    ({"name": "Inngest/Custom"}, "event name is reserved for internal use: Inngest/Custom"),
    ({"data": {}}, "event name is empty"),
    ({"name": ""}, "event name is empty"),
    ({"name": "a", "data": [1]}, "event data must be an object"),
    ({"name": "a", "user": 3}, "event user must be an object"),
    ({"name": "a", "ts": 1700000000}, "timestamp is before Jan 1, 1980"),
    ({"name": "a", "ts": 4102444800001}, "timestamp is after Jan 1, 2100"),
    ({"name": "a", "ts": "now"}, "event ts must be an integer number of milliseconds"),
    ({"name": "a", "id": 5}, "event id must be a string"),
])
def test_rejections(client: Client, body: object, message: str) -> None:
    assert post(client, body) == (400, {"ids": [""], "status": 400, "error": message,
                                        "code": "bad_request", "message": message})


def test_rest_events_show_user_and_v_when_the_event_has_them(client: Client) -> None:
    # As the real server answers (measured): absent when empty.
    [full, bare] = client.send({"name": "a/u", "user": {"u": 1}, "v": "2024-01-01.1"},
                               {"name": "a/u", "user": {}, "v": ""})
    _, one = client.request("GET", f"/v1/events/{full}")
    assert (one["data"]["user"], one["data"]["v"]) == ({"u": 1}, "2024-01-01.1")
    _, listed = client.request("GET", "/v1/events?name=a/u")
    by_id = {event["internal_id"]: event for event in listed["data"]}
    assert by_id[full]["user"] == {"u": 1} and by_id[full]["v"] == "2024-01-01.1"
    assert "user" not in by_id[bare] and "v" not in by_id[bare]


def test_rest_events_list_their_keys_in_the_real_servers_order(client: Client) -> None:
    [full, bare] = client.send({"name": "a/o", "data": {"a": 1}, "user": {"u": 1},
                                "v": "2024-01-01.1", "id": "my-id"}, {"name": "a/o"})
    common = ["internal_id", "account_id", "environment_id", "source", "source_id",
              "received_at", "id", "name", "data"]
    for event_id, keys in ((full, [*common, "user", "ts", "v"]), (bare, [*common, "ts"])):
        _, one = client.request("GET", f"/v1/events/{event_id}")
        assert list(one["data"]) == keys


def test_data_and_user_are_kept_with_their_keys_sorted_at_every_depth(client: Client) -> None:
    # The real server keeps them as Go maps (measured): keys in the order of their UTF-8
    # bytes, where U+FF01 comes before U+1F600 (their UTF-16 order is the other way).
    data = {"z": {"\U0001f600": 1, "\uff01": [{"b": 1, "a": 2}]}, "A": 1, "_": 2}
    [event_id] = client.send({"name": "a/sorted", "data": data, "user": {"y": 1, "x": 2}})
    _, raw = client.request_raw("GET", f"/v1/events/{event_id}")
    record = json.loads(raw, object_pairs_hook=lambda pairs: pairs)[0][1]
    fields = dict(record)
    assert fields["data"] == [("A", 1), ("_", 2), (
        "z", [("\uff01", [[("a", 2), ("b", 1)]]), ("\U0001f600", 1)])]
    assert fields["user"] == [("x", 2), ("y", 1)]


def test_invalid_json(client: Client) -> None:
    status, body = post(client, b"{nope")
    assert status == 400 and body["error"].startswith("Unable to parse request body")


def test_event_over_max_size(client: Client) -> None:
    event = {"name": "a", "data": {"big": "x" * (3 * 1024 * 1024)}}
    size = len(json.dumps(event, separators=(",", ":")))
    status, body = post(client, event)
    assert status == 400
    assert body["error"] == f"Event is over the max size: Max 3145728 bytes / Size {size} bytes"


def test_a_refused_event_midway_stores_none_of_the_batch(client: Client) -> None:
    # The answer is the real server's (the ids before the refused event); the batch is
    # all or nothing, so none of them is stored.
    status, body = post(client, [{"name": "a/ok"}, {"name": "inngest/x"}])
    assert status == 400
    assert len(body["ids"]) == 1 and ulid.is_ulid(body["ids"][0])
    _, listed = client.request("GET", "/v1/events?name=a/ok")
    assert listed["data"] == []


def test_a_batch_failing_midway_in_storage_stores_nothing(
    dev: DevServer, client: Client, app: FakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    runner = dev.engine.runner
    real_ingest = runner.ingest

    def fail_on_the_second(event: dict[str, object], internal_id: str) -> object:
        if event["name"] == "test/broken":
            raise RuntimeError("disk gone")
        return real_ingest(event, internal_id)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "ingest", fail_on_the_second)
    status, _ = post(client, [{"name": "test/fn"}, {"name": "test/broken"}, {"name": "test/fn"}])
    assert status == 500
    monkeypatch.undo()
    _, listed = client.request("GET", "/v1/events?name=test/fn")
    assert listed["data"] == []
    assert dev.engine.store.runs() == [] and dev.engine.store.items() == []
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id)["status"] == "Completed"


def test_seeded_ids_count_from_one_as_on_the_real_server(client: Client) -> None:
    # Answers of the real server (../shared/inngest-server) to the same seeds.
    for entropy, expected in (
        (bytes(10), ["01HF7YAT000000000000000001", "01HF7YAT000000000000000002"]),
        (bytes([1] * 10), ["01HF7YAT00040G2081040G2082", "01HF7YAT00040G2081040G2083"]),
    ):
        seed = f"1700000000000,{base64.b64encode(entropy).decode()}"
        headers = {"x-inngest-event-id-seed": seed, "content-type": "application/json"}
        _, body = client.request("POST", "/e/key", [{"name": "a"}, {"name": "b"}], headers)
        assert body["ids"] == expected


def test_seeded_ids_are_deterministic(client: Client) -> None:
    entropy = bytes(range(10))
    seed = f"1700000000000,{base64.b64encode(entropy).decode()}"
    headers = {"x-inngest-event-id-seed": seed, "content-type": "application/json"}
    _, first = client.request("POST", "/e/key", [{"name": "a"}, {"name": "b"}], headers)
    assert ulid.timestamp_ms(first["ids"][0]) == 1700000000000
    assert first["ids"][0] == ulid.from_seed((1700000000000, entropy), 0)
    assert first["ids"][1] == ulid.from_seed((1700000000000, entropy), 1)
    assert first["ids"][0] != first["ids"][1]


def test_events_reach_functions_normalised(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok("done"))])
    [with_data] = client.send({"name": "test/fn", "data": {"_inngest": {"x": 1}, "k": "v"}})
    client.wait_for_run(with_data)
    [without_data] = client.send({"name": "test/fn"})
    client.wait_for_run(without_data)
    first, second = (call.body["event"] for call in app.posts())
    assert first["data"] == {"k": "v"} and first["id"] == with_data and first["user"] == {}
    assert second["data"] is None


def test_event_id_dedupes_runs_per_function(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    [first] = client.send({"name": "test/fn", "id": "same"})
    [second] = client.send({"name": "test/fn", "id": "same"})
    client.wait_for_run(first)
    assert client.runs(second) == []
    assert len(app.posts()) == 1


def test_future_ts_delays_the_run(dev: DevServer, client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    start = dev.engine.clock.now_ms()
    [event_id] = client.send({"name": "test/fn", "ts": start + 400})
    assert client.runs(event_id)[0]["status"] == "Scheduled"
    client.wait_for_run(event_id)
    assert dev.engine.clock.now_ms() - start >= 400


def test_wildcard_and_expression_triggers(client: Client, app: FakeApp) -> None:
    trigger = {"event": "shop/*", "expression": "event.data.amount > 10"}
    client.register(app, [app.function("fn", [trigger], handler=lambda call: ok(None))])
    [big] = client.send({"name": "shop/order", "data": {"amount": 11}})
    [small] = client.send({"name": "shop/order", "data": {"amount": 1}})
    [other] = client.send({"name": "other/order", "data": {"amount": 11}})
    client.wait_for_run(big)
    assert client.runs(small) == [] and client.runs(other) == []


def test_invoke_route(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", [], handler=lambda call: ok(call.body["event"]))])
    status, body = client.request("POST", "/invoke/app-fn", {"data": {"a": 1}})
    assert status == 200 and ulid.is_ulid(body["id"])
    run = client.wait_for_run(body["id"])
    assert run["output"]["name"] == "inngest/function.invoked"
    assert run["output"]["data"]["a"] == 1
    status, body = client.request("POST", "/invoke/missing", {})
    assert status == 404 and body["status"] == 404


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "EOF"), (b" \n", "EOF"), (b"[]", "the body must be an event object"),
    (b'{"name": 5}', "event name must be a string"),
    (b'{"data": ""}', "event data must be an object"),
    (b'{"user": [1]}', "event user must be an object"),
    (b'{"ts": "x"}', "event ts must be an integer number of milliseconds"),
])
def test_invoke_refuses_what_the_dev_servers_decoder_refuses(
    client: Client, app: FakeApp, body: bytes, reason: str
) -> None:
    """Its status and words (measured), then the reason; before the function is looked up,
    as there (an empty body was an empty event, a name of the wrong type was ignored)."""
    client.register(app, [app.function("fn", [], handler=lambda call: ok(None))])
    for slug in ("app-fn", "missing"):
        status, answer = client.request("POST", f"/invoke/{slug}", body)
        assert (status, answer["error"]) == (400, f"Unable to read post data request: {reason}")
    assert app.posts() == []


def test_invoke_reads_the_first_json_value_and_null_as_an_empty_event(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function("fn", [], handler=lambda call: ok(None))])
    for body in (b"null", b'{"data": {"a": 1}} trailing'):
        assert client.request("POST", "/invoke/app-fn", body)[0] == 200, body


UNKNOWN_RUN = "01H00000000000000000000000"


# The real server's answers (measured with curl against ../shared/inngest-server); ours carry
# `code` and `message` too.
@pytest.mark.parametrize("method, path, status, message", [
    ("GET", "/v0/runs/garbage/batch", 400, "The run ID specified is invalid"),
    ("GET", "/v0/runs/garbage/actions", 400, "The run ID specified is invalid"),
    ("GET", f"/v0/runs/{UNKNOWN_RUN}/batch", 410,
     f"runtime state is no longer available for runID: {UNKNOWN_RUN}"),
    ("GET", f"/v0/runs/{UNKNOWN_RUN}/actions", 410,
     f"runtime state is no longer available for runID: {UNKNOWN_RUN}"),
    ("DELETE", "/v0/runs/garbage", 400, "The run ID specified is invalid"),
    ("DELETE", f"/v0/runs/{UNKNOWN_RUN}", 404,
     "A function run with the given ID could not be found"),
    ("GET", "/v1/events//runs", 400, "Invalid event ID: "),
    ("DELETE", "/fn/remove", 404, "App not found: "),
    ("DELETE", "/fn/remove?url=", 404, "App not found: "),
])
def test_requests_for_what_is_not_there_get_the_real_servers_answers(
    client: Client, method: str, path: str, status: int, message: str
) -> None:
    answer_status, body = client.request(method, path)
    assert (answer_status, body["error"], body["status"]) == (status, message, status)
    assert body["data"] is None and body["message"] == message


@pytest.mark.sockets
def test_misc_routes(client: Client) -> None:
    assert client.request("GET", "/health") == (200, {"status": 200, "message": "OK"})
    status, body = client.request("GET", "/nope")
    assert status == 404 and "error" in body
    assert client.request("GET", "/e/key")[0] == 405
    assert client.request_raw("POST", "/v0/connect/start", b"")[0] == 200
    assert client.request("GET", "/v1/runs/01H00000000000000000000000")[0] == 404
    status, info = client.request("GET", "/dev")
    assert status == 200 and info["startOpts"]["poll"] is False


@pytest.mark.sockets
def test_every_response_says_dev(dev: DevServer) -> None:
    import urllib3

    response = urllib3.PoolManager().request("GET", dev.url + "/nope")
    assert response.headers["x-inngest-server-kind"] == "dev"
    assert response.headers["content-type"] == "application/json"


@pytest.mark.sockets
def test_the_answer_to_a_send_is_the_json_of_its_ids_as_the_real_server_writes_it(
    dev: DevServer
) -> None:
    import urllib3

    pool = urllib3.PoolManager()
    for events in ({"name": "a/b"}, [{"name": "a/b"}, {"name": "a/c"}, {"name": "a/d"}]):
        response = pool.request("POST", dev.url + "/e/key", body=json.dumps(events).encode())
        ids = json.loads(response.data)["ids"]
        assert len(ids) == (len(events) if isinstance(events, list) else 1)
        assert response.data == json.dumps({"ids": ids, "status": 200},
                                           separators=(",", ":")).encode() + b"\n"


def test_a_send_retried_with_its_seed_gets_the_same_ids_and_starts_no_second_run(
    client: Client, app: FakeApp
) -> None:
    # What send_sync does after a lost reply; the real server answers 200 with the same ids.
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    seed = f"1700000000000,{base64.b64encode(bytes(range(10))).decode()}"
    headers = {"x-inngest-event-id-seed": seed, "content-type": "application/json"}
    answers = [client.request("POST", "/e/key", [{"name": "test/fn"}], headers)
               for _ in range(2)]
    assert answers[0] == answers[1] and answers[0][0] == 200
    [event_id] = answers[0][1]["ids"]
    client.wait_for_run(event_id)
    assert len(client.runs(event_id)) == 1


@pytest.mark.parametrize("constant", [b"NaN", b"Infinity", b"-Infinity"])
def test_nan_and_infinity_are_refused_before_anything_is_stored(
    client: Client, constant: bytes
) -> None:
    status, body = post(client, b'[{"name": "a/ok"}, {"name": "a/x", "data": {"v": %s}}]'
                        % constant)
    assert status == 400 and body["ids"] == [""]
    assert constant.decode().lstrip("-") in body["error"]
    _, listed = client.request("GET", "/v1/events?name=a/ok")
    assert listed["data"] == []


def test_lone_surrogates_are_stored_as_replacement_characters(client: Client) -> None:
    # The real server's decoder does the same; UTF-8 cannot hold a lone surrogate.
    status, body = post(client, b'{"name": "a/\\ud800x", "data": {"\\udc00": "\\ud83d"}}')
    assert status == 200
    _, stored = client.request("GET", f"/v1/events/{body['ids'][0]}")
    assert stored["data"]["name"] == "a/\ufffdx"
    assert stored["data"]["data"] == {"\ufffd": "\ufffd"}


def test_nesting_past_the_limit_is_refused_and_within_it_is_stored(client: Client) -> None:
    def nested(depth: int) -> bytes:
        return b'{"name": "a/deep", "data": {"v": ' + b"[" * depth + b"]" * depth + b"}}"

    status, body = post(client, nested(100_000))
    assert status == 400 and "nested more than" in body["error"]
    status, body = post(client, nested(190))
    assert status == 200, body
    _, stored = client.request("GET", f"/v1/events/{body['ids'][0]}")
    assert stored["data"]["name"] == "a/deep"


_ODD_OUTPUT = {"text": "<a & b>\u2028\u00e9\"\\", "zero": -0.0, "small": 1e-05, "big": 2 ** 60,
               "list": [1.5, None, True]}


@pytest.mark.parametrize("changes", [
    {},
    {"status": RunStatus.COMPLETED, "output": _ODD_OUTPUT, "has_output": True,
     "ended_at_ms": 1_700_000_000_120},
    {"status": RunStatus.FAILED, "output": Text("Infinity"), "has_output": True,
     "output_is_text": True, "ended_at_ms": 1_700_000_000_000},
    {"status": RunStatus.CANCELLED, "output": None, "ended_at_ms": 1_700_000_000_001},
    {"status": RunStatus.RUNNING, "batch_id": "01HB0000000000000000000000",
     "cron": "TZ=Europe/Paris <0 & 5 * * *>", "function_id": "fn<&>\u00e9\""},
    {"event_ids": [], "status": RunStatus.SKIPPED, "has_output": True, "output": "<x>",
     "id": "run <&> \u00e9"},
])
def test_an_events_runs_are_written_as_their_run_json_would_be(
        client: Client, changes: dict[str, typing.Any]) -> None:
    """The event runs route writes each run's JSON out from parts (clients poll it): the
    same bytes as encoding ``run_json``, HTML characters and floats as Go writes them."""
    run = Run(id="01HB0000000000000000000001", function_id="7a2c0f7e-1b3c-5d4e-8f90-a1b2c3d4e5f6",
              function_version=1, event_ids=["01HB0000000000000000000002"],
              created_at_ms=1_700_000_000_000, event_seq=0).replace(**changes)
    assert _run_text(run, "env<&>") == dump_escaped(
        Api.run_json(typing.cast(Api, None), run, "env<&>"))


def test_the_event_runs_route_answers_the_bytes_of_its_json(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(_ODD_OUTPUT))])
    [event_id] = client.send({"name": "test/fn"})
    dev = typing.cast(LoopbackDev, client.dev)
    dev.run_until(lambda: [run for run in dev.engine.store.runs_for_event(event_id)
                           if run.status.ended])
    status, body = client.request_raw("GET", f"/v1/events/{event_id}/runs")
    runs = dev.engine.store.runs_for_event(event_id)
    now = rfc3339(dev.clock.now_ms())
    expected = respond(200, {"data": [Api.run_json(typing.cast(Api, None), run, _ENV_ID)
                                      for run in runs],
                             "metadata": {"fetched_at": now, "cached_until": now}})
    assert (status, body) == (200, expected[2])
    assert json.loads(body)["data"][0]["output"]["text"] == _ODD_OUTPUT["text"]


def test_a_batch_retried_with_its_seed_stores_only_the_events_not_stored_yet(
    client: Client, app: FakeApp
) -> None:
    # A retry gets the same ids; an event past the first send's (a longer retry) is new.
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    seed = f"1700000000000,{base64.b64encode(bytes(range(10, 20))).decode()}"
    headers = {"x-inngest-event-id-seed": seed, "content-type": "application/json"}
    batch = [{"name": "test/fn", "data": {"i": i}} for i in range(3)]
    first = client.request("POST", "/e/key", batch[:2], headers)
    again = client.request("POST", "/e/key", batch, headers)
    assert first[0] == again[0] == 200
    assert again[1]["ids"][:2] == first[1]["ids"]
    for index, event_id in enumerate(again[1]["ids"]):
        client.wait_for_run(event_id)
        assert len(client.runs(event_id)) == 1
        _, stored = client.request("GET", f"/v1/events/{event_id}")
        assert stored["data"]["data"] == {"i": index}
