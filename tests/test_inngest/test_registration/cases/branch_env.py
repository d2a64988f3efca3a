"""A branch environment name travels as x-inngest-env on sync, events and responses."""

from __future__ import annotations

import inngest
from test_core import apps, case, cloud

_ENV = "feature/branch-1"


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud() as fake:
            app_client = cloud.client(
                f"{framework}-{name}", fake.origin, env=_ENV, event_key="test"
            )
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn]) as app:
                response = cloud.request("PUT", app.url)
                app_client.send_sync(inngest.Event(name=f"{name}/hello"))

        assert response.status == 200
        assert response.headers["x-inngest-env"] == _ENV
        register, send = fake.requests
        assert register.path == "/fn/register"
        assert register.header("x-inngest-env") == _ENV
        assert send.path == "/e/test"
        assert send.header("x-inngest-env") == _ENV

    return case.Case(name, [], run_test)
