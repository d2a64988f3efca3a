"""When Cloud refuses the sync, the PUT fails with Cloud's message (not a silent 200)."""

from __future__ import annotations

import inngest
from test_core import apps, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud(register_status=400, register_body={"error": "bad config"}) as fake:
            app_client = cloud.client(f"{framework}-{name}", fake.origin)
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn]) as app:
                response = cloud.request("PUT", app.url)

        assert response.status == 500
        body = cloud.json_body(response)
        assert body["code"] == "registration_failed"
        assert "bad config" in body["message"]

    return case.Case(name, [], run_test)
