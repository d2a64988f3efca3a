"""``Function.concurrency`` over POST /v0/gql.

Every expected answer below was measured on the real dev server (inngest-253303cd) with
the same function configs synced to it, by the Python SDK or as a raw /fn/register body.
"""

from __future__ import annotations

from engine_fakes import Client, FakeApp

LOOPBACK = True

# (function-level concurrency config, measured Function.concurrency)
CONCURRENCY_CASES = [
    ([{"limit": 2, "key": "event.data.k", "scope": "account"}, {"limit": 5}], 5),
    ([{"limit": 2, "key": "event.data.k", "scope": "env"}], 0),
    ([{"limit": 3, "scope": "fn"}], 3),
    ([{"limit": 2, "scope": "fn", "key": "event.data.a"}, {"limit": 3}], 3),
    ([{"limit": 4, "key": "event.data.u"}], 0),
]


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
