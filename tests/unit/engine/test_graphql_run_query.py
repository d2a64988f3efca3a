"""``runs(filter: {query})``: the runs whose triggering event the CEL expression matches.

The real dev server (inngest-253303cd) translates the expression into SQL; every answer
below was measured there, with the same four events each triggering one run.
"""

from __future__ import annotations

import typing

from engine_fakes import Client, FakeApp, ok

LOOPBACK = True

RUNS = """query Q($cel: String) {
  runs(first: 100, orderBy: [], filter: {from: "2000-01-01T00:00:00Z", query: $cel}) {
    edges { node { triggerIDs status } }
  }
}"""

EVENTS = [
    {"name": "probe/plain", "data": {"x": 1, "s": "a", "nested": {"y": True}}},
    {"name": "probe/plain", "data": {"x": 2, "s": "b"}},
    {"name": "probe/flow", "data": {"k": "kk", "p": 0, "x": 1}},
    {"name": "probe/deb", "data": {"k": "d"}},
]

# (expression, measured: the EVENTS whose runs it lists). Comparisons of anything but
# event.name, event.id, event.ts and event.data.<path> are dropped (output, status, foo);
# a missing data field makes a comparison unknown, under SQL's three-valued logic.
MATCHED = [
    ('event.name == "probe/plain"', [0, 1]),
    ('event.data.x == 1', [0, 2]),
    ('event.data.s == "b"', [1]),
    ('event.data.nested.y == true', [0]),
    ('output == "ok"', [0, 1, 2, 3]),
    ('event.data.x > 1', [1]),
    ('status == "COMPLETED"', [0, 1, 2, 3]),
    ('event.data.k == "kk" || event.data.x == 2', [1, 2]),
    ('event.id != ""', [0, 1, 2, 3]),
    ('event.data.x != 1', [1]),
    ('output == "nope"', [0, 1, 2, 3]),
    ('status == "FAILED"', [0, 1, 2, 3]),
    ('event.name != "probe/plain"', [2, 3]),
    ('event.data.x == 1 && event.name == "probe/flow"', [2]),
    ('!(event.data.x == 1)', [1]),
    ('event.data.x == "1"', []),
    ('event.ts > 0', [0, 1, 2, 3]),
    ('event.data.p == 0', [2]),
    ('event.data.x == 1.0', [0, 2]),
    ('foo == 1', [0, 1, 2, 3]),
    ('event.data.missing == null', []),
    ('event.data.k == null', []),
    ('foo == 1 && event.name == "probe/plain"', [0, 1]),
    ('foo == 1 || event.name == "probe/plain"', [0, 1]),
    ('!(foo == 1)', [0, 1, 2, 3]),
    ('output == "nope" || event.data.x == 2', [1]),
    ('event.data.s == 1', []),
    ('event.data.x == 2 || event.data.s == "a"', [0, 1]),
    ('event.data.nested == 1', []),
    ('event.data == 1', [0, 1, 2, 3]),
    ('event.data.x == event.data.x', []),
    ('1 == event.data.x', [0, 2]),
    ('event.data.x != "1"', [0, 1, 2]),
    ('event.data.x != null', [0, 1, 2]),
    ('event.data.k != null', [2, 3]),
    ('event.data.s > 1', []),
    ('event.data.nested != 1', [0]),
    ('event.data.nested.y != false', [0]),
    ('event.name == "probe/plain" && !(event.data.x == 2)', [0]),
    ('event.data.x == 1 && true', [0, 2]),
    ("event.data.s == 'a'", [0]),
    ('event.data.x >= 1.5', [1]),
    ('event.user.id == "u"', [0, 1, 2, 3]),
    ('event.data.s != "a"', [1]),
    ('event.data.x == 1 && foo', [0, 2]),
    ('event.name > "probe/e"', [0, 1, 2, 3]),
    ('event.data.nested.y == 1', [0]),
    ('event.data.x == true', [0, 2]),
    ('event.data.p == false', [2]),
    ('event.data.s == 0', [0, 1]),
    ('event.data.k == 0', [2, 3]),
    ('event.data.s == false', []),
    ('event.id == "x"', []),
    ('event.data.nested == "{\\"y\\":true}"', []),
    ('event.data.s >= 0', [0, 1]),
    ('event.data.x == 1 || true', [0, 2]),
    ('event.name == "a" || event.name == "probe/deb"', [3]),
    ('event.data.x < 2', [0, 2]),
    ('event.data.x <= 1', [0, 2]),
    ('event.data.s == "1" || event.data.nested.y == "true"', []),
    ('event.name < "x"', [0, 1, 2, 3]),
    ('event.id > "0"', [0, 1, 2, 3]),
    ('event.data.x == 1 && event.data.x != 1', []),
    ('event.ts == 1 && event.data.x == 2', []),
    # Each line is an expression of its own; a run is listed when every line is true.
    ('event.data.x == 1\nevent.name == "probe/flow"', [2]),
    ('event.data.x == 1\nfoo == 2', [0, 2]),
    ('event.data.x == 2\r\nevent.data.s == "b"', [1]),
    ('event.data.x == 1\nevent.data.x == 1', [0, 2]),
    ('event.data.s == "b"\nevent.name == "probe/flow" || event.data.x == 2', [1]),
    ('event.data.x == 1\n!(event.name == "probe/flow")', [0]),
    ('event.name == "probe/plain"\nevent.data.nested.y == true\nevent.data.s == "a"', [0]),
    ('event.data.k != "x"\nevent.data.x == 1', [2]),
    ('event.data.x == 1\nevent.data.x == 2', []),
    ('output == "ok"\nstatus == "x"', [0, 1, 2, 3]),
    # Not measured: the real server never answers a filter with an empty line (it loops).
    ('event.data.x == 1\n\nevent.name == "probe/plain"', [0]),
    ('event.data.x == 1\n', [0, 2]),
]

_ONES = ", ".join(["1"] * 26)
_EOF = ("Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', "
        "'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}")

# (expression, measured error: "error retrieving runs: " and this)
REFUSED = [
    ('event.name.startsWith("probe/f")',
     'invalid syntax detected'),
    ('has(event.data.nested)',
     'macros are currently not supported'),
    ('event.data.x in [1, 2]',
     'invalid syntax detected'),
    ('event.data.s < "b"',
     'unsupported string operator: _<_'),
    ('event.data.nested == {"y": true}',
     'unsupported literal type: *ast.baseMapExpr'),
    ('event.data.x + 1 == 2',
     'invalid syntax detected'),
    ('event.data["s"] == "a"',
     'invalid syntax detected'),
    ('event.data.x > "a"',
     'unsupported string operator: _>_'),
    ('-1 < event.data.x',
     'invalid syntax detected'),
    ('event.data.x > -1',
     'invalid syntax detected'),
    ('true',
     'invalid syntax detected'),
    ('false',
     'invalid syntax detected'),
    ('event.data.x',
     'macros are currently not supported'),
    ('event.name == "probe/plain" ? true : false',
     'invalid syntax detected'),
    ('event.name == 1',
     "expects 'event.name' to be a string: 1"),
    ('event.name != 1',
     "expects 'event.name' to be a string: 1"),
    ('event.name == null',
     "expects 'event.name' to be a string: <nil>"),
    ('event.data.x ==',
     "Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', "
     "'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n"
     " | event.data.x =="),
    ('(event.data.x == 1', "Syntax error: missing ')' at '<EOF>'\n | (event.data.x == 1"),
    ('event.data.x = 1', "Syntax error: token recognition error at: '= '\n | event.data.x = 1"),
    ('event..data', "Syntax error: no viable alternative at input '..'\n | event..data"),
    # The real server parses the filter with its literals lifted out as vars.a, vars.b, ...
    ('f(1 2', "Syntax error: mismatched input 'vars' expecting ')'\n | f(1 2"),
    ("'unterminated", 'macros are currently not supported'),
    ('x == .5 .5', "Syntax error: mismatched input 'vars' expecting <EOF>\n | x == .5 .5"),
    ('event.data.x == 0x1F 1',
     "Syntax error: mismatched input 'vars' expecting <EOF>\n | event.data.x == 0x1F 1"),
    (' event.data.x == 2u 3 ',
     "Syntax error: mismatched input 'vars' expecting <EOF>\n |  event.data.x == 2u 3 "),
    ('x[1 2]', "Syntax error: extraneous input '2' expecting ']'\n | x[1 2]"),
    # Past 26 literals, the rest are written back, as Go writes them.
    (f"f({_ONES} 'x')", f"Syntax error: extraneous input '\"x\"' expecting ')'\n | f({_ONES} 'x')"),
    (f"f({_ONES} 2.50)", f"Syntax error: extraneous input '2.5' expecting ')'\n | f({_ONES} 2.50)"),
    # A filter's lines are parsed one by one: the error shows the line it is on.
    ('event.data.x == 1 ||\nevent.data.s == "b"', f"{_EOF}\n | event.data.x == 1 ||"),
    ('event.data.x == 1\nevent.data.s ==', f"{_EOF}\n | event.data.s =="),
    ('event.data.x ==\nevent.data.s == "b"', f"{_EOF}\n | event.data.x =="),
    ('event.data.x == 1\n(event.data.x == 2',
     "Syntax error: missing ')' at '<EOF>'\n | (event.data.x == 2"),
    ('event.data.x == 1\nevent.data.x = 1',
     "Syntax error: token recognition error at: '= '\n | event.data.x = 1"),
    ('event.data.x == 1\n  ', f"ERROR: <input>:1:0: {_EOF}"),
    ('  ', f"ERROR: <input>:1:0: {_EOF}"),
    ('event.data.x == 1\nevent.data.x', 'macros are currently not supported'),
    ('event.data.x == 1\ntrue', 'invalid syntax detected'),
    ("'a\nb'", 'macros are currently not supported'),
    ('event.data.x == 1\nevent.name == 3', "expects 'event.name' to be a string: 3"),
    # Lines are parsed before any is translated: a later line's parse error comes first.
    ('event.name == 3\n(event.data.x', "Syntax error: missing ')' at '<EOF>'\n | (event.data.x"),
    ('event.name == 3\nevent.data.x > -1', 'invalid syntax detected'),
    ('event.data.x > -1\nevent.name == 3', 'invalid syntax detected'),
    ('{1: 2} == event.data.x\n(event.data.x',
     "Syntax error: missing ')' at '<EOF>'\n | (event.data.x"),
]


def runs(client: Client, cel: str) -> dict[str, typing.Any]:
    status, body = client.request("POST", "/v0/gql", {"query": RUNS, "variables": {"cel": cel}})
    assert status == 200, body
    return dict(body)


def test_runs_filter_query_lists_the_runs_whose_event_matches(
        client: Client, app: FakeApp) -> None:
    triggers = [{"event": name} for name in sorted({e["name"] for e in EVENTS})]
    client.register(app, [app.function("fn", triggers=triggers, handler=lambda call: ok("ok"))])
    event_ids = client.send(*EVENTS)
    for event_id in event_ids:
        client.wait_for_run(event_id)
    answered = {}
    for cel, _ in MATCHED:
        body = runs(client, cel)
        assert "errors" not in body, (cel, body)
        listed = {e["node"]["triggerIDs"][0] for e in body["data"]["runs"]["edges"]}
        answered[cel] = [i for i, event_id in enumerate(event_ids) if event_id in listed]
    assert answered == dict(MATCHED)


def test_runs_filter_query_the_real_server_cannot_translate_is_an_error(
        client: Client) -> None:
    answered = {}
    for cel, _ in REFUSED:
        body = runs(client, cel)
        assert body["data"] is None, (cel, body)
        answered[cel] = body["errors"][0]["message"]
    assert answered == {cel: f"error retrieving runs: {message}" for cel, message in REFUSED}
