"""Cloud mode: a signed GET gets the authenticated inspection, signed with the key that
verified it (primary or fallback); an unsigned or forged GET gets 401."""

from __future__ import annotations

import inngest
from test_core import apps, base, case, cloud

_API = "http://127.0.0.1:9/"


def _expected(framework: str, app_id: str) -> dict[str, object]:
    return {
        "schema_version": "2024-05-24",
        "api_origin": _API,
        "app_id": app_id,
        "authentication_succeeded": True,
        "capabilities": {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"},
        "env": None,
        "event_api_origin": _API,
        "event_key_hash": base.EVENT_KEY_HASH,
        "framework": framework,
        "function_count": 1,
        "has_event_key": True,
        "has_signing_key": True,
        "has_signing_key_fallback": True,
        "mode": "cloud",
        "sdk_language": "py",
        "sdk_version": inngest.__version__,
        "serve_origin": None,
        "serve_path": None,
        "signing_key_fallback_hash": base.SIGNING_KEY_FALLBACK_HASH,
        "signing_key_hash": base.SIGNING_KEY_HASH,
    }


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        app_id = f"{framework}-{name}"
        app_client = cloud.client(
            app_id, _API, fallback_key=base.SIGNING_KEY_FALLBACK, event_key=base.EVENT_KEY
        )
        with apps.start(framework, app_client, [cloud.hello_function(app_client, name)]) as app:
            signed = cloud.request("GET", app.url, headers=base.signed_headers(b""))
            by_fallback = cloud.request(
                "GET", app.url, headers=base.signed_headers(b"", base.SIGNING_KEY_FALLBACK)
            )
            unsigned = cloud.request("GET", app.url)
            forged = cloud.request(
                "GET", app.url, headers=base.signed_headers(b"", "signkey-prod-000000")
            )

        for response, key in ((signed, base.SIGNING_KEY), (by_fallback, base.SIGNING_KEY_FALLBACK)):
            assert response.status == 200
            assert cloud.json_body(response) == _expected(framework, app_id)
            assert base.verify_response_signature(
                response.data, response.headers.get("x-inngest-signature"), key
            )
        for response in (unsigned, forged):
            assert response.status == 401
            assert cloud.json_body(response) == {"message": "Unauthorized"}

    return case.Case(name, [], run_test)
