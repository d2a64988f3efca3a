"""Dev mode: GET answers the unauthenticated inspection; a Cloud server kind gets 403."""

from __future__ import annotations

import inngest
from test_core import apps, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        app_client = inngest.Inngest(
            app_id=f"{framework}-{name}", is_production=False, event_key="test",
            api_base_url="http://127.0.0.1:9", event_api_base_url="http://127.0.0.1:9",
        )
        fns = [cloud.hello_function(app_client, f"{name}-{n}") for n in range(3)]
        with apps.start(framework, app_client, fns) as app:
            response = cloud.request("GET", app.url)
            mismatch = cloud.request("GET", app.url, headers={"x-inngest-server-kind": "cloud"})

        assert response.status == 200
        assert response.headers["x-inngest-framework"] == framework
        assert response.headers["x-inngest-expected-server-kind"] == "dev"
        assert response.headers["x-inngest-sdk-handled"] == "true"
        assert "x-inngest-signature" not in response.headers
        assert cloud.json_body(response) == {
            "schema_version": "2024-05-24",
            "function_count": 3,
            "has_event_key": True,
            "has_signing_key": False,
            "has_signing_key_fallback": False,
            "mode": "dev",
        }
        assert mismatch.status == 403

    return case.Case(name, [], run_test)
