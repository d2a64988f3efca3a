"""What the server receives: 206 step arrays, no-retry and retry-after headers, standard
headers; observed by a recording proxy the app advertises as its serve origin."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import urllib.parse

import inngest
from inngest.experimental import dev_server
from test_core import apps, base, case, helper, http_proxy
from test_core.helper import RunStatus

_ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class _Recorder:
    """Relays requests to the app and keeps every (path, response) pair."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.exchanges: list[tuple[str, http_proxy.Response]] = []
        self.target = ""

    def __call__(
        self, body: bytes, headers: dict[str, list[str]], method: str, path: str
    ) -> http_proxy.Response:
        response = http_proxy.forward_to(self.target)(body, headers, method, path)
        with self.lock:
            self.exchanges.append((path, response))
        return response

    def responses_for(self, fn_id: str) -> list[http_proxy.Response]:
        with self.lock:
            return [response for path, response in self.exchanges
                    if _query(path).get("fnId") == [fn_id]]


def _query(path: str) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)

    def run_test(ctx: case.CaseContext) -> None:
        app_client = case.server_client(framework, app_id=f"{framework}-{name}")
        runs = {kind: base.BaseState() for kind in ("steps", "no-retry", "retry-after")}

        @app_client.create_function(fn_id="steps", trigger=inngest.TriggerEvent(event=event))
        def steps(ctx: inngest.ContextSync) -> str:
            runs["steps"].run_id = ctx.run_id
            ctx.step.run("one", lambda: 1)
            return "done"

        @app_client.create_function(
            fn_id="no-retry", trigger=inngest.TriggerEvent(event=event), retries=2
        )
        def no_retry(ctx: inngest.ContextSync) -> None:
            runs["no-retry"].run_id = ctx.run_id
            raise inngest.NonRetriableError("stop")

        @app_client.create_function(
            fn_id="retry-after", trigger=inngest.TriggerEvent(event=event), retries=1
        )
        def retry_after(ctx: inngest.ContextSync) -> str:
            runs["retry-after"].run_id = ctx.run_id
            if ctx.attempt == 0:
                raise inngest.RetryAfterError("soon", 200)
            return "retried"

        recorder = _Recorder()
        with http_proxy.Proxy(recorder) as proxy, apps.start(
            framework, app_client, [steps, no_retry, retry_after], serve_origin=proxy.origin
        ) as app:
            recorder.target = f"http://127.0.0.1:{app.port}"
            helper.register(app.port)
            app_client.send_sync(inngest.Event(name=event))
            expected = {"steps": RunStatus.COMPLETED, "no-retry": RunStatus.FAILED,
                        "retry-after": RunStatus.COMPLETED}
            for kind, status in expected.items():
                helper.client.wait_for_run_status(runs[kind].wait_for_run_id(), status)

        def fn_id(local_id: str) -> str:
            return f"{framework}-{name}-{local_id}"

        first_step, final = recorder.responses_for(fn_id("steps"))
        assert first_step.status == 206
        [element] = json.loads(first_step.body)
        assert element["op"] == "StepRun"
        assert element["id"] == hashlib.sha1(b"one").hexdigest()
        assert (element["displayName"], element["data"]) == ("one", 1)
        assert (final.status, json.loads(final.body)) == (200, "done")

        [refused] = recorder.responses_for(fn_id("no-retry"))
        assert refused.status == 500
        assert refused.headers["x-inngest-no-retry"] == "true"
        assert json.loads(refused.body)["code"] == "non_retriable_error"

        later, retried = recorder.responses_for(fn_id("retry-after"))
        assert later.status == 500
        assert _ISO_MS.match(later.headers["retry-after"])
        assert "x-inngest-no-retry" not in later.headers
        assert json.loads(retried.body) == "retried"

        for _, response in recorder.exchanges:
            assert response.headers["x-inngest-framework"] == framework
            assert response.headers["x-inngest-sdk"] == f"inngest-sync:v{inngest.__version__}"
            assert response.headers["x-inngest-req-version"] == "2"
            assert response.headers["x-inngest-expected-server-kind"] == app_client.mode
            if app_client.is_production:  # signed with the key the server signed with
                assert base.verify_response_signature(
                    response.body, response.headers.get("x-inngest-signature"),
                    dev_server.server.app_signing_key)

    return case.Case(name, [], run_test)
