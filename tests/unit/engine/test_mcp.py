"""The engine's MCP endpoint, ``/mcp``: a session over HTTP with an app of this SDK.

Statuses, bodies and JSON-RPC errors are the real dev server's (measured with curl against
it): refusals are ``text/plain``, replies ``application/json``.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import threading
import typing

import pytest
import urllib3
from engine_fakes import wait

import inngest
import inngest.http_server
from inngest._engine.http.server import DevServer
from inngest._engine.mcp import docs_tools

HTTP = urllib3.PoolManager(retries=False)
JSON_HEADERS = {"content-type": "application/json",
                "accept": "application/json, text/event-stream"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}
TOOLS = ["cancel_run", "get_app", "get_apps", "get_event_runs", "get_function", "get_run",
         "get_run_status", "get_run_trace", "grep_docs", "health", "invoke_function",
         "invoke_function_sync", "list_docs", "list_function_runs", "list_functions",
         "list_runs", "poll_run_status", "read_doc", "rerun", "send_event"]

pytestmark = pytest.mark.timeout(60)


class Reply(typing.NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> typing.Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class Mcp:
    """Talks to an engine's ``/mcp`` over HTTP."""

    def __init__(self, url: str) -> None:
        self.url = f"{url}/mcp"
        self.session = ""
        self._ids = 100

    def request(self, method: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        response = HTTP.request(method, self.url, body=body, headers=headers or {})
        return Reply(response.status, {k.lower(): v for k, v in response.headers.items()},
                     response.data)

    def post(self, message: typing.Any, session: str | None = None,
             **headers: str) -> Reply:
        sent = dict(JSON_HEADERS)
        session = self.session if session is None else session
        if session:
            sent["mcp-session-id"] = session
        sent.update({name.replace("_", "-"): value for name, value in headers.items()})
        body = message if isinstance(message, bytes) else json.dumps(message).encode()
        return self.request("POST", body, sent)

    def initialize(self) -> Reply:
        reply = self.post(INITIALIZE, session="")
        self.session = reply.headers["mcp-session-id"]
        assert self.post({"jsonrpc": "2.0", "method": "notifications/initialized"}).status == 202
        return reply

    def call(self, method: str, params: typing.Any = None) -> dict[str, typing.Any]:
        self._ids += 1
        message: dict[str, typing.Any] = {"jsonrpc": "2.0", "id": self._ids, "method": method}
        if params is not None:
            message["params"] = params
        reply = self.post(message)
        assert reply.status == 200, reply
        assert reply.headers["content-type"] == "application/json"
        body = reply.json
        assert body["id"] == self._ids
        return dict(body)

    def tool(self, tool: str, /, **arguments: typing.Any) -> dict[str, typing.Any]:
        """A tool's result (``isError`` and all); a JSON-RPC error fails the test."""
        body = self.call("tools/call", {"name": tool, "arguments": arguments})
        assert "result" in body, body
        return dict(body["result"])


def text_of(result: dict[str, typing.Any]) -> str:
    [content] = result["content"]
    assert content["type"] == "text"
    return str(content["text"])


def failure(result: dict[str, typing.Any]) -> str:
    assert result == {"content": result["content"], "isError": True}
    return text_of(result)


def oops() -> None:
    raise inngest.NonRetriableError("kaput")


@pytest.fixture
def app(dev: DevServer) -> typing.Iterator[str]:
    """An app of this SDK, synced: ``hello`` (two steps), ``fails`` (its second step fails
    for good) and ``slow`` (sleeps a minute)."""
    client = inngest.Inngest(app_id="mcp-app", is_production=False, api_base_url=dev.url,
                             event_api_base_url=dev.url)

    @client.create_function(fn_id="hello", name="Hello fn",
                            trigger=inngest.TriggerEvent(event="demo/hello"))
    def hello(ctx: inngest.ContextSync) -> dict[str, typing.Any]:
        one = ctx.step.run("first-step", lambda: 1)
        two = ctx.step.run("second-step", lambda: one + 1)
        return {"sum": two, "data": {k: v for k, v in ctx.event.data.items() if k[0] != "_"}}

    @client.create_function(fn_id="fails", retries=0,
                            trigger=inngest.TriggerEvent(event="demo/fail"))
    def fails(ctx: inngest.ContextSync) -> None:
        ctx.step.run("ok-step", lambda: "fine")
        ctx.step.run("bad-step", oops)

    @client.create_function(fn_id="slow", trigger=inngest.TriggerEvent(event="demo/slow"))
    def slow(ctx: inngest.ContextSync) -> str:
        ctx.step.sleep("nap", datetime.timedelta(minutes=1))
        return "woke"

    server = inngest.http_server.serve(client, [hello, fails, slow], port=0)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        assert HTTP.request("PUT", server.url).status == 200
        wait(lambda: len(dev.engine.store.functions()) == 3 or None)
        yield server.url
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def mcp(dev: DevServer) -> Mcp:
    return Mcp(dev.url)


@pytest.fixture
def session(mcp: Mcp, app: str) -> Mcp:
    mcp.initialize()
    return mcp


# The session


def test_a_session_initializes_lists_tools_and_ends(mcp: Mcp) -> None:
    reply = mcp.post(INITIALIZE, session="")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-cache, no-transform"
    session = reply.headers["mcp-session-id"]
    assert len(session) == 26 and session.isalnum()
    assert reply.json == {"jsonrpc": "2.0", "id": 1, "result": {
        "capabilities": {"logging": {}, "tools": {}}, "protocolVersion": "2025-06-18",
        "serverInfo": {"name": "inngest-dev", "title": "Inngest Dev Server MCP Tools",
                       "version": "v1.0.0"}}}
    mcp.session = session
    initialized = mcp.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (initialized.status, initialized.body) == (202, b"")

    tools = mcp.call("tools/list")["result"]["tools"]
    assert [tool["name"] for tool in tools] == TOOLS
    send = next(tool for tool in tools if tool["name"] == "send_event")
    assert send["inputSchema"] == {
        "type": "object", "properties": {"name": {"type": "string"},
                                         "data": {"description": "true"},
                                         "user": {"description": "true"},
                                         "eventIdSeed": {"type": "string"}},
        "required": ["name"], "additionalProperties": False}
    assert send["title"] and send["description"] and "annotations" not in send
    health = next(tool for tool in tools if tool["name"] == "health")
    assert health["annotations"]["readOnlyHint"] is True
    assert mcp.call("ping")["result"] == {}

    assert mcp.request("DELETE", headers={"mcp-session-id": session}).status == 204
    gone = mcp.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
    assert (gone.status, gone.text) == (404, "session not found\n")


@pytest.mark.parametrize("asked, agreed", [("2024-11-05", "2024-11-05"),
                                           ("2025-11-25", "2025-11-25"),
                                           ("1999-01-01", "2025-06-18")])
def test_initialize_agrees_on_a_protocol_version(mcp: Mcp, asked: str, agreed: str) -> None:
    reply = mcp.post({**INITIALIZE, "params": {"protocolVersion": asked}}, session="")
    assert reply.json["result"]["protocolVersion"] == agreed


def test_without_a_session_only_ping_and_initialize_are_answered(mcp: Mcp) -> None:
    assert mcp.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}).json == {
        "jsonrpc": "2.0", "id": 1, "result": {}}
    reply = mcp.post({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    assert reply.status == 200
    assert reply.json == {"jsonrpc": "2.0", "id": 2, "error": {
        "code": 0, "message": 'method "tools/list" is invalid during session initialization'}}
    assert "mcp-session-id" not in reply.headers


def test_other_mcp_methods_answer_as_a_tools_only_server(session: Mcp) -> None:
    assert session.call("prompts/list")["result"] == {"prompts": []}
    assert session.call("resources/list")["result"] == {"resources": []}
    assert session.call("resources/templates/list")["result"] == {"resourceTemplates": []}
    assert session.call("logging/setLevel", {"level": "debug"})["result"] == {}
    assert session.call("completion/complete", {})["error"] == {
        "code": -32601, "message": 'method not found: "completion/complete"'}
    assert session.call("resources/read", {"uri": "x"})["error"] == {
        "code": -32002, "message": "Resource not found", "data": {"uri": "x"}}
    # Notifications, and replies to requests (the server sends none), are taken without one.
    for message in [{"jsonrpc": "2.0", "method": "notifications/cancelled"},
                    {"jsonrpc": "2.0", "id": 5, "result": {}}]:
        reply = session.post(message)
        assert (reply.status, reply.body) == (202, b"")


def test_a_batch_is_answered_before_2025_06_18_only(session: Mcp) -> None:
    pings = [{"jsonrpc": "2.0", "id": 7, "method": "ping"},
             {"jsonrpc": "2.0", "id": 8, "method": "ping"}]
    assert session.post(pings).json == [{"jsonrpc": "2.0", "id": 7, "result": {}},
                                        {"jsonrpc": "2.0", "id": 8, "result": {}}]
    assert session.post(pings[:1]).json == {"jsonrpc": "2.0", "id": 7, "result": {}}
    refused = session.post(pings, mcp_protocol_version="2025-06-18")
    assert (refused.status, refused.text) == (
        400, "JSON-RPC batching is not supported in 2025-06-18 and later (request version: "
             "2025-06-18)\n")


# Tools


def send(session: Mcp, event: str, **arguments: typing.Any) -> dict[str, typing.Any]:
    result = session.tool("send_event", name=event, **arguments)
    return dict(result["structuredContent"])


def ended(session: Mcp, run_id: str) -> dict[str, typing.Any]:
    def status() -> dict[str, typing.Any] | None:
        found = session.tool("get_run_status", runId=run_id)["structuredContent"]
        return dict(found) if found["status"] in ("Completed", "Failed") else None
    return wait(status)


def test_send_event_answers_the_event_and_the_runs_it_started(session: Mcp) -> None:
    result = session.tool("send_event", name="demo/hello", data={"x": 1})
    sent = result["structuredContent"]
    [run_id] = sent["runIds"]
    assert sent == {"eventId": sent["eventId"], "runIds": [run_id], "status": "accepted",
                    "message": "Event 'demo/hello' sent successfully"}
    assert text_of(result) == (f"Event 'demo/hello' sent successfully\nEvent ID: "
                               f"{sent['eventId']}\nTriggered 1 function run(s): [{run_id}]")
    none = session.tool("send_event", name="demo/nobody", data="plain")
    assert "runIds" not in none["structuredContent"]
    assert text_of(none).endswith("\nNo functions were triggered by this event")
    stored = session.tool("get_run_status", runId=run_id)["structuredContent"]
    assert stored["eventName"] == "demo/hello"
    refused = session.tool("send_event", name="inngest/reserved")
    assert failure(refused).startswith("failed to send event: ")


def test_get_run_status_reports_steps_output_and_failures(session: Mcp) -> None:
    [ok_id] = send(session, "demo/hello", data={"x": 1})["runIds"]
    done = ended(session, ok_id)
    assert done["status"] == "Completed" and done["functionName"] == "Hello fn"
    assert done["output"] == {"sum": 2, "data": {"x": 1}}
    assert [(s["stepName"], s["status"], s["attempt"]) for s in done["steps"]] == [
        ("first-step", "completed", 0), ("second-step", "completed", 0)]
    assert set(done) == {"runId", "functionName", "status", "startedAt", "endedAt", "eventId",
                         "eventName", "steps", "output"}
    datetime.datetime.strptime(done["startedAt"], "%Y-%m-%dT%H:%M:%SZ")

    [failed_id] = send(session, "demo/fail")["runIds"]
    failed = ended(session, failed_id)
    assert failed["status"] == "Failed"
    assert [(s["stepName"], s["status"]) for s in failed["steps"]][0] == ("ok-step", "completed")
    assert failed["steps"][-1]["status"] == "failed"
    assert failed["steps"][-1]["error"] == "kaput"
    text = text_of(session.tool("get_run_status", runId=failed_id))
    assert text.startswith("Run Status: Failed\nFunction: fails\n")
    assert "\nSteps (2):\n  - ok-step: completed (attempt 0)\n" in text
    assert text.endswith(": failed (attempt 0)\n    Error: kaput\n")


def test_get_run_status_of_unknown_runs(session: Mcp) -> None:
    assert failure(session.tool("get_run_status", runId="nope")) == \
        "invalid run ID format: ulid: bad data size when unmarshaling"
    assert failure(session.tool("get_run_status", runId="01M8NXF0R0HR5TJEM1CJ6K7JH7")) == \
        "failed to get run: sql: no rows in result set"


def test_poll_run_status_waits_for_the_runs_to_end(session: Mcp) -> None:
    [ok_id] = send(session, "demo/hello")["runIds"]
    [failed_id] = send(session, "demo/fail")["runIds"]
    result = session.tool("poll_run_status", runIds=[ok_id, failed_id, "nope"], timeout=20,
                          pollInterval=50)
    polled = result["structuredContent"]
    assert (polled["completed"], polled["failed"], polled["running"]) == (1, 1, 0)
    assert [run["runId"] for run in polled["runs"]] == [ok_id, failed_id]
    assert text_of(result).startswith("Polled 3 run(s) for ")
    assert "\nStatus: 1 completed, 1 failed, 0 running\n\n--- Run " in text_of(result)

    [slow_id] = send(session, "demo/slow")["runIds"]
    waiting = session.tool("poll_run_status", runIds=[slow_id], timeout=1, pollInterval=100)
    assert waiting["structuredContent"]["running"] == 1
    assert failure(session.tool("poll_run_status", runIds=[])) == "runIds array cannot be empty"
    assert failure(session.tool("poll_run_status", runIds=None)) == \
        "runIds array cannot be empty"


def test_invoke_function_sync_runs_the_function_and_answers_its_output(session: Mcp) -> None:
    for wanted in ("mcp-app-hello", "Hello fn"):
        result = session.tool("invoke_function_sync", functionId=wanted, data={"y": 2})
        invoked = result["structuredContent"]
        assert invoked["status"] == "Completed" and invoked["functionName"] == "Hello fn"
        assert invoked["output"] == {"sum": 2, "data": {"y": 2}}
        assert isinstance(invoked["duration"], int) and invoked["runId"] and invoked["eventId"]
        assert text_of(result).startswith("Function 'Hello fn' invoked successfully\n")
    wrapped = session.tool("invoke_function_sync", functionId="mcp-app-hello", data=[1])
    assert wrapped["structuredContent"]["output"]["data"] == {"value": [1]}

    failed = session.tool("invoke_function_sync", functionId="fails")
    assert failed["structuredContent"]["status"] == "Failed"
    assert text_of(failed).startswith("Function 'fails' failed\n")
    assert failure(session.tool("invoke_function_sync", functionId="nope")) == \
        "function not found: nope"
    assert failure(session.tool("invoke_function_sync", functionId="slow", timeout=1)) == \
        "function invocation timed out after 1 seconds"


def test_list_functions_answers_as_the_rest_api_v2(session: Mcp) -> None:
    result = session.tool("list_functions", appId="mcp-app")
    body = result["structuredContent"]
    assert text_of(result) == json.dumps(body, separators=(",", ":"), sort_keys=True)
    assert sorted(fn["id"] for fn in body["data"]) == ["fails", "hello", "slow"]
    assert body["page"] == {"limit": 20}
    hello = next(fn for fn in body["data"] if fn["id"] == "hello")
    assert hello == {"app": {"id": "mcp-app"}, "configuration": {
        "concurrency": [{"limit": {"isPlanLimit": True, "value": -1}, "scope": "ACCOUNT"}],
        "retries": {"isDefault": True, "value": 4}}, "id": "hello", "name": "Hello fn",
        "slug": "hello", "triggers": [{"type": "EVENT", "value": "demo/hello"}]}

    first = session.tool("list_functions", appId="mcp-app", limit=2)["structuredContent"]
    assert first["page"]["hasMore"] is True and len(first["data"]) == 2
    rest = session.tool("list_functions", appId="mcp-app", limit=2,
                        cursor=first["page"]["cursor"])["structuredContent"]
    assert rest["page"] == {"limit": 2}
    assert {fn["id"] for fn in first["data"] + rest["data"]} == {"fails", "hello", "slow"}

    assert "data" not in session.tool("list_functions", appId="nope")["structuredContent"]
    assert session.tool("list_functions") == {
        "content": [{"type": "text", "text": "appId is required"}],
        "structuredContent": {"error": "appId is required"}, "isError": True}
    too_many = session.tool("list_functions", appId="mcp-app", limit=500)
    assert too_many["isError"] is True
    assert too_many["structuredContent"] == {"errors": [
        {"code": "invalid_field_format", "message": "Limit cannot exceed 100"}]}
    assert text_of(too_many) == ('REST API v2 returned HTTP 400: {"errors":[{"code":'
                                 '"invalid_field_format","message":"Limit cannot exceed 100"}]}')
    for limit, code, message in [
        (-1, "invalid_field_format", "Limit must be at least 1"),
        (True, "api_error", 'parsing field "limit": strconv.ParseInt: parsing "true": '
                            "invalid syntax"),
        ("--1", "api_error", 'parsing field "limit": strconv.ParseInt: parsing "--1": '
                             "invalid syntax"),
    ]:
        refused = session.tool("list_functions", appId="mcp-app", limit=limit)
        assert refused["structuredContent"] == {"errors": [{"code": code, "message": message}]}
    assert session.tool("list_functions", appId="mcp-app", limit=0)["structuredContent"][
        "page"] == {"limit": 20}


def refused(result: dict[str, typing.Any], status: int, code: str, message: str) -> None:
    """A REST API v2 error status, as the real server's tools answer it."""
    body = {"errors": [{"code": code, "message": message}]}
    assert result == {"content": [{"type": "text", "text": f"REST API v2 returned HTTP {status}: "
                                   + json.dumps(body, separators=(",", ":"))}],
                      "structuredContent": body, "isError": True}


def test_apps_and_functions_answer_as_the_rest_api_v2(session: Mcp) -> None:
    [app] = session.tool("get_apps")["structuredContent"]["data"]
    assert app == {"createdAt": app["createdAt"], "functionCount": 3, "id": "mcp-app",
                   "latestSync": {"framework": "http_server", "sdkLanguage": "py",
                                  "sdkVersion": app["latestSync"]["sdkVersion"],
                                  "url": app["latestSync"]["url"]},
                   "method": "SERVE", "name": "mcp-app"}
    datetime.datetime.strptime(app["createdAt"], "%Y-%m-%dT%H:%M:%SZ")
    assert session.tool("get_app", appId="mcp-app")["structuredContent"]["data"] == app
    assert "data" not in session.tool("get_apps", archived=True)["structuredContent"]
    refused(session.tool("get_app", appId="nope"), 404, "not_found", "App not found")

    listed = session.tool("list_functions", appId="mcp-app")["structuredContent"]["data"]
    hello = next(fn for fn in listed if fn["id"] == "hello")
    for wanted in ("hello", "mcp-app-hello"):
        found = session.tool("get_function", appId="mcp-app", functionId=wanted)
        assert found["structuredContent"]["data"] == hello
    refused(session.tool("get_function", appId="mcp-app", functionId="nope"), 404,
            "not_found", "Function not found")
    assert session.tool("get_function", appId="mcp-app") == {
        "content": [{"type": "text", "text": "functionId is required"}],
        "structuredContent": {"error": "functionId is required"}, "isError": True}


def test_runs_answer_as_the_rest_api_v2_and_cancel(session: Mcp) -> None:
    sent = send(session, "demo/fail")
    [run_id] = sent["runIds"]
    ended(session, run_id)
    run = session.tool("get_run", runId=run_id)["structuredContent"]["data"]
    assert run == {"app": {"id": "mcp-app"}, "durationMs": run["durationMs"],
                   "endedAt": run["endedAt"], "function": {"id": "fails", "name": "fails"},
                   "id": run_id, "queuedAt": run["queuedAt"], "startedAt": run["startedAt"],
                   "status": "FAILED", "trigger": {"eventIds": [sent["eventId"]]}}
    assert isinstance(run["durationMs"], str) and int(run["durationMs"]) >= 0
    with_output = session.tool("get_run", runId=run_id, includeOutput=True)
    assert with_output["structuredContent"]["data"]["output"]["message"] == "kaput"
    by_event = session.tool("get_event_runs", eventId=sent["eventId"])["structuredContent"]
    assert by_event["data"] == [run] and by_event["page"] == {"limit": 20}
    refused(session.tool("get_run", runId="nope"), 400, "invalid_field_format",
            "Run ID must be a valid ULID")
    refused(session.tool("get_run", runId="01M8NXF0R0HR5TJEM1CJ6K7JH7"), 404, "not_found",
            "Run not found")
    refused(session.tool("get_event_runs", eventId=sent["eventId"], limit=41), 400,
            "invalid_field_format", "Limit cannot exceed 40")
    refused(session.tool("cancel_run", runId=run_id), 409, "run_already_ended",
            "Cannot cancel an ended run")

    [slow_id] = send(session, "demo/slow")["runIds"]
    assert session.tool("cancel_run", runId=slow_id)["structuredContent"]["data"] == {
        "runId": slow_id}
    assert session.tool("get_run", runId=slow_id)["structuredContent"]["data"]["status"] == \
        "CANCELLED"
    refused(session.tool("cancel_run", runId=slow_id), 409, "run_already_cancelled",
            "Run is already cancelled")


def rest_v2(session: Mcp, path: str, **query: str) -> typing.Any:
    """The engine's REST API v2 answer, without its ``metadata`` (its time differs)."""
    response = HTTP.request("GET", session.url.removesuffix("/mcp") + "/api/v2" + path,
                            fields=query)
    body = json.loads(response.data)
    body.pop("metadata", None)
    return body


def test_run_lists_and_traces_come_from_the_rest_api_v2(session: Mcp) -> None:
    [ok_id] = send(session, "demo/hello")["runIds"]
    [failed_id] = send(session, "demo/fail")["runIds"]
    ended(session, ok_id)
    ended(session, failed_id)
    listed = session.tool("list_runs", includeOutput=True)
    body = json.loads(text_of(listed))
    assert body == listed["structuredContent"]
    del body["metadata"]
    assert body == rest_v2(session, "/runs", includeOutput="true")
    assert {run["id"] for run in body["data"]} == {ok_id, failed_id}
    # A list argument is sent as the query parameter repeated; each value counts.
    failed = session.tool("list_runs", status=["FAILED"])["structuredContent"]
    assert [run["id"] for run in failed["data"]] == [failed_id]
    either = session.tool("list_runs", status=["COMPLETED", "FAILED"])["structuredContent"]
    assert {run["id"] for run in either["data"]} == {ok_id, failed_id}
    of_hello = session.tool("list_function_runs", appId="mcp-app", functionId="hello")
    assert [run["id"] for run in of_hello["structuredContent"]["data"]] == [ok_id]
    trace = session.tool("get_run_trace", runId=ok_id, includeOutput=True)["structuredContent"]
    del trace["metadata"]
    assert trace == rest_v2(session, f"/runs/{ok_id}/trace", includeOutput="true")
    assert session.tool("get_run_trace", runId=" ")["structuredContent"] == {
        "error": "runId is required"}


def test_invoke_function_and_rerun_start_runs(session: Mcp) -> None:
    invoked = session.tool("invoke_function", appId="mcp-app", functionId="hello",
                           data={"q": 1})["structuredContent"]
    run_id = invoked["data"]["runId"]
    assert set(invoked) == {"data", "metadata"}
    assert ended(session, run_id)["output"] == {"sum": 2, "data": {"q": 1}}
    rerun = session.tool("rerun", runId=run_id)["structuredContent"]["data"]["runId"]
    assert rerun != run_id
    assert ended(session, rerun)["output"] == {"sum": 2, "data": {"q": 1}}

    refused(session.tool("invoke_function", appId="mcp-app", functionId="hello"), 400,
            "missing_field", "Input data is required")
    refused(session.tool("invoke_function", appId="mcp-app", functionId="nope", data={}), 404,
            "not_found", "Function not found")
    assert session.tool("invoke_function", functionId="hello")["structuredContent"] == {
        "error": "appId is required"}
    from_step = session.tool("rerun", runId=run_id, fromStep={"stepId": "second-step"})
    assert ended(session, from_step["structuredContent"]["data"]["runId"])["output"] == {
        "sum": 2, "data": {"q": 1}}
    refused(session.tool("rerun", runId=run_id, fromStep={"stepId": "no-such-step"}), 400,
            "invalid_request", "Step not found in original run")
    refused(session.tool("rerun", runId="01M8NXF0R0HR5TJEM1CJ6K7JH7"), 404, "not_found",
            "Run not found")


def test_health(session: Mcp) -> None:
    body = session.tool("health")["structuredContent"]
    assert body["data"] == {"status": "ok"} and body["metadata"]["fetchedAt"]


# This checkout's docs folder: tox runs the tests against an installed wheel, which has none.
CHECKOUT_DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"


def test_docs_tools_read_the_docs_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    with docs_engine(monkeypatch, CHECKOUT_DOCS) as dev:
        session = Mcp(dev.url)
        session.initialize()
        check_docs_tools(session)


def check_docs_tools(session: Mcp) -> None:
    listed = session.tool("list_docs")["structuredContent"]
    assert listed["categories"]["compatibility.md"] == 1
    assert listed["totalChunks"] == 2 * listed["totalDocs"]
    found = session.tool("grep_docs", pattern="^# Compat", limit=1)
    assert found["structuredContent"] == {"count": 1, "matches": [
        {"file": "compatibility.md", "line": 1,
         "content": found["structuredContent"]["matches"][0]["content"]}]}
    assert text_of(found).startswith("Found 1 matches for pattern '^# Compat':\n\ncompat")
    assert text_of(found).endswith("\n(Limited to 1 results)\n")
    read = session.tool("read_doc", path="compatibility.md")["structuredContent"]
    assert read["content"].startswith("# Compat") and read["size"] == len(read["content"].encode())
    assert failure(session.tool("read_doc", path="../setup.cfg")) == \
        "invalid path: directory traversal not allowed"
    assert failure(session.tool("read_doc", path="/etc/hostname")) == \
        "file not found: /etc/hostname"
    assert failure(session.tool("grep_docs", pattern="")) == "pattern cannot be empty"
    assert failure(session.tool("grep_docs", pattern="(")).startswith("invalid pattern: ")


def docs_engine(monkeypatch: pytest.MonkeyPatch, folder: pathlib.Path) -> DevServer:
    monkeypatch.setattr(docs_tools, "PROJECT_DOCS", folder)
    return DevServer(port=0, poll=False)


def test_docs_tools_walk_folders_in_order_and_need_this_projects_docs(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "guides").mkdir()
    (tmp_path / "dev-server.md").write_text("# Dev\nstep.run here\n")
    (tmp_path / "guides" / "python-steps.md").write_text("intro\n  Step.Run twice  \n")
    (tmp_path / "notes.txt").write_text("step.run, but not Markdown\n")
    with docs_engine(monkeypatch, tmp_path) as dev:
        mcp = Mcp(dev.url)
        mcp.initialize()
        found = mcp.tool("grep_docs", pattern="step\\.run")["structuredContent"]
        assert found == {"count": 2, "matches": [
            {"file": "dev-server.md", "line": 2, "content": "step.run here"},
            {"file": "guides/python-steps.md", "line": 2, "content": "Step.Run twice"}]}
        listed = mcp.tool("list_docs")["structuredContent"]
        assert (listed["totalDocs"], listed["categories"], listed["sdks"]) == (
            2, {"dev-server.md": 1, "guides": 1}, {"python": 1})
        read = mcp.tool("read_doc", path="guides/python-steps.md")["structuredContent"]
        assert read == {"path": "guides/python-steps.md", "size": 25,
                        "content": "intro\n  Step.Run twice  \n"}
    (tmp_path / "dev-server.md").unlink()  # not this project's docs: none are served
    with docs_engine(monkeypatch, tmp_path) as dev:
        mcp = Mcp(dev.url)
        mcp.initialize()
        assert mcp.tool("list_docs")["structuredContent"]["totalDocs"] == 0
        assert failure(mcp.tool("read_doc", path="guides/python-steps.md")) == \
            "file not found: guides/python-steps.md"


# Bad input


def test_get_without_a_session_is_refused(mcp: Mcp) -> None:
    reply = mcp.request("GET", headers={"accept": "text/event-stream"})
    assert (reply.status, reply.text) == (400, "Bad Request: GET requires an Mcp-Session-Id "
                                               "header\n")
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"


@pytest.mark.parametrize("body, text", [
    (b"hello", "malformed payload: unmarshaling jsonrpc message: "),
    (b'{"id": 1, "method": "ping"}',
     'malformed payload: invalid message version tag ""; expected "2.0"'),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "foo/bar"}',
     'JSON RPC not handled: "foo/bar" unsupported'),
    (b'{"jsonrpc": "2.0", "method": "ping"}', 'invalid request: missing id for "ping"'),
    (b'{"jsonrpc": "2.0", "id": 1, "method": "tools/call"}',
     'invalid request: missing required "params"'),
    (b'[]', "malformed payload: empty batch"),
    (b'{"jsonrpc": "2.0", "id": {}, "method": "ping"}',
     "malformed payload: parse error: invalid ID type"),
    (b"", "POST requires a non-empty body"),
])
def test_messages_the_server_will_not_take_fail_the_request(session: Mcp, body: bytes,
                                                            text: str) -> None:
    reply = session.post(body)
    assert reply.status == 400
    assert reply.headers["content-type"] == "text/plain; charset=utf-8"
    assert reply.text.startswith(text) and reply.text.endswith("\n")


def test_unknown_tools_and_bad_arguments_are_invalid_params(session: Mcp) -> None:
    unknown = session.call("tools/call", {"name": "nope", "arguments": {}})
    assert unknown["error"] == {"code": -32602, "message": 'unknown tool "nope"'}
    prefix = 'invalid params: validating "arguments": validating root: '
    for arguments, message in [
        ({}, 'required: missing properties: ["name"]'),
        ({"name": 5}, 'validating /properties/name: type: 5 has type "integer", want "string"'),
        ({"name": "x", "bogus": 1}, 'unexpected additional properties ["bogus"]'),
    ]:
        reply = session.call("tools/call", {"name": "send_event", "arguments": arguments})
        assert reply["error"] == {"code": -32602, "message": prefix + message}
    polled = session.call("tools/call", {"name": "poll_run_status", "arguments": {
        "runIds": ["ok", 1]}})
    assert polled["error"]["message"] == prefix + (
        'validating /properties/runIds: validating /properties/runIds/items: type: 1 has type '
        '"integer", want "string"')
    not_object = session.call("tools/call", {"name": "send_event", "arguments": [1]})
    assert not_object["error"]["code"] == -32602
    assert session.call("tools/call", [1])["error"]["code"] == 0


def test_http_level_refusals(mcp: Mcp) -> None:
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    cases = [
        (mcp.request("POST", ping, {"content-type": "text/plain", "accept": "*/*"}),
         415, "Content-Type must be 'application/json'"),
        (mcp.request("POST", ping, {"content-type": "application/json",
                                    "accept": "application/json"}),
         400, "Accept must contain both 'application/json' and 'text/event-stream'"),
        (mcp.request("GET", headers={"accept": "application/json"}),
         400, "Accept must contain 'text/event-stream' for GET requests"),
        (mcp.post(ping, session="BADSESSION"), 404, "session not found"),
        (mcp.request("DELETE"), 400, "Bad Request: DELETE requires an Mcp-Session-Id header"),
        (mcp.post(ping, mcp_protocol_version="1999-01-01"), 400,
         "Bad Request: Unsupported protocol version (supported versions: "
         "2025-11-25,2025-06-18,2025-03-26,2024-11-05)"),
        (mcp.request("PUT", ping, {"accept": "*/*"}), 405, "Method Not Allowed"),
    ]
    for reply, status, text in cases:
        assert (reply.status, reply.text) == (status, text + "\n")
    assert cases[-1][0].headers["allow"] == "GET, POST, DELETE"


def test_a_sessions_get_offers_no_event_stream(session: Mcp) -> None:
    reply = session.request("GET", headers={"accept": "text/event-stream",
                                            "mcp-session-id": session.session})
    assert reply.status == 405 and reply.headers["allow"] == "POST, DELETE"
