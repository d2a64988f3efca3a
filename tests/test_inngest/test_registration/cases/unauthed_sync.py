"""Unsigned out-of-band sync is refused with enable_unauthed_sync=False; so is a sync from
a server of the other kind."""

from __future__ import annotations

import inngest
from test_core import apps, case, cloud


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)

    def run_test(ctx: case.CaseContext) -> None:
        with cloud.fake_cloud() as fake:
            app_client = cloud.client(f"{framework}-{name}", fake.origin)
            fn = cloud.hello_function(app_client, name)
            with apps.start(framework, app_client, [fn], enable_unauthed_sync=False) as app:
                refused = cloud.request("PUT", app.url)
            with apps.start(framework, app_client, [fn]) as app:
                from_dev = cloud.request("PUT", app.url, headers={"x-inngest-server-kind": "dev"})

        assert fake.requests == []
        assert refused.status == 401
        assert cloud.json_body(refused) == {"message": "Unauthorized"}
        assert from_dev.status == 400
        assert cloud.json_body(from_dev)["code"] == "server_kind_mismatch"

    return case.Case(name, [], run_test)
