"""GraphQL errors in non-null fields: the null goes up to the nearest nullable field, or
to ``data``, as on the real dev server (gqlgen; measured: a failed ``rerun``, ``cancelRun``,
``createApp`` or ``deleteApp`` answers ``"data": null``)."""

from __future__ import annotations

import pytest
from engine_fakes import Client, FakeApp, ok
from test_console_mutations import ended_runs
from test_graphql import data, gql

LOOPBACK = True
UNKNOWN_RUN = "01HZZZZZZZZZZZZZZZZZZZZZZZ"


@pytest.mark.parametrize(("mutation", "path"), [
    (f'rerun(runID: "{UNKNOWN_RUN}")', "rerun"),
    (f'cancelRun(runID: "{UNKNOWN_RUN}") {{ id }}', "cancelRun"),
    ('deleteApp(id: "nope")', "deleteApp"),
    ('createApp(input: {url: "http://[::1"}) { id }', "createApp"),
])
def test_a_failed_mutation_answers_null_data(client: Client, mutation: str, path: str) -> None:
    status, body = client.request("POST", "/v0/gql", {"query": f"mutation {{ {mutation} }}"})
    assert (status, body["data"]) == (200, None)
    assert [error["path"] for error in body["errors"]] == [[path]]


def test_every_mutation_runs_though_an_earlier_one_failed(
        client: Client, app: FakeApp) -> None:
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    [run] = ended_runs(client, event_id, 1)
    body = gql(client, f'mutation {{ deleteApp(id: "nope") rerun(runID: "{run["id"]}") }}')
    assert body["data"] is None
    assert [error["path"] for error in body["errors"]] == [["deleteApp"]]
    assert len(ended_runs(client, event_id, 2)) == 2  # the rerun was made


def test_a_failed_non_null_query_field_nulls_data(client: Client) -> None:
    body = gql(client, f'{{ apps {{ id }} runTrace(runID: "{UNKNOWN_RUN}") {{ name }} }}')
    assert body["data"] is None
    assert [error["path"] for error in body["errors"]] == [["runTrace"]]
    body = gql(client, f'{{ apps {{ id }} run(runID: "{UNKNOWN_RUN}") {{ id }} }}')
    assert body["data"] == {"apps": [], "run": None}


def test_a_run_of_a_removed_app_still_names_its_app(client: Client, app: FakeApp) -> None:
    # The real server keeps a removed app for its runs; a null here would null the run.
    client.register(app, [app.function("fn", handler=lambda call: ok(1))])
    [event_id] = client.send({"name": "test/fn"})
    [run] = ended_runs(client, event_id, 1)
    [listed] = data(client, "{ apps { id name } }")["apps"]
    data(client, f'mutation {{ deleteApp(id: "{listed["id"]}") }}')
    found = data(client, f'{{ run(runID: "{run["id"]}") {{ app {{ id name }} '
                         "function { app { id } } } }")
    assert found["run"] == {"app": listed, "function": {"app": {"id": listed["id"]}}}
    assert data(client, "{ apps { id } }")["apps"] == []
