"""Out-of-band sync in cloud mode: the SDK registers with the hashed signing key."""

from __future__ import annotations

import json

import inngest
from test_core import apps, base, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud(register_body={"ok": True, "modified": True}) as fake:
            app_client = cloud.client(f"{framework}-{name}", fake.origin)
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn]) as app:
                response = cloud.request("PUT", app.url + "?deployId=dep-1")

        assert response.status == 200
        assert response.headers["x-inngest-sync-kind"] == "out_of_band"
        assert cloud.json_body(response) == {"ok": True, "modified": True}
        [register] = fake.requests
        assert (register.method, register.path) == ("POST", "/fn/register?deployId=dep-1")
        assert register.header("authorization") == f"Bearer {base.SIGNING_KEY_HASH}"
        assert register.header("x-inngest-framework") == framework
        body = json.loads(register.body)
        assert body["appname"] == f"{framework}-{name}"
        assert body["url"] == app.url
        assert body["framework"] == framework
        assert body["deploy_type"] == "ping"
        assert body["sdk"] == f"py:v{inngest.__version__}"
        [config] = body["functions"]
        assert config["id"] == f"{framework}-{name}-{name}"
        assert config["steps"]["step"]["runtime"] == {
            "type": "http", "url": f"{app.url}?fnId={framework}-{name}-{name}&stepId=step"}

    return case.Case(name, [], run_test)
