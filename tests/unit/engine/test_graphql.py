"""The GraphQL API at POST /v0/gql, queried the way the official test helpers query it."""

from __future__ import annotations

import json
import threading
import typing

import pytest

from engine_fakes import Call, Client, FakeApp, Reply, ok, op, ops, step_hash, wait

from inngest._engine.registration import normalize_url
from inngest._engine.http.server import DevServer

LOOPBACK = True

GET_RUN = """
query GetRun($run_id: String!) {
  run(runID: $run_id) { output status }
  runTrigger(runID: $run_id) { payloads }
}"""
GET_RUNS_FOR_EVENT = """
query GetRunFromEventID($event_id: ID!) {
  event(query: {eventId: $event_id}) { functionRuns { id } }
}"""
GET_SPANS = """
query GetHistory($run_id: String!) {
  run(runID: $run_id) { trace { childrenSpans { name outputID status stepOp } } }
}"""
GET_OUTPUT = """
query GetHistory($output_id: String!) {
  runTraceSpanOutputByID(outputID: $output_id) { data error { message name stack } }
}"""


def gql(client: Client, query: str, **variables: object) -> dict[str, typing.Any]:
    status, body = client.request("POST", "/v0/gql", {"query": query, "variables": variables})
    assert status == 200, body
    return dict(body)


def data(client: Client, query: str, **variables: object) -> dict[str, typing.Any]:
    body = gql(client, query, **variables)
    assert "errors" not in body, body
    return dict(body["data"])


def run_id_for(client: Client, event_id: str) -> str:
    def probe() -> str | None:
        runs = data(client, GET_RUNS_FOR_EVENT, event_id=event_id)["event"]["functionRuns"]
        return str(runs[0]["id"]) if runs else None

    return client.wait(probe)


def wait_for_status(client: Client, run_id: str, status: str) -> dict[str, typing.Any]:
    def probe() -> dict[str, typing.Any] | None:
        found = data(client, GET_RUN, run_id=run_id)
        return found if found["run"]["status"] == status else None

    return client.wait(probe)


def two_steps(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("first") not in steps:
        return ops(op("StepRun", "first", data={"n": 1}))
    if step_hash("second") not in steps:
        return ops(op("StepError", "second", error={"name": "ValueError", "message": "bad",
                                                    "stack": "tb"}))
    return ok("function output")


def test_run_status_output_and_trigger(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok("function output"))])
    [event_id] = client.send({"name": "test/fn", "data": {"x": 1}})
    run_id = run_id_for(client, event_id)
    found = wait_for_status(client, run_id, "COMPLETED")
    assert json.loads(found["run"]["output"]) == "function output"
    [payload] = found["runTrigger"]["payloads"]
    assert json.loads(payload)["data"] == {"x": 1}
    assert json.loads(payload)["name"] == "test/fn"


def test_failed_run_output_is_the_error_object(client: Client, app: FakeApp) -> None:
    error = {"name": "Error", "message": "boom", "stack": "tb"}
    client.register(app, [app.function(
        "fn", handler=lambda call: (400, {"x-inngest-no-retry": "true"}, error))])
    [event_id] = client.send({"name": "test/fn"})
    found = wait_for_status(client, run_id_for(client, event_id), "FAILED")
    assert json.loads(found["run"]["output"]) == error


def test_unknown_run_is_a_graphql_error(client: Client) -> None:
    body = gql(client, GET_RUN, run_id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    # The non-null runTrigger's error nulls `data`, as on the real server (measured).
    assert body["data"] is None
    assert [(error["message"], error["path"]) for error in body["errors"]] == [
        ("run not found", ["run"]), ("run not found", ["runTrigger"])]
    body = gql(client, "query R($id: String!) { run(runID: $id) { status } }",
               id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert body["data"] == {"run": None}


def test_unknown_field_and_syntax_errors(client: Client) -> None:
    # As the real server: a request that cannot run answers 422 with coded errors.
    status, body = client.request("POST", "/v0/gql", {"query": "{ apps { id nope } }"})
    assert status == 422
    assert body == {"data": None, "errors": [{
        "message": 'Cannot query field "nope" on type "App". Did you mean "name"?',
        "locations": [{"line": 1, "column": 13}],
        "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"},
    }]}
    status, body = client.request("POST", "/v0/gql", {"query": "{ apps { id }"})
    assert status == 422 and body["data"] is None
    assert body["errors"][0]["message"] == "Expected Name, found <EOF>"
    assert body["errors"][0]["extensions"] == {"code": "GRAPHQL_PARSE_FAILED"}


_RUNS_FIRST = ('query($n: Int!) { runs(first: $n, filter: {from: "2020-01-01T00:00:00Z"}, '
               "orderBy: []) { totalCount } }")


def _post_raw(client: Client, query: str, variables: bytes = b"{}") -> tuple[int, bytes]:
    return client.request_raw("POST", "/v0/gql", b'{"query": %s, "variables": %s}' % (
        json.dumps(query).encode(), variables))


def test_answers_with_errors_write_errors_before_data(client: Client) -> None:
    # Measured: gqlgen writes "errors" first, in 422 and 200 answers alike.
    assert _post_raw(client, "{ nope }") == (422, (
        b'{"errors":[{"message":"Cannot query field \\"nope\\" on type \\"Query\\".",'
        b'"locations":[{"line":1,"column":3}],'
        b'"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"data":null}'))
    status, body = _post_raw(client, '{ run(runID: "nope") { id } }')
    assert status == 200 and body.startswith(b'{"errors":[') and body.endswith(
        b'],"data":{"run":null}}')


@pytest.mark.parametrize(("literal", "errors"), [
    ("1e2", ["Int cannot represent non-integer value: 1e2"]),
    ("-1E-7", ["Int cannot represent non-integer value: -1E-7"]),
    ("1.50", ["Int cannot represent non-integer value: 1.50"]),
    # Past a float64 or an int64, gqlparser reports that it cannot read it as well.
    ("1e400", ["Int cannot represent non-integer value: 1e400"] * 2),
    ("99999999999999999999",
     ["Int cannot represent non 32-bit signed integer value: 99999999999999999999"]),
])
def test_an_int_literals_error_quotes_its_text(client: Client, literal: str,
                                               errors: list[str]) -> None:
    status, body = client.request("POST", "/v0/gql", {"query": (
        '{ runs(first: %s, filter: {from: "2020-01-01T00:00:00Z"}, orderBy: []) '
        "{ totalCount } }") % literal})
    assert status == 422
    assert [error["message"] for error in body["errors"]] == errors


@pytest.mark.parametrize(("number", "message"), [
    (b"1e400", "cannot use value 0 as Int"), (b"-1e400", "cannot use value 0 as Int"),
    (b"1" + b"0" * 400, "cannot use value 9223372036854775807 as Int"),
    (b"99999999999999999999", "cannot use value 9223372036854775807 as Int"),
    (b"-99999999999999999999", "cannot use value -9223372036854775808 as Int"),
    (b'"99999999999999999999"', "cannot use string as Int"),
])
def test_an_int_variable_past_its_range_is_refused_in_gqlgens_words(
        client: Client, number: bytes, message: str) -> None:
    status, body = _post_raw(client, _RUNS_FIRST, b'{"n": %s}' % number)
    assert status == 422
    assert json.loads(body)["errors"] == [{"message": message, "path": ["variable", "n"],
                                           "extensions": {"code": "GRAPHQL_VALIDATION_FAILED"}}]


def test_numbers_past_a_float64_elsewhere_in_the_variables_are_accepted(
        client: Client) -> None:
    assert _post_raw(client, _RUNS_FIRST, b'{"n": 9223372036854775807, "x": [1e400]}') == (
        200, b'{"data":{"runs":{"totalCount":0}}}')
    status, body = _post_raw(client, "query($id: ID!) { event(query: {eventId: $id}) { id } }",
                             b'{"id": -1e400}')
    assert status == 200 and json.loads(body)["data"] == {"event": None}


def test_invoke_data_past_a_float64_is_refused_not_lost(client: Client) -> None:
    invoke = 'mutation($d: Map) { invokeFunction(functionSlug: "nope", data: $d) }'
    status, body = _post_raw(client, invoke, b'{"d": {"a": [1, 1e400]}}')
    assert status == 200
    assert json.loads(body) == {"errors": [{
        "message": "data: number 1e400 is out of range", "locations": [{"line": 1, "column": 21}],
        "path": ["invokeFunction", "data"]}], "data": {"invokeFunction": None}}


def test_malformed_request_bodies_are_400s_in_graphql_shape(client: Client) -> None:
    query = "{ apps { id } }"
    for request in ([], {"query": 1}, {"query": query, "operationName": 5},
                    {"query": query, "variables": [1]}, {"query": query, "variables": "x"}):
        status, body = client.request("POST", "/v0/gql", request)
        assert status == 400, request
        assert body["data"] is None and body["code"] == "bad_request", request
        [problem] = body["errors"]
        assert problem["message"].startswith("json request body could not be decoded: "), request
        assert body["message"] == problem["message"]


def test_null_variables_are_no_variables(client: Client) -> None:
    status, body = client.request("POST", "/v0/gql", {"query": "{ apps { id } }",
                                                      "variables": None})
    assert (status, body) == (200, {"data": {"apps": []}})


def test_step_spans_and_outputs(client: Client, app: FakeApp, dev: DevServer) -> None:
    client.register(app, [app.function("fn", handler=two_steps, retries=0)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    spans = data(client, GET_SPANS, run_id=run_id)["run"]["trace"]["childrenSpans"]
    assert [(s["name"], s["status"], s["stepOp"]) for s in spans] == [
        ("first", "COMPLETED", "RUN"), ("second", "FAILED", None),
        ("function success", "COMPLETED", None)]
    first = data(client, GET_OUTPUT, output_id=spans[0]["outputID"])["runTraceSpanOutputByID"]
    assert json.loads(first["data"]) == {"n": 1} and first["error"] is None
    second = data(client, GET_OUTPUT, output_id=spans[1]["outputID"])["runTraceSpanOutputByID"]
    assert second == {"data": None,
                      "error": {"message": "bad", "name": "ValueError", "stack": "tb"}}


def test_spans_of_an_sdk_run_have_no_userland_span(client: Client, app: FakeApp) -> None:
    # The dev server's answer for an SDK's own steps (measured): userlandSpan is null.
    client.register(app, [app.function("fn", handler=two_steps, retries=0)])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    fields = "isUserland userlandSpan { spanName spanKind serviceName resourceAttrs scopeName }"
    found = data(client, """query T($id: String!) {
      runTrace(runID: $id) { %s childrenSpans { %s childrenSpans { %s } } }
      run(runID: $id) { trace { %s childrenSpans { %s } } } }""" % ((fields,) * 5), id=run_id)
    trace, legacy = found["runTrace"], found["run"]["trace"]
    spans = [trace, legacy, *trace["childrenSpans"], *legacy["childrenSpans"],
             *(inner for span in trace["childrenSpans"] for inner in span["childrenSpans"])]
    assert len(spans) > 4
    assert {(span["isUserland"], span["userlandSpan"]) for span in spans} == {(False, None)}


def invoke_child(call: Call) -> Reply:
    steps = call.body["steps"]
    if step_hash("call") not in steps:
        return ops(op("InvokeFunction", "call", opts={
            "function_id": "app-child", "payload": {"data": {}}}))
    return ok(steps[step_hash("call")])


def test_invoke_span_output_keeps_the_data_wrapper(client: Client, app: FakeApp) -> None:
    # The real server shows an invoke step's output as stored: {"data": <child output>}.
    child = app.function("child", [], handler=lambda call: ok({"doubled": 4}))
    client.register(app, [app.function("parent", handler=invoke_child), child])
    [event_id] = client.send({"name": "test/parent"})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    span, end = data(client, GET_SPANS, run_id=run_id)["run"]["trace"]["childrenSpans"]
    assert (span["name"], span["stepOp"]) == ("call", "INVOKE")
    assert end["name"] == "function success"
    output = data(client, GET_OUTPUT, output_id=span["outputID"])["runTraceSpanOutputByID"]
    assert json.loads(output["data"]) == {"data": {"doubled": 4}} and output["error"] is None


def test_event_v2_lists_runs_with_function(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn", "data": {"k": "v"}})
    run_id = run_id_for(client, event_id)
    wait_for_status(client, run_id, "COMPLETED")
    event = data(client, """query Q($id: ULID!) { eventV2(id: $id) {
        id name raw receivedAt runs { id status function { name slug } } } }""",
                 id=event_id)["eventV2"]
    assert event["id"] == event_id and event["name"] == "test/fn"
    assert json.loads(event["raw"])["data"] == {"k": "v"}
    assert event["receivedAt"].endswith("Z")
    assert event["runs"] == [{"id": run_id, "status": "COMPLETED",
                              "function": {"name": "fn", "slug": "app-fn"}}]


def test_a_running_runs_end_is_its_start_among_its_events_runs(
    client: Client, app: FakeApp
) -> None:
    """Measured on the dev server: an event's runs show a run still running with an end
    about its start (ours: its start), and its real end once it ended; elsewhere a running
    run has no end. The ``runs`` list has no ``trace`` without preview."""
    release = threading.Event()
    client.register(app, [app.function("fn", handler=lambda call: ok(release.wait(5)))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(app.posts)
    query = """query Q($id: ULID!, $run: String!) {
      eventV2(id: $id) { runs { status startedAt endedAt } } run(runID: $run) { endedAt }
      runs(filter: {from: "2000-01-01T00:00:00Z"}, orderBy: []) { edges { node {
        trace { name } preview: trace(preview: true) { name } } } } }"""
    running = data(client, query, id=event_id, run=run_id)
    [run] = running["eventV2"]["runs"]
    assert run["status"] == "RUNNING" and run["endedAt"] == run["startedAt"] is not None
    assert running["run"] == {"endedAt": None}
    assert running["runs"]["edges"] == [{"node": {"trace": None, "preview": {"name": "Run"}}}]
    release.set()
    wait_for_status(client, run_id, "COMPLETED")
    ended = data(client, query, id=event_id, run=run_id)
    assert ended["eventV2"]["runs"][0]["endedAt"] == ended["run"]["endedAt"] is not None
    assert ended["runs"]["edges"][0]["node"]["trace"] is None


def test_runs_connection_filters_orders_and_pages(client: Client, app: FakeApp) -> None:
    client.register(app, [
        app.function("good", handler=lambda call: ok(1)),
        app.function("bad", retries=0, handler=lambda call: (500, {}, {"message": "x"})),
    ])
    ids = [run_id_for(client, e) for e in client.send(
        {"name": "test/good"}, {"name": "test/bad"}, {"name": "test/good"})]
    for run_id, status in zip(ids, ("COMPLETED", "FAILED", "COMPLETED")):
        wait_for_status(client, run_id, status)
    query = """query Q($after: String, $status: [FunctionRunStatus!]) {
      runs(first: 2, after: $after, orderBy: [{field: QUEUED_AT, direction: ASC}],
           filter: {from: "2000-01-01T00:00:00Z", status: $status}) {
        edges { cursor node { id status } } pageInfo { hasNextPage endCursor } totalCount } }"""
    page = data(client, query)["runs"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[:2]
    assert page["totalCount"] == 3 and page["pageInfo"]["hasNextPage"] is True
    rest = data(client, query, after=page["pageInfo"]["endCursor"])["runs"]
    assert [e["node"]["id"] for e in rest["edges"]] == ids[2:]
    assert rest["pageInfo"]["hasNextPage"] is False
    failed = data(client, query, status=["FAILED"])["runs"]
    assert [(e["node"]["id"], e["node"]["status"]) for e in failed["edges"]] == [
        (ids[1], "FAILED")]


def test_apps_and_functions(client: Client, app: FakeApp) -> None:
    fn = app.function("fn", handler=lambda call: ok(1))
    client.register(app, [fn])
    found = data(client, """{ apps { id name url error appVersion functions { slug name } }
        functions { id slug name config }
        functionBySlug(query: {functionSlug: "app-fn"}) { name triggers { type value } } }""")
    [listed] = found["apps"]
    assert listed["name"] == "app" and listed["error"] is None
    assert listed["appVersion"] == ""  # a string on the dev server, set or not
    assert listed["url"] == normalize_url(app.url)
    assert listed["functions"] == [{"slug": "app-fn", "name": "fn"}]
    [function] = found["functions"]
    # The dev server's record of the function, in Go's JSON (``&`` escaped), as it stored it.
    config = json.loads(function["config"])
    assert list(config) == ["id", "fv", "name", "slug", "triggers", "steps"]
    assert (config["id"], config["fv"], config["slug"]) == (function["id"], 1, "app-fn")
    assert config["steps"][0]["uri"].endswith("?fnId=app-fn&stepId=step")
    assert "fnId=app-fn\\u0026stepId=step" in function["config"]
    assert found["functionBySlug"] == {"name": "fn",
                                       "triggers": [{"type": "EVENT", "value": "test/fn"}]}
    missing = data(client, '{ functionBySlug(query: {functionSlug: "nope"}) { id } }')
    assert missing == {"functionBySlug": None}


def test_cancel_run_mutation_and_legacy_function_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function(
        "fn", handler=lambda call: ops(op("Sleep", "nap", opts={"duration": "1h"})))])
    [event_id] = client.send({"name": "test/fn"})
    run_id = run_id_for(client, event_id)
    wait(lambda: app.posts())
    legacy = """query Q($id: ID!) { functionRun(query: {functionRunId: $id}) { output status } }"""
    wait(lambda: data(client, legacy, id=run_id)["functionRun"]["status"] == "RUNNING")
    cancelled = data(client, "mutation M($id: ULID!) { cancelRun(runID: $id) { id status } }",
                     id=run_id)
    assert cancelled == {"cancelRun": {"id": run_id, "status": "CANCELLED"}}
    assert data(client, legacy, id=run_id)["functionRun"] == {"output": "{}",
                                                              "status": "CANCELLED"}
    assert wait_for_status(client, run_id, "CANCELLED")["run"]["output"] is None


def test_invoke_function_mutation_starts_a_run(client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(call.body["event"]))])
    invoked = data(client, """mutation { invokeFunction(functionSlug: "app-fn",
        data: {answer: 42}, user: {id: "u1"}) }""")
    assert invoked == {"invokeFunction": True}
    query = ('{ runs(first: 5, orderBy: [], filter: {from: "2000-01-01T00:00:00Z"}) '
             "{ edges { node { id } } } }")
    run_id = wait(lambda: data(client, query)["runs"]["edges"])[0]["node"]["id"]
    output = json.loads(wait_for_status(client, run_id, "COMPLETED")["run"]["output"])
    assert output["name"] == "inngest/function.invoked"
    assert output["data"]["answer"] == 42 and output["user"] == {"id": "u1"}
    # As on the dev server, an unknown slug is published all the same (no run starts).
    assert gql(client, 'mutation { invokeFunction(functionSlug: "nope") }') == {
        "data": {"invokeFunction": True}}
    body = gql(client, 'mutation { invokeFunction(functionSlug: "app-fn", data: [1]) }')
    # The dev server's Map scalar's words (measured), the argument in the path.
    assert [(error["message"], error["path"]) for error in body["errors"]] == [
        ("[]interface {} is not a map", ["invokeFunction", "data"])]


GET_STEP_INFO = """
query Info($run_id: String!) {
  run(runID: $run_id) { trace { childrenSpans {
    name queuedAt startedAt
    stepInfo { __typename ... on SleepStepInfo { sleepUntil } ... on RunStepInfo { type } }
  } } }
}"""


def sleep_then_parallel(call: Call) -> Reply:
    steps = call.body["steps"]
    if call.step_id != "step":
        name = {step_hash(n): n for n in ("a", "b")}[call.step_id]
        return ops(op("StepRun", name, data=name))
    if step_hash("first") not in steps:
        return ops(op("StepRun", "first", data=1))
    if step_hash("nap") not in steps:
        return ops(op("Sleep", "nap", opts={"duration": "10ms"}))
    todo = [name for name in ("a", "b") if step_hash(name) not in steps]
    if todo:
        return ops(*[op("StepPlanned", name) for name in todo])
    return ok("done")


def test_spans_carry_step_info_and_are_never_queued_after_they_start(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=sleep_then_parallel, retries=0)])
    [event_id] = client.send({"name": "test/fn"})
    assert client.wait_for_run(event_id)["status"] == "Completed"
    run_id = run_id_for(client, event_id)
    spans = data(client, GET_STEP_INFO, run_id=run_id)["run"]["trace"]["childrenSpans"]
    infos = {span["name"]: span["stepInfo"] for span in spans}
    assert infos["nap"]["__typename"] == "SleepStepInfo"
    assert infos["nap"]["sleepUntil"].endswith("Z")
    assert infos["function success"] is None
    for span in spans:
        assert span["queuedAt"] <= span["startedAt"], span


RUN_PAGE = """query Q($first: Int!, $after: String, $cel: String) {
  runs(first: $first, after: $after, orderBy: [],
       filter: {from: "2000-01-01T00:00:00Z", query: $cel}) {
    totalCount edges { node { id } }
  }
}"""


@pytest.mark.parametrize("first", [0, 400])
def test_runs_page_outside_1_to_399_is_40_runs(
        client: Client, app: FakeApp, first: int) -> None:
    # As measured on the real server: first <= 0 or >= 400 gives its default page of 40.
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    client.send(*({"name": "test/fn"} for _ in range(41)))
    wait(lambda: data(client, RUN_PAGE, first=1)["runs"]["totalCount"] == 41)
    runs = data(client, RUN_PAGE, first=first, after="garbage")["runs"]
    assert len(runs["edges"]) == 40


def test_runs_filter_query_that_does_not_compile_is_an_error(client: Client) -> None:
    body = gql(client, RUN_PAGE, first=5, cel="event.name == ")
    assert body["data"] is None  # `runs` is non-null, as on the real server
    assert body["errors"][0]["message"].startswith("error retrieving runs: ")
    assert "errors" not in gql(client, RUN_PAGE, first=5, cel='event.name == "x"')


def test_surrogate_escapes_in_query_strings_read_as_replacement_characters(
        client: Client) -> None:
    """As the real server's parser reads them: U+FFFD, paired or not (a lone surrogate could
    not be answered: a 500); Go's time errors write each of its bytes ``\\xNN``."""
    body = gql(client, r'{ workerConnections(orderBy: [], filter: {from: "\ud83d\ude00|\udc00"})'
                       r' { totalCount } }')
    replacement = r"\xef\xbf\xbd"
    assert body["errors"][0]["message"].startswith(
        f'parsing time "{replacement * 2}|{replacement}" as ')
    body = gql(client, r'{ functionBySlug(query: {functionSlug: "a\ud800"}) { id } }')
    assert body["data"] == {"functionBySlug": None}


def test_events_with_no_event_stored_is_null_as_on_the_dev_server(client: Client) -> None:
    """Measured: the dev server answers ``events: null`` before any event, and ``[]`` for
    the other lists it declares nullable (``functions``)."""
    assert gql(client, "{ events(query: {}) { id } functions { id } }") == {
        "data": {"events": None, "functions": []}}
