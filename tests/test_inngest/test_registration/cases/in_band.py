"""In-band sync: a signed PUT gets the app's config back, signed; unsigned ones get 401."""

from __future__ import annotations

import json

import inngest
from test_core import apps, base, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud() as fake:
            app_client = cloud.client(f"{framework}-{name}", fake.origin)
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn]) as app:
                body = json.dumps({"url": "https://example.com/api/inngest"}).encode()
                headers = {"x-inngest-sync-kind": "in_band", "content-type": "application/json"}
                signed = cloud.request(
                    "PUT", app.url, body=body, headers={**headers, **base.signed_headers(body)}
                )
                unsigned = cloud.request("PUT", app.url, body=body, headers=headers)
                forged = cloud.request("PUT", app.url, body=body, headers={
                    **headers, **base.signed_headers(body, "signkey-prod-000000")})

        assert fake.requests == []
        assert signed.status == 200
        assert signed.headers["x-inngest-sync-kind"] == "in_band"
        assert base.verify_response_signature(
            signed.data, signed.headers.get("x-inngest-signature"), base.SIGNING_KEY
        )
        answer = cloud.json_body(signed)
        assert answer["app_id"] == f"{framework}-{name}"
        assert answer["url"] == "https://example.com/api/inngest"
        assert answer["framework"] == framework
        assert answer["sdk_language"] == "py"
        assert [config["id"] for config in answer["functions"]] == [f"{framework}-{name}-{name}"]
        assert answer["inspection"]["authentication_succeeded"] is True
        assert answer["inspection"]["signing_key_hash"] == base.SIGNING_KEY_HASH
        for rejected in (unsigned, forged):
            assert rejected.status == 401
            assert cloud.json_body(rejected) == {"message": "Unauthorized"}
            assert "x-inngest-signature" not in rejected.headers

    return case.Case(name, [], run_test)
