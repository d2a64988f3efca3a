"""Sync retries with the fallback signing key when Cloud rejects the primary one."""

from __future__ import annotations

import inngest
from test_core import apps, base, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud(rejected_tokens={base.SIGNING_KEY_HASH}) as fake:
            app_client = cloud.client(
                f"{framework}-{name}", fake.origin, fallback_key=base.SIGNING_KEY_FALLBACK
            )
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn]) as app:
                response = cloud.request("PUT", app.url)

        assert response.status == 200
        assert [request.header("authorization") for request in fake.requests] == [
            f"Bearer {base.SIGNING_KEY_HASH}",
            f"Bearer {base.SIGNING_KEY_FALLBACK_HASH}",
        ]

    return case.Case(name, [], run_test)
