"""An event's sessions: ``meta.propagated_sessions`` folded into ``meta.sessions`` at ingest.

Expected values were measured on the real dev server (events posted to ``/e/key``, the
event read back from the call a function gets).
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash

LOOPBACK = True


def meta_seen(client: Client, app: FakeApp, meta: dict[str, typing.Any]) -> typing.Any:
    """The ``meta`` of the event a function is called with (absent: None)."""
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    [event_id] = client.send({"name": "test/fn", "data": {}, "meta": meta})
    client.wait_for_run(event_id)
    [call] = app.posts()
    assert call.body["events"] == [call.body["event"]]
    return call.body["event"].get("meta")


@pytest.mark.parametrize("meta, seen", [
    # Sender's keys win, a null cuts that inherited key, numbers are kept as text, other
    # meta keys are dropped.
    ({"sessions": {"a": 1, "c": None}, "propagated_sessions": {"b": "x", "a": "y", "c": "z"},
      "other": 1}, {"sessions": {"a": "1", "b": "x"}}),
    ({"sessions": None, "propagated_sessions": {"b": "x"}}, None),
    ({"propagated_sessions": {"b": "x"}}, {"sessions": {"b": "x"}}),
    ({"other": 1}, None),
    ({"sessions": {}}, None),
    # Inherited keys fill the places left, in byte order of their keys.
    ({"sessions": {"a": "1"}, "propagated_sessions": {f"k{i}": str(i) for i in range(11)}},
     {"sessions": {"a": "1", "k0": "0", "k1": "1", "k10": "10", "k2": "2"}}),
])
def test_the_two_layers_are_merged(client: Client, app: FakeApp,
                                   meta: dict[str, typing.Any], seen: typing.Any) -> None:
    assert meta_seen(client, app, meta) == seen


@pytest.mark.parametrize("meta, message", [
    ({"sessions": {"a": True}}, 'event session "a" must be a string, number, or null'),
    ({"propagated_sessions": {"a": None}}, 'event session "a" must be a string or number'),
    ({"sessions": {"": "x"}}, "event session keys cannot be empty"),
    ({"sessions": {"a": ""}}, 'event session "a" cannot have an empty ID'),
    ({"sessions": {"k" * 129: "x"}}, f'event session key "{"k" * 129}" exceeds 128 bytes'),
    ({"sessions": {"a": "x" * 513}}, 'event session "a" exceeds 512 bytes'),
    ({"sessions": {k: "1" for k in "abcdef"}}, "event sessions can include at most 5 entries"),
])
def test_bad_sessions_are_refused(client: Client, meta: dict[str, typing.Any],
                                  message: str) -> None:
    status, body = client.request("POST", "/e/key", {"name": "a", "meta": meta})
    assert (status, body["error"]) == (400, message)


def test_an_invoke_payloads_layers_are_merged(client: Client, app: FakeApp) -> None:
    def caller(call: Call) -> Reply:
        if step_hash("child") not in call.body["steps"]:
            return ops(op("InvokeFunction", "child", opts={
                "function_id": "app-child", "payload": {"data": {}, "meta": {
                    "sessions": {"org": "override"},
                    "propagated_sessions": {"org": "acme", "team": "core"}}}}))
        return ok(None)

    client.register(app, [app.function("caller", handler=caller),
                          app.function("child", handler=lambda call: ok(None))])
    client.wait_for_run(client.send({"name": "test/caller"})[0])
    [child] = app.posts("app-child")
    assert child.body["event"]["meta"] == {"sessions": {"org": "override", "team": "core"}}


def test_an_invoke_with_bad_sessions_fails_the_run(client: Client, app: FakeApp) -> None:
    def caller(call: Call) -> Reply:
        return ops(op("InvokeFunction", "child", opts={
            "function_id": "app-child", "payload": {"meta": {"sessions": {"": "x"}}}}))

    client.register(app, [app.function("caller", handler=caller),
                          app.function("child", handler=lambda call: ok(None))])
    run = client.wait_for_run(client.send({"name": "test/caller"})[0])
    assert run["status"] == "Failed"
    assert run["output"]["message"] == \
        "invalid step.invoke sessions: event session keys cannot be empty"
    assert app.posts("app-child") == []


_INVOKE = "mutation($m: Map) { invokeFunction(functionSlug: \"app-fn\", data: {}, meta: $m) }"


def _invoked(client: Client, app: FakeApp, meta: object) -> typing.Any:
    """``invokeFunction``'s answer with ``meta``, and the ``meta`` of the event the function
    is then called with (no call: None)."""
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    status, answer = client.request("POST", "/v0/gql", {"query": _INVOKE, "variables": {"m": meta}})
    assert status == 200, answer
    if answer["data"]["invokeFunction"]:
        client.wait(lambda: app.posts("app-fn"))
    calls = app.posts("app-fn")
    return answer, calls[0].body["event"].get("meta", "absent") if calls else None


def _invoked_with_body(client: Client, app: FakeApp, body: bytes) -> typing.Any:
    """The ``meta`` of the event the function is called with, invoked by the GraphQL request
    ``body`` as sent (bytes, so numbers are written as the test writes them)."""
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    status, raw = client.request_raw("POST", "/v0/gql", body)
    assert (status, raw) == (200, b'{"data":{"invokeFunction":true}}')
    client.wait(lambda: app.posts("app-fn"))
    return app.posts("app-fn")[0].body["event"].get("meta", "absent")


_GO_NUMBERS = ("1.50", "1e2", "1E+2", "-1E-7", "1.0", "-0", "-0.0", "12345678901234567890123")


@pytest.mark.parametrize("number", _GO_NUMBERS)
def test_invoke_function_keeps_a_session_variables_number_as_sent(
        client: Client, app: FakeApp, number: str) -> None:
    """Measured: gqlgen keeps the variables' numbers as their text (``json.Number``)."""
    body = (b'{"query": "mutation($m: Map) { invokeFunction(functionSlug: \\"app-fn\\", '
            b'meta: $m) }", "variables": {"m": {"sessions": {"a": %s}}}}' % number.encode())
    assert _invoked_with_body(client, app, body) == {"sessions": {"a": number}}


@pytest.mark.parametrize("literal, seen", [
    # Measured: a literal is a Go int64 or float64, written with strconv ('f', -1).
    ("1.50", "1.5"), ("1e2", "100"), ("1E+2", "100"), ("-1E-7", "-0.0000001"), ("1.0", "1"),
    ("-0", "0"), ("-0.0", "-0"), ("9007199254740993", "9007199254740993"), ("1e22", "1" + "0" * 22),
])
def test_invoke_function_writes_a_session_literals_number_as_go_does(
        client: Client, app: FakeApp, literal: str, seen: str) -> None:
    body = (b'{"query": "mutation { invokeFunction(functionSlug: \\"app-fn\\", '
            b'meta: {sessions: {a: %s}}) }"}' % literal.encode())
    assert _invoked_with_body(client, app, body) == {"sessions": {"a": seen}}


@pytest.mark.parametrize("meta, seen", [
    # Measured: numbers are kept as their JSON text; no sessions, no meta.
    ({"sessions": {"conv": "abc", "num": 5, "f": 1.5, "big": 9007199254740993}},
     {"sessions": {"big": "9007199254740993", "conv": "abc", "f": "1.5", "num": "5"}}),
    ({}, "absent"), ({"sessions": None}, "absent"), ({"sessions": {}}, "absent"), (None, "absent"),
])
def test_invoke_function_keeps_the_sessions_of_its_meta(
        client: Client, app: FakeApp, meta: object, seen: object) -> None:
    answer, event_meta = _invoked(client, app, meta)
    assert answer == {"data": {"invokeFunction": True}}
    assert event_meta == seen


@pytest.mark.parametrize("meta, message, path", [
    ({"sessions": {"a": "b"}, "foo": 1}, 'event meta "foo" is not supported', ["invokeFunction"]),
    ({"propagated_sessions": {"a": "b"}}, 'event meta "propagated_sessions" is not supported',
     ["invokeFunction"]),
    ({"sessions": "x"}, "event meta sessions must be an object", ["invokeFunction"]),
    ({"sessions": {"a": True}}, 'session "a" must be a string or number', ["invokeFunction"]),
    ({"sessions": {"a": None}}, 'session "a" must be a string or number', ["invokeFunction"]),
    ({"sessions": {"": "x"}}, "invalid sessions: event session keys cannot be empty",
     ["invokeFunction"]),
    ({"sessions": {"a": ""}}, 'invalid sessions: event session "a" cannot have an empty ID',
     ["invokeFunction"]),
    ({"sessions": {k: "x" for k in "abcdef"}},
     "invalid sessions: event sessions can include at most 5 entries", ["invokeFunction"]),
    ("x", "string is not a map", ["invokeFunction", "meta"]),
    ([1], "[]interface {} is not a map", ["invokeFunction", "meta"]),
    (5, "json.Number is not a map", ["invokeFunction", "meta"]),
    (True, "bool is not a map", ["invokeFunction", "meta"]),
])
def test_invoke_function_refuses_bad_meta(client: Client, app: FakeApp, meta: object,
                                          message: str, path: list[str]) -> None:
    answer, event_meta = _invoked(client, app, meta)
    assert answer["data"] == {"invokeFunction": None}
    assert [(error["message"], error["path"]) for error in answer["errors"]] == [(message, path)]
    client.settle()
    assert event_meta is None and app.posts("app-fn") == []


def test_an_events_session_numbers_keep_their_text(client: Client, app: FakeApp) -> None:
    """Measured: the event API keeps a session id given as a number as its JSON text, in
    both layers; the event's data holds numbers as float64s."""
    client.register(app, [app.function("fn", handler=lambda call: ok(None))])
    status, raw = client.request_raw("POST", "/e/key", (
        b'{"name": "test/fn", "data": {"x": 1e2, "y": 1.50}, "meta": {"sessions": '
        b'{"a": 1.50, "b": 1e2, "c": -0.0, "d": -0}, "propagated_sessions": {"e": 1E+2}}}'))
    assert status == 200, raw
    client.wait(lambda: app.posts("app-fn"))
    call = app.posts("app-fn")[0]
    assert call.body["event"]["meta"] == {
        "sessions": {"a": "1.50", "b": "1e2", "c": "-0.0", "d": "-0", "e": "1E+2"}}
    assert b'"data":{"x":100,"y":1.5}' in call.raw
