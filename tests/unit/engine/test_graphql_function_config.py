"""``Function.concurrency`` and ``Function.configuration`` over POST /v0/gql.

Every expected answer below was measured on the real dev server (inngest-253303cd) with
the same function configs synced to it, by the Python SDK or as a raw /fn/register body.
"""

from __future__ import annotations

import typing

from engine_fakes import Client, FakeApp

LOOPBACK = True

CONFIGURATION = """{ functions { slug configuration {
  cancellations { event timeout condition }
  retries { value isDefault }
  priority
  eventsBatch { maxSize timeout key }
  concurrency { scope key limit { value isPlanLimit } }
  rateLimit { limit period key }
  debounce { period key }
  throttle { burst key limit period }
  singleton { mode key }
} } }"""

# (function-level concurrency config, measured Function.concurrency)
CONCURRENCY_CASES = [
    ([{"limit": 2, "key": "event.data.k", "scope": "account"}, {"limit": 5}], 5),
    ([{"limit": 2, "key": "event.data.k", "scope": "env"}], 0),
    ([{"limit": 3, "scope": "fn"}], 3),
    ([{"limit": 2, "scope": "fn", "key": "event.data.a"}, {"limit": 3}], 3),
    ([{"limit": 4, "key": "event.data.u"}], 0),
]


def without_retries(function: dict[str, typing.Any]) -> dict[str, typing.Any]:
    """The function as an SDK that leaves retries to the server syncs it."""
    del function["steps"]["step"]["retries"]
    return function


def configurations(client: Client) -> dict[str, dict[str, typing.Any]]:
    status, body = client.request("POST", "/v0/gql", {"query": CONFIGURATION})
    assert status == 200 and "errors" not in body, body
    return {fn["slug"]: fn["configuration"] for fn in body["data"]["functions"]}


def test_function_concurrency_is_its_unkeyed_function_scope_limit(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(f"fn{i}", concurrency=limits)
                          for i, (limits, _) in enumerate(CONCURRENCY_CASES)])
    query = "{ functions { slug concurrency } }"
    status, body = client.request("POST", "/v0/gql", {"query": query})
    assert status == 200, body
    answered = {fn["slug"]: fn["concurrency"] for fn in body["data"]["functions"]}
    assert answered == {f"app-fn{i}": measured
                        for i, (_, measured) in enumerate(CONCURRENCY_CASES)}


def plan_limit_only() -> list[dict[str, typing.Any]]:
    return [{"scope": "ACCOUNT", "key": None, "limit": {"value": -1, "isPlanLimit": True}}]


def nothing_else() -> dict[str, typing.Any]:
    return {"cancellations": [], "priority": None, "eventsBatch": None, "rateLimit": None,
            "debounce": None, "throttle": None, "singleton": None}


def limit(value: int) -> dict[str, typing.Any]:
    return {"value": value, "isPlanLimit": False}


DEFAULT_RETRIES = {"value": 4, "isDefault": True}

# slug suffix -> (config as synced, measured configuration)
CONFIGURATION_CASES: dict[str, tuple[dict[str, typing.Any], dict[str, typing.Any]]] = {
    "plain": ({}, {**nothing_else(), "retries": DEFAULT_RETRIES,
                   "concurrency": plan_limit_only()}),
    "flow": ({
        "retries": 3,
        "concurrency": [{"key": "event.data.k", "limit": 2, "scope": "account"}, {"limit": 5}],
        "priority": {"run": "event.data.p"},
        "rateLimit": {"key": "event.data.k", "limit": 10, "period": "1m"},
        "throttle": {"key": "event.data.k", "limit": 4, "period": "30s", "burst": 2},
        "singleton": {"key": "event.data.k", "mode": "skip"},
    }, {
        **nothing_else(),
        "retries": {"value": 3, "isDefault": False},
        "priority": "event.data.p",
        "concurrency": [
            {"scope": "ACCOUNT", "key": "event.data.k", "limit": limit(2)},
            {"scope": "FUNCTION", "key": None, "limit": limit(5)}],
        "rateLimit": {"limit": 10, "period": "1m", "key": "event.data.k"},
        "throttle": {"burst": 2, "key": "event.data.k", "limit": 4, "period": "30s"},
        "singleton": {"mode": "SKIP", "key": "event.data.k"},
    }),
    "cancels": ({
        "retries": 0,
        "cancel": [{"event": "p2/stop", "if": "event.data.id == async.data.id", "timeout": "90m"},
                   {"event": "p2/stop2"}],
        "concurrency": [{"key": "event.data.u", "limit": 4}],
        "debounce": {"period": "90s"},
    }, {
        **nothing_else(),
        "retries": {"value": 0, "isDefault": False},
        "cancellations": [
            {"event": "p2/stop", "timeout": "90m", "condition": "event.data.id == async.data.id"},
            {"event": "p2/stop2", "timeout": None, "condition": None}],
        "concurrency": [
            {"scope": "FUNCTION", "key": "event.data.u", "limit": limit(4)}],
        "debounce": {"period": "90s", "key": None},
    }),
    "misc": ({
        # An explicit 4 is reported as the default too.
        "retries": 4,
        "batchEvents": {"maxSize": 3, "timeout": "61s"},
        "concurrency": [{"key": '"x"', "limit": 6, "scope": "account"},
                        {"key": '"y"', "limit": 9, "scope": "env"}],
        "rateLimit": {"limit": 1, "period": "1h"},
        "throttle": {"limit": 7, "period": "90m", "burst": 1},
    }, {
        **nothing_else(),
        "retries": DEFAULT_RETRIES,
        "eventsBatch": {"maxSize": 3, "timeout": "61s", "key": None},
        "concurrency": [
            {"scope": "ACCOUNT", "key": '"x"', "limit": limit(6)},
            {"scope": "ENVIRONMENT", "key": '"y"', "limit": limit(9)}],
        "rateLimit": {"limit": 1, "period": "1h", "key": None},
        # Only the throttle's period comes back re-formatted, as a Go duration.
        "throttle": {"burst": 1, "key": None, "limit": 7, "period": "1h30m0s"},
    }),
    # The idempotency key takes the rate limit's place, as a limit of 1 per 24 h.
    "idem": ({
        "idempotency": "event.data.order",
        "rateLimit": {"limit": 1, "period": "1m"},
    }, {
        **nothing_else(),
        "retries": DEFAULT_RETRIES,
        "concurrency": plan_limit_only(),
        "rateLimit": {"limit": 1, "period": "24h0m0s", "key": "event.data.order"},
    }),
    "pri": ({
        "concurrency": [{"limit": 8, "scope": "fn"}],
        "priority": {"run": "event.data.p * 2"},
        "singleton": {"mode": "cancel"},
    }, {
        **nothing_else(),
        "retries": DEFAULT_RETRIES,
        "priority": "event.data.p * 2",
        "concurrency": [
            {"scope": "FUNCTION", "key": None, "limit": limit(8)}],
        "singleton": {"mode": "CANCEL", "key": None},
    }),
    "bare-throttle": ({
        "throttle": {"limit": 2, "period": "1m"},
        "singleton": {"key": "event.data.k"},
    }, {
        **nothing_else(),
        "retries": DEFAULT_RETRIES,
        "concurrency": plan_limit_only(),
        "throttle": {"burst": 0, "key": None, "limit": 2, "period": "1m0s"},
        "singleton": {"mode": "SKIP", "key": "event.data.k"},
    }),
    "no-limits": ({
        # An empty list is no limits at all: not even the plan's.
        "concurrency": [],
        "throttle": {"limit": 2, "period": "1500ms", "burst": 3},
    }, {
        **nothing_else(),
        "retries": DEFAULT_RETRIES,
        "concurrency": [],
        "throttle": {"burst": 3, "key": None, "limit": 2, "period": "1.5s"},
    }),
}


def synced(app: FakeApp, name: str, config: dict[str, typing.Any]) -> dict[str, typing.Any]:
    if "retries" in config:
        config = dict(config)
        return app.function(name, retries=config.pop("retries"), **config)
    return without_retries(app.function(name, **config))


def test_function_configuration_is_the_typed_object(client: Client, app: FakeApp) -> None:
    client.register(app, [synced(app, name, config)
                          for name, (config, _) in CONFIGURATION_CASES.items()])
    answered = configurations(client)
    assert answered == {f"app-{name}": measured
                        for name, (_, measured) in CONFIGURATION_CASES.items()}
