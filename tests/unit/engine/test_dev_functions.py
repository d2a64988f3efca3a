"""``GET /dev`` lists each synced function as the real dev server records it.

The expected records are the real server's answers for the same syncs (measured: the
functions below synced to the dev server, then ``GET /dev``).
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Client

from inngest._engine import xxhash

LOOPBACK = True
URL = "http://127.0.0.1:8298/api/inngest"


def _steps(slug: str, **extra: object) -> dict[str, object]:
    url = f"{URL}?stepId=step&fnId={slug}&probe=1"
    return {"step": {"id": "step", "name": "step", "runtime": {"type": "http", "url": url},
                     **extra}}


def _uri(slug: str) -> str:
    return f"http://localhost:8298/api/inngest?fnId={slug}&stepId=step"


FUNCTIONS: list[dict[str, typing.Any]] = [
    {"id": "e-int", "name": "e int", "triggers": [{"event": "e/a", "expression": None}],
     "concurrency": 3, "retries": 50, "steps": _steps("e-int")},
    {"id": "e-obj", "name": "e obj", "triggers": [],
     "concurrency": {"limit": 4, "key": "event.data.x"}, "retries": 2,
     "steps": _steps("e-obj", retries={"attempts": 7}), "priority": {},
     "debounce": {"period": "2m", "key": ""}, "singleton": {"key": "event.data.s"},
     "throttle": {"limit": 5, "period": "3600s"}, "rateLimit": {"limit": 2, "period": "30m"},
     "cancel": [{"event": "e/c", "timeout": None, "if": None}],
     "timeouts": {"start": None, "finish": "5m"}},
    {"id": "e-fnstep", "name": "e fnstep", "triggers": [{"cron": "0 0 * * *", "jitter": None}],
     "concurrency": {"fn": [{"limit": 3, "key": "event.data.f"}],
                     "step": [{"limit": 9, "scope": "Env", "key": "event.data.z"}, {"limit": 1}]},
     "steps": _steps("e-fnstep", retries={}),
     "checkpoint": {"batch_steps": 5, "batch_interval": "90s", "max_runtime": 3000000000}},
    {"id": "e-steponly", "name": "e steponly", "triggers": [{"event": "e/b"}],
     "concurrency": {"step": [{"limit": 6, "key": "event.data.q"}]},
     "steps": _steps("e-steponly", retries={"attempts": 25}), "checkpoint": {},
     "batchEvents": {"maxSize": 3, "timeout": "1m"}},
    {"id": "e-notrig", "name": "e notrig", "steps": _steps("e-notrig"),
     "idempotency": "event.data.i",
     "rateLimit": {"limit": 5, "period": "1h", "key": "event.data.r"},
     "throttle": {"limit": 2, "period": "1w2d3h4m5s", "burst": 0, "key": ""}},
    # As the Python SDK sends them.
    {"cancel": [{"event": "py/cancel", "if": "async.data.id == event.data.id", "timeout": "2h"}],
     "concurrency": [{"key": "event.data.user_id_that_is_really_quite_long_to_pass_32_bytes",
                      "limit": 5, "scope": "env"}, {"limit": 2}],
     "debounce": {"key": "event.data.d", "period": "90s", "timeout": "10m"},
     "id": "py-rich", "name": "Rich Fn", "priority": {"run": "event.data.p"},
     "rateLimit": {"key": "event.data.r", "limit": 10, "period": "1h"},
     "steps": _steps("py-rich", retries={"attempts": 5}),
     "throttle": {"key": "event.data.t", "limit": 3, "period": "90s", "burst": 4},
     "timeouts": {"start": "30s", "finish": "2d"}, "singleton": {"mode": "cancel"},
     "triggers": [{"event": "py/rich", "expression": "event.data.a > 1"},
                  {"cron": "*/5 * * * *", "jitter": "10s"}]},
    {"batchEvents": {"maxSize": 10, "timeout": "5s", "key": "event.data.b",
                     "if": "event.data.ok == true"},
     "id": "py-batched", "name": "batched", "steps": _steps("py-batched"),
     "triggers": [{"event": "py/batch"}]},
]

EXPECTED: list[dict[str, typing.Any]] = [
    {"id": "42ce9edd-cf12-5916-9384-68b4b3580202", "fv": 1, "name": "e int", "slug": "e-int",
     "concurrency": [{"limit": 3, "scope": "Fn", "hash": ""}],
     "triggers": [{"event": "e/a"}],
     "steps": [{"id": "step", "name": "step", "uri": _uri("e-int"), "retries": 20}]},
    {"id": "f4435273-f80e-5e5b-be1f-d7ac69f6b960", "fv": 1, "name": "e obj", "slug": "e-obj",
     "priority": {"run": None}, "timeouts": {"finish": "5m"},
     "concurrency": [{"limit": 4, "key": "event.data.x", "scope": "Fn",
                      "hash": "3uj9g2ug07azd"}],
     "debounce": {"period": "2m"}, "triggers": [], "rateLimit": {"limit": 2, "period": "30m"},
     "throttle": {"burst": 0, "limit": 5, "period": "1h"}, "cancel": [{"event": "e/c"}],
     "singleton": {"key": "event.data.s", "mode": "skip"},
     "steps": [{"id": "step", "name": "step", "uri": _uri("e-obj"), "retries": 7}]},
    {"id": "3db613c7-541b-55f1-b2c4-6343870f601c", "fv": 1, "name": "e fnstep",
     "slug": "e-fnstep",
     "concurrency": {"fn": [{"limit": 3, "key": "event.data.f", "id": "y0hilodos8hc"}],
                     "step": [{"limit": 1, "scope": "Fn", "hash": ""},
                              {"limit": 9, "key": "event.data.z", "scope": "Env",
                               "hash": "1ct6mrnm19etk"}]},
     "checkpoint": {"batch_steps": 5, "batch_interval": "1m30s", "max_runtime": "3s"},
     "triggers": [{"cron": "0 0 * * *"}],
     "steps": [{"id": "step", "name": "step", "uri": _uri("e-fnstep"), "retries": 0}]},
    {"id": "4c45a38f-d951-586b-817c-99538f0e225a", "fv": 1, "name": "e steponly",
     "slug": "e-steponly",
     "concurrency": [{"limit": 6, "key": "event.data.q", "scope": "Fn",
                      "hash": "2uesvrcihacj5"}],
     "checkpoint": {}, "triggers": [{"event": "e/b"}],
     "batchEvents": {"maxSize": 3, "timeout": "1m"},
     "steps": [{"id": "step", "name": "step", "uri": _uri("e-steponly"), "retries": 20}]},
    {"id": "a6d0a03f-fa42-59a1-b5f3-c260982515d9", "fv": 1, "name": "e notrig",
     "slug": "e-notrig", "triggers": None,
     "rateLimit": {"limit": 1, "period": "24h0m0s", "key": "event.data.i"},
     "throttle": {"burst": 0, "key": "", "limit": 2, "period": "1w2d3h4m5s"},
     "steps": [{"id": "step", "name": "step", "uri": _uri("e-notrig")}]},
    {"id": "80d155c4-fe03-567e-b5c1-262be9e3a96c", "fv": 1, "name": "Rich Fn",
     "slug": "py-rich", "priority": {"run": "event.data.p"},
     "timeouts": {"start": "30s", "finish": "2d"},
     "concurrency": [{"limit": 2, "scope": "Fn", "hash": ""},
                     {"limit": 5,
                      "key": "event.data.user_id_that_is_really_quite_long_to_pass_32_bytes",
                      "scope": "Env", "hash": "2o9xjb52rhtj6"}],
     "debounce": {"key": "event.data.d", "period": "90s", "timeout": "10m"},
     "triggers": [{"event": "py/rich", "expression": "event.data.a > 1"},
                  {"cron": "*/5 * * * *", "jitter": "10s"}],
     "rateLimit": {"limit": 10, "period": "1h", "key": "event.data.r"},
     "throttle": {"burst": 4, "key": "event.data.t", "limit": 3, "period": "1m30s"},
     "cancel": [{"event": "py/cancel", "timeout": "2h", "if": "async.data.id == event.data.id"}],
     "singleton": {"mode": "cancel"},
     "steps": [{"id": "step", "name": "step", "uri": _uri("py-rich"), "retries": 5}]},
    {"id": "3e463d1c-abce-58ab-86a9-4771aa0a6cab", "fv": 1, "name": "batched",
     "slug": "py-batched", "triggers": [{"event": "py/batch"}],
     "batchEvents": {"key": "event.data.b", "maxSize": 10, "timeout": "5s",
                     "if": "event.data.ok == true"},
     "steps": [{"id": "step", "name": "step", "uri": _uri("py-batched")}]},
]


def _sync(client: Client, functions: list[dict[str, typing.Any]]) -> None:
    status, body = client.request("POST", "/fn/register", {
        "url": f"{URL}?deployId=abc", "v": "0.1", "deployType": "ping", "sdk": "js:v4.18.1",
        "framework": "probe", "appName": "edge", "functions": functions,
    })
    assert status == 200, body


def _listed(client: Client) -> dict[str, dict[str, typing.Any]]:
    status, info = client.request("GET", "/dev")
    assert status == 200
    return {fn["slug"]: fn for fn in info["functions"]}


@pytest.mark.parametrize("expected", EXPECTED, ids=[fn["slug"] for fn in EXPECTED])
def test_each_function_is_listed_as_the_real_server_records_it(
    client: Client, expected: dict[str, typing.Any]
) -> None:
    _sync(client, FUNCTIONS)
    listed = _listed(client)[expected["slug"]]
    assert listed == expected
    assert list(listed) == list(expected)  # and in the real server's field order


def test_a_resync_keeps_the_id_and_counts_the_version(client: Client) -> None:
    _sync(client, FUNCTIONS[:1])
    _sync(client, [{**FUNCTIONS[0], "name": "e int2"}])
    [listed] = _listed(client).values()
    assert (listed["id"], listed["fv"], listed["name"]) == (EXPECTED[0]["id"], 2, "e int2")


def test_a_local_url_with_a_default_port_is_listed_as_localhost(client: Client) -> None:
    url = "http://127.0.0.1:80/api/inngest"
    status, _ = client.request("POST", "/fn/register", {"url": url, "appName": "p80", "functions": [
        {"id": "f", "name": "f", "triggers": [{"event": "a/b"}],
         "steps": {"step": {"id": "step", "name": "step",
                            "runtime": {"type": "http", "url": f"{url}?fnId=f&stepId=step"}}}}]})
    assert status == 200
    [listed] = _listed(client).values()
    # The real server's answer for this sync.
    assert (listed["id"], listed["steps"][0]["uri"]) == (
        "a47407aa-6058-5f88-a94d-e0d29b4a80b1", "http://localhost/api/inngest?fnId=f&stepId=step")


def test_the_handlers_list_is_null_as_on_the_real_server(client: Client) -> None:
    _sync(client, FUNCTIONS[:1])
    status, info = client.request("GET", "/dev")
    assert status == 200 and info["handlers"] is None


def test_a_function_limit_is_not_counted_in_the_maximum_of_two(client: Client) -> None:
    """Measured: the real server syncs one ``fn`` limit with two ``step`` limits (and
    refuses a third ``step`` one)."""
    _sync(client, [FUNCTIONS[2]])
    concurrency = FUNCTIONS[2]["concurrency"]
    three = {**concurrency, "step": [*concurrency["step"], {"limit": 2}]}
    status, body = client.request("POST", "/fn/register", {
        "url": URL, "appName": "edge", "functions": [{**FUNCTIONS[2], "concurrency": three}]})
    assert status == 400 and "more than 2 concurrency limits" in body["message"]


@pytest.mark.parametrize(("data", "digest"), [
    (b"", 0xEF46DB3751D8E999),
    (b"abc", 0x44BC2CF5AD770999),
])
def test_xxh64_matches_the_reference_vectors(data: bytes, digest: int) -> None:
    assert xxhash.xxh64(data) == digest
