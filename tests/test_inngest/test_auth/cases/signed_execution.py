"""Cloud mode POST: a request signed by the server (either key) runs the function and the
response is signed; missing, forged or stale signatures get 401 and nothing runs."""

from __future__ import annotations

import json
import time
import typing

import inngest
from inngest import _signing
from test_core import apps, base, case, cloud

_API = "http://127.0.0.1:9/"


def _execution_body(fn_name: str) -> bytes:
    event = {"name": f"{fn_name}/hello", "data": {"name": "Ada"}, "id": "evt", "ts": 1}
    return json.dumps({
        "event": event, "events": [event], "steps": {}, "use_api": False,
        "ctx": {"run_id": "run-1", "attempt": 0, "disable_immediate_execution": False,
                "stack": {"stack": []}},
    }).encode()


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        app_id = f"{framework}-{name}"
        app_client = cloud.client(app_id, _API, fallback_key=base.SIGNING_KEY_FALLBACK)
        body = _execution_body(name)
        # Key order and spacing differ from the canonical form the signature covers.
        reordered = json.dumps(json.loads(body), sort_keys=True, indent=1).encode()
        stale = {"x-inngest-signature": _signing.sign_request_body(
            body, base.SIGNING_KEY, now=time.time() - 3600)}
        with apps.start(framework, app_client, [cloud.hello_function(app_client, name)]) as app:
            url = f"{app.url}?fnId={app_id}-{name}&stepId=step"

            def post(payload: bytes, headers: dict[str, str]) -> typing.Any:
                return cloud.request("POST", url, body=payload, headers=headers)

            accepted = [
                (post(body, base.signed_headers(body)), base.SIGNING_KEY),
                (post(reordered, base.signed_headers(body)), base.SIGNING_KEY),
                (post(body, base.signed_headers(body, base.SIGNING_KEY_FALLBACK)),
                 base.SIGNING_KEY_FALLBACK),
            ]
            refused = [
                post(body, {}),
                post(body, base.signed_headers(body, "signkey-prod-000000")),
                post(body, stale),
            ]

        for response, key in accepted:
            assert response.status == 200
            assert cloud.json_body(response) == {"hello": "Ada"}
            assert base.verify_response_signature(
                response.data, response.headers.get("x-inngest-signature"), key
            )
        for response in refused:
            assert response.status == 401
            assert cloud.json_body(response) == {"message": "Unauthorized"}
            assert "x-inngest-signature" not in response.headers

    return case.Case(name, [], run_test)
