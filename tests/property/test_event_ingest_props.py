"""``POST /e/{key}`` through the engine's sans-IO ``Api.handle``: any body, any seed header,
gets 200 or a 4xx whose JSON body carries ``code`` and ``message``; never a 500 or an
exception; a refused request stores nothing, an accepted one stores each event it names."""

from __future__ import annotations

import json
import typing

from hypothesis import given, settings, strategies as st

from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.http.api import Api
from inngest._engine.store import Store

FEW = 2_000
_surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
_text = st.text(st.characters() | _surrogates, max_size=6)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), _text,
                     st.floats())  # NaN and Infinity included: they must be refused
_values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)), max_leaves=4)
_names = st.one_of(st.sampled_from(["prop/a", "prop/b", "inngest/function.failed", "",
                                    "Inngest/x"]), _text)
_scalar_fields = st.one_of(st.none(), st.integers(0, 5 * 10**12), _text, st.floats(), st.lists(
    st.integers(), max_size=2))
_events = st.fixed_dictionaries({}, optional={
    "name": _names | _scalar_fields, "data": st.dictionaries(_text, _values, max_size=3) | _values,
    "user": _scalar_fields | st.just({}), "id": _scalar_fields, "ts": _scalar_fields,
})


def _deep(depth: int) -> bytes:
    return ('{"name": "prop/a", "data": {"x": ' + "[" * depth + "]" * depth + "}}").encode()


bodies = st.one_of(
    st.binary(max_size=64),
    _values.map(lambda value: json.dumps(value).encode()),
    _events.map(lambda event: json.dumps(event).encode()),
    st.lists(_events, max_size=4).map(lambda batch: json.dumps(batch).encode()),
    st.integers(150, 600).map(_deep),
)
seeds = st.one_of(st.none(), st.sampled_from(["", "garbage", "AAAAAAAAAAAAAAAAAAAAAAAA"]),
                  st.binary(min_size=10, max_size=10).map(lambda raw: raw.hex()), _text)
API: list[Api] = []


def _api() -> Api:
    """One engine for all cases (not started: runs are queued, never executed), with a
    function whose trigger evaluates an expression over each event's data."""
    if not API:
        api = Api(Engine(Store(), Settings()))
        function = {"id": "fn", "name": "fn", "triggers": [
            {"event": "prop/a"}, {"event": "prop/b", "expression": "event.data.n > 1"}],
            "steps": {"step": {"id": "step", "name": "step", "runtime": {
                "type": "http", "url": "http://127.0.0.1:9/api/inngest?fnId=app-fn&stepId=step"}}}}
        sync = {"url": "http://127.0.0.1:9/api/inngest", "appName": "app", "framework": "x",
                "sdk": "py:v0", "v": "0.1", "functions": [function]}
        status, _, reply = api.handle("POST", "/fn/register", {}, {}, json.dumps(sync).encode())
        assert status == 200, reply
        API.append(api)
    return API[0]


@given(body=bodies, seed=seeds)
def test_any_body_gets_200_or_a_4xx_with_code_and_message(body: bytes, seed: str | None) -> None:
    api = _api()
    before = api.engine.store.last_event_seq()
    status, reply = _send(api, body, seed)
    if status == 200:
        # Each id names a stored event; a retried seed may name ones stored before.
        assert _stored_since(api, before) <= set(reply["ids"])
        assert all(api.engine.store.event(event_id) for event_id in reply["ids"] if event_id)
    else:
        assert 400 <= status < 500, reply
        assert isinstance(reply["code"], str) and isinstance(reply["message"], str)


@settings(max_examples=FEW)
@given(batch=st.lists(_events, min_size=2, max_size=5), seed=seeds)
def test_a_refused_batch_stores_none_of_its_events(batch: list[object], seed: str | None) -> None:
    api = _api()
    before = api.engine.store.last_event_seq()
    status, _ = _send(api, json.dumps(batch).encode(), seed)
    if status != 200:
        assert _stored_since(api, before) == set()


def _send(api: Api, body: bytes, seed: str | None) -> tuple[int, dict[str, typing.Any]]:
    headers = {} if seed is None else {"x-inngest-event-id-seed": seed}
    status, _, payload = api.handle("POST", "/e/key", {}, headers, body)
    reply = json.loads(payload)
    assert isinstance(reply, dict)
    return status, reply


def _stored_since(api: Api, seq: int) -> set[str]:
    rows = api.engine.store._rows("SELECT internal_id FROM events WHERE seq > ?", seq)
    return {typing.cast(str, row[0]) for row in rows}
