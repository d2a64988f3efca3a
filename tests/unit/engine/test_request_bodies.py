"""JSON request bodies on every route that takes one: read as strictly as the real server's
decoder reads them, and refused with a 400 (never a 500) when it would refuse them."""

from __future__ import annotations

import base64
import json
import typing

import pytest
from engine_fakes import Call, Client, FakeApp, ok, op

LOOPBACK = True

TOO_BIG = [b"1e400", b"-1e400", b"1" + b"0" * 400, b"-" + b"9" * 5000]


def strict_json(text: bytes) -> typing.Any:
    def refuse(name: str) -> typing.NoReturn:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def event_body(value: bytes) -> bytes:
    return b'[{"name": "a/ok"}, {"name": "a/x", "data": {"v": %s}}]' % value


@pytest.mark.parametrize("number", TOO_BIG)
def test_numbers_beyond_a_float_are_refused_and_nothing_is_stored(
    client: Client, number: bytes
) -> None:
    status, body = client.request("POST", "/e/key", event_body(number))
    assert status == 400 and body["ids"] == [""], body
    assert "out of range" in body["error"] and body["code"] == "bad_request"
    assert client.request("GET", "/v1/events?name=a/ok")[1]["data"] == []


def test_the_largest_floats_and_their_integers_are_stored(client: Client) -> None:
    largest = str(int(1.7976931348623157e308)).encode()
    status, body = client.request("POST", "/e/key", b'{"name": "a/big", "data": {"f": '
                                  b'1.7976931348623157e308, "i": %s}}' % largest)
    assert status == 200, body
    status, listed = client.request("GET", f"/v1/events/{body['ids'][0]}")
    assert listed["data"]["data"] == {"f": 1.7976931348623157e308, "i": int(largest)}


@pytest.mark.parametrize("body", [
    b"\xef\xbb\xbf" + b'{"name": "a/bom"}',
    '{"name": "a/bom"}'.encode("utf-16"),
], ids=["utf-8 bom", "utf-16"])
def test_bodies_that_are_not_plain_utf8_json_are_refused(client: Client, body: bytes) -> None:
    status, answer = client.request("POST", "/e/key", body)
    # The dev server's words for a body whose first token is no object or array start.
    assert status == 400 and answer["error"] == (
        "Request body must contain an event object or an array of event objects")


def test_invalid_utf8_becomes_replacement_characters_as_on_the_real_server(
    client: Client,
) -> None:
    status, body = client.request("POST", "/e/key", b'{"name": "a/\xff\xfe", "data": {}}')
    assert status == 200, body
    _, stored = client.request("GET", f"/v1/events/{body['ids'][0]}")
    assert stored["data"]["name"] == "a/\ufffd\ufffd"


@pytest.mark.parametrize("field, value, message", [
    ("v", 5, "event v must be a string"),
    ("meta", "x", "event meta must be an object"),
])
def test_event_fields_of_the_wrong_type_are_refused(
    client: Client, field: str, value: object, message: str
) -> None:
    status, body = client.request("POST", "/e/key", {"name": "a/b", field: value})
    assert (status, body["error"]) == (400, message)


def test_a_function_never_sees_a_number_it_cannot_send_back(
    client: Client, app: FakeApp
) -> None:
    client.register(app, [app.function("fn", [], handler=lambda call: ok(call.body["event"]))])
    status, body = client.request("POST", "/invoke/app-fn", b'{"data": {"x": 1e400}}')
    assert status == 400 and "out of range" in body["error"]
    status, body = client.request("POST", "/invoke/app-fn", b'{"data": {"x": NaN}}')
    assert status == 400 and "NaN" in body["error"]
    assert app.posts() == []


def register_body(app: FakeApp, value: bytes) -> bytes:
    body = json.dumps({"url": app.url, "appName": app.app_id, "framework": "flask",
                       "sdk": "py:v0.1.0", "v": "0.1", "deployType": "ping",
                       "functions": [app.function("fn", [])]}).encode()
    return body[:-1] + b', "extra": %s}' % value


BODIES: dict[str, typing.Callable[[FakeApp, bytes], bytes]] = {
    "/fn/register": register_body,
    "/v0/gql": lambda app, value: b'{"query": "{ __typename }", "variables": {"a": %s}}' % value,
    "/v1/signals": lambda app, value: b'{"signal": "s", "data": %s}' % value,
    "/invoke/app-fn": lambda app, value: b'{"data": {"x": %s}}' % value,
}


_VALUES = {"100000 deep": b"[" * 100_000 + b"]" * 100_000, "300 deep": b"[" * 300 + b"]" * 300,
           "1e400": b"1e400", "NaN": b"NaN"}


# GraphQL variables keep 1e400 as its text, as gqlgen does (test_graphql.py covers it).
@pytest.mark.parametrize(("route", "value"), [
    pytest.param(route, value, id=f"{label}-{route}") for label, value in _VALUES.items()
    for route in BODIES if (route, label) != ("/v0/gql", "1e400")])
def test_bodies_the_engine_cannot_keep_get_a_400_on_every_route(
    client: Client, app: FakeApp, route: str, value: bytes
) -> None:
    client.register(app, [app.function("fn", [], handler=lambda call: ok(None))])
    status, answer = client.request("POST", route, BODIES[route](app, value))
    assert status == 400, answer
    # A JSON error; the GraphQL route's in GraphQL's shape.
    assert answer.get("error") or answer.get("errors"), answer
    assert app.posts() == []
    assert client.request("GET", "/health")[0] == 200


@pytest.mark.parametrize("route", BODIES)
def test_the_same_bodies_with_plain_values_are_taken(
    client: Client, app: FakeApp, route: str
) -> None:
    client.register(app, [app.function("fn", [], handler=lambda call: ok(None))])
    status, answer = client.request("POST", route, BODIES[route](app, b"[[1e308]]"))
    # No run waits for signal "s": the real server's 404.
    assert status == (404 if route == "/v1/signals" else 200), answer


def test_no_stored_event_makes_the_api_answer_with_something_that_is_not_json(
    client: Client,
) -> None:
    for value in (b"1e400", b"NaN", b"Infinity", b"1e308"):
        client.request("POST", "/e/key", b'{"name": "a/n", "data": {"v": %s}}' % value)
    status, listed = client.request("GET", "/v1/events?name=a/n")
    assert status == 200 and len(listed["data"]) == 1
    assert strict_json(json.dumps(listed).encode()) == listed


def test_a_limit_in_other_digits_is_ignored(client: Client) -> None:
    client.send({"name": "a/one"})
    for limit in ("%C2%B2", "%D9%A3"):  # superscript two and Arabic-Indic three
        status, body = client.request("GET", f"/v1/events?limit={limit}")
        assert status == 200 and len(body["data"]) == 1


def test_a_seed_in_other_digits_is_ignored(client: Client) -> None:
    seed = f"\u00b2,{base64.b64encode(bytes(10)).decode()}"
    headers = {"x-inngest-event-id-seed": seed, "content-type": "application/json"}
    status, body = client.request("POST", "/e/key", {"name": "a/seeded"}, headers)
    assert status == 200 and len(body["ids"]) == 1


@pytest.mark.parametrize("version", ["\u00b2", "9" * 5000])
def test_a_reply_version_that_is_not_a_small_number_leaves_the_version_open(
    client: Client, app: FakeApp, version: str
) -> None:
    def handler(call: Call) -> tuple[int, dict[str, str], typing.Any]:
        if call.body["steps"]:
            return 200, {"x-inngest-req-version": version}, "done"
        return 206, {"x-inngest-req-version": version}, [op("StepRun", "s", data=1)]

    client.register(app, [app.function("fn", handler=handler)])
    [event_id] = client.send({"name": "test/fn"})
    run = client.wait_for_run(event_id)
    assert (run["status"], run["output"]) == ("Completed", "done")
