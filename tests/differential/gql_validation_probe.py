"""Send GraphQL documents that break the spec's validation rules to the real dev server and
to ours, and print both answers side by side (status, then body), marking differences.

    python tests/differential/gql_validation_probe.py http://127.0.0.1:8288 [FILTER]

starts our engine on a free port (``python -m inngest dev``) next to the real server
already listening at the given origin; FILTER keeps the cases whose document contains it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import typing

import urllib3

from inngest.experimental.dev_server import free_port

HTTP = urllib3.PoolManager(retries=False)
APPS = "apps { id }"

# (document, operationName, variables)
CASES: list[tuple[str, str | None, dict[str, object]]] = [
    # NoUnusedVariables
    (f"query ($x: Int) {{ {APPS} }}", None, {}),
    (f"query Q($x: Int, $y: String) {{ {APPS} }}", None, {}),
    ("query Q($x: String!) { ...F } fragment F on Query { run(runID: $x) { id } }",
     None, {"x": "a"}),
    (f"query Q($x: Boolean!) {{ {APPS} @skip(if: $x) }}", None, {"x": True}),
    # OverlappingFieldsCanBeMerged
    ("{ a: apps { id } a: functions { id } }", None, {}),
    ('{ run(runID: "a") { id } run(runID: "b") { id } }', None, {}),
    ('{ run(runID: "a") { id } run { id } }', None, {}),
    ("{ apps { x: id x: name } }", None, {}),
    ("{ apps { id } apps { id: name } }", None, {}),
    ("{ apps { id ...F } } fragment F on App { id: name }", None, {}),
    ("{ apps { id ... on App { id: name } } }", None, {}),
    ('query Q($a: String!) { run(runID: $a) { id } run(runID: "x") { id } }', None, {"a": "1"}),
    ('{ run(runID: "a") { id } run(runID: "a") { status } }', None, {}),
    ('{ run(runID: "a") { x: id x: status } }', None, {}),
    # KnownDirectives, UniqueDirectivesPerLocation
    ("{ apps @deprecated { id } }", None, {}),
    ("{ apps @nope { id } }", None, {}),
    (f"query Q @skip(if: true) {{ {APPS} }}", None, {}),
    (f"query Q @nope {{ {APPS} }}", None, {}),
    ("{ ...F } fragment F on Query @include(if: true) { apps { id } }", None, {}),
    (f"query Q($x: Int @skip(if: true)) {{ {APPS} }}", None, {"x": 1}),
    ("{ apps @skip(if: false) @skip(if: false) { id } }", None, {}),
    ("{ apps @defer { id } }", None, {}),
    (f"{{ ... @defer {{ {APPS} }} }}", None, {}),
    ("{ apps @specifiedBy(url: \"x\") { id } }", None, {}),
    # Fragments
    (f"{{ {APPS} }} fragment F on App {{ id }}", None, {}),
    ("{ apps { ...F } }", None, {}),
    ("{ apps { ...A } } fragment A on App { ...B } fragment B on App { ...A }", None, {}),
    ("{ apps { ...A } } fragment A on App { id ...A }", None, {}),
    ("{ apps { ...A } } fragment A on App { ...B } fragment B on App { ...C } "
     "fragment C on App { ...A }", None, {}),
    ("{ apps { ...F } } fragment F on Query { apps { id } }", None, {}),
    ("{ apps { ... on Query { apps { id } } } }", None, {}),
    ("{ apps { ...F } } fragment F on String { id }", None, {}),
    ("{ apps { ... on String { id } } }", None, {}),
    ("{ apps { ...F } } fragment F on Nope { id }", None, {}),
    ("{ apps { ... on Nope { id } } }", None, {}),
    ("{ apps { ...F } } fragment F on App { id } fragment F on App { name }", None, {}),
    ("{ apps { ...F } } fragment F on App { nope }", None, {}),
    ("{ apps { ...F ...F } } fragment F on App { nope }", None, {}),
    ("{ ...F } fragment F on Query { run(runID: $x) { id } }", None, {}),
    ("query Q { ...F } fragment F on Query { run(runID: $x) { id } }", None, {}),
    # Operations
    (f"{{ {APPS} }} query Q {{ {APPS} }}", "Q", {}),
    (f"{{ {APPS} }} {{ {APPS} }}", None, {}),
    (f"query Q {{ {APPS} }} query Q {{ {APPS} }}", "Q", {}),
    (f"query Q {{ {APPS} }} query R {{ {APPS} }}", None, {}),
    (f"query Q {{ {APPS} }} query R {{ {APPS} }}", "S", {}),
    (f"query Q {{ {APPS} }}", "S", {}),
    (f"query Q {{ {APPS} }} query R {{ nope }}", "Q", {}),
    (f"subscription {{ {APPS} }}", None, {}),
    (f"subscription S {{ {APPS} }}", None, {}),
    (f"query Q {{ {APPS} }} subscription S {{ {APPS} }}", "Q", {}),
    ("mutation { nope }", None, {}),
    # Variables
    ("query Q($x: Int, $x: Int) { apps @skip(if: false) { id } run(runID: $x) { id } }",
     None, {}),
    ("query Q($x: Boolean, $x: Boolean, $x: Boolean) { apps @skip(if: $x) { id } }", None, {}),
    ("query Q($x: App) { apps @skip(if: $x) { id } }", None, {}),
    ("query Q($x: [App!]) { apps { id } }", None, {}),
    ("query Q($x: Nope) { apps { id } }", None, {}),
    # Leafs and fields
    ("{ apps }", None, {}),
    ("{ apps { id { x } } }", None, {}),
    ("{ __typename { x } }", None, {}),
    ("{ apps { nope } apps { nope } }", None, {}),
    # Unions
    ('{ runTrace(runID: "x") { stepInfo { nope } } }', None, {}),
    ('{ runTrace(runID: "x") { stepInfo { timeout } } }', None, {}),
    ('{ runTrace(runID: "x") { stepInfo { ... on App { id } } } }', None, {}),
    ('{ runTrace(runID: "x") { stepInfo { ... on InvokeStepInfo { x: timedOut } '
     "... on SleepStepInfo { x: sleepUntil } } } }", None, {}),
    ('{ runTrace(runID: "x") { stepInfo { ... on InvokeStepInfo { x: timeout } '
     "... on SleepStepInfo { x: sleepUntil } } } }", None, {}),
    ('{ runTrace(runID: "x") { ...S } } fragment S on RunTraceSpan { stepInfo { '
     "... on App { id } } }", None, {}),
    # Hints
    ('{ run(runId: "x") { id } }', None, {}),
    ('{ apps @skip(iff: true) { id } }', None, {}),
    ('{ runs(orderBy: [{field: QUEUED, direction: ASC}], filter: {from: "2020-01-01T00:00:00Z"})'
     " { totalCount } }", None, {}),
    ('{ runs(orderBy: [{field: "QUEUED", direction: ASC}], filter: {from: "2020-01-01T00:00:00Z"'
     "}) { totalCount } }", None, {}),
    ('{ events(query: {workspaceID: "a"}) { id } }', None, {}),
    ("{ apps { ...F } } fragment F on Ap { id }", None, {}),
    ("{ apps { ... on Ap { id } } }", None, {}),
    ("{ app { id } }", None, {}),
    # Several at once, and inside fragments
    ("query Q($a: Int, $b: Nope) { run(runID: $c) @nope { id x: id x: status } ...F } "
     "fragment F on Query { apps { id } } fragment G on App { id }", None, {}),
    ("{ ...F } fragment F on Query { run(runID: 5) { id } }", None, {}),
    ("query A { ...F } query B { ...F } fragment F on Query { apps { x: id x: name } }",
     "A", {}),
    ("{ apps { id } apps { id: name url: id } }", None, {}),
    ("{ a: apps { id } a: apps { name } }", None, {}),
    ("{ apps @skip(if: true, if: false) { id } }", None, {}),
    (f"query Q($x: Int = 1 @deprecated) {{ {APPS} }}", None, {}),
    (f"mutation M @include(if: true) {{ {APPS} }}", None, {}),
    (f"{{ {APPS} }} fragment A on App {{ ...B }} fragment B on App {{ id }}", None, {}),
    ("{ apps { ...F } } fragment F on App @skip(if: true) { id }", None, {}),
    ("{ apps { __typename: id } }", None, {}),
    ("{ apps { ...F ...G } } fragment F on App { x: id } fragment G on App { x: name }",
     None, {}),
    ("{ ...F ...F } fragment F on Query { apps { id } }", None, {}),
    ("{ apps { ...F } } fragment F on App { id ...G } fragment G on App { ...F }", None, {}),
    # The directives validation knows, as introspection lists them
    ("{ __schema { directives { name description locations isRepeatable args { name "
     "description defaultValue type { kind name ofType { kind name } } } } } }", None, {}),
    # More than one problem at once
    ('{ events(query: {workspaceId: "a", workspaceId: "b", workspaceId: "c"}) { id } }',
     None, {}),
    ("query Q($x: App = {id: 1}) { apps { id } }", None, {}),
    ("{ apps { ...F } } fragment F on App { id } fragment F on Nope { x }", None, {}),
    ("{ apps { id } } mutation { nope }", None, {}),
    ("query Q { apps { id } } query Q { nope }", "Q", {}),
    ("{ a: apps { ...F } a: apps { ...G } a: apps { ...G } } fragment F on App { x: id } "
     "fragment G on App { x: name }", None, {}),
    # Input fields and arguments
    ('{ events(query: {workspaceId: "a", workspaceId: "b"}) { id } }', None, {}),
    ('{ run(runID: "a", runID: "b", runID: "c") { id } }', None, {}),
]


def post(origin: str, document: str, name: str | None,
         variables: dict[str, object]) -> tuple[int, typing.Any]:
    body: dict[str, object] = {"query": document, "variables": variables}
    if name is not None:
        body["operationName"] = name
    response = HTTP.request("POST", origin + "/v0/gql", body=json.dumps(body).encode(),
                            headers={"content-type": "application/json"}, timeout=10.0)
    return response.status, json.loads(response.data)


def start_ours() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "inngest", "dev", "--port", str(port), "--no-discovery",
         "--no-poll"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    origin = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            post(origin, "{ __typename }", None, {})
            return process, origin
        except (urllib3.exceptions.HTTPError, ValueError):
            time.sleep(0.1)
    process.kill()
    raise SystemExit("our dev server did not start")


def main(real: str, needle: str) -> None:
    process, ours = start_ours()
    same = 0
    try:
        for document, name, variables in CASES:
            if needle not in document:
                continue
            answers = [post(origin, document, name, variables) for origin in (real, ours)]
            mark = "==" if answers[0] == answers[1] else "!="
            same += mark == "=="
            print(f"{mark} {document}" + (f"  (operationName {name})" if name else ""))
            for who, (status, body) in zip(("real", "ours"), answers):
                print(f"   {who}: {status} {json.dumps(body)}")
    finally:
        process.terminate()
        process.wait()
    print(f"{same} of {sum(needle in case[0] for case in CASES)} answered the same")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
