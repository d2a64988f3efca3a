"""GraphQL over ``multipart/form-data`` (the GraphQL multipart request spec), answered as the
dev server's gqlgen answers it (measured): an ``operations`` part, a ``map`` part, then
files, each put into the variables at the paths the map gives; what does not fit is a 422
in its words."""

from __future__ import annotations

import json
import typing

import pytest
from engine_fakes import Client

LOOPBACK = True

FORM = "multipart/form-data; boundary=XyZ"
Part = tuple[str, bytes, typing.Optional[str]]


def form(*parts: Part) -> bytes:
    out = b""
    for name, value, filename in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename
                                                     else "")
        out += f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"
    return out + b"--XyZ--\r\n"


def operations(query: str, variables: object = None) -> Part:
    body: dict[str, object] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return ("operations", json.dumps(body).encode(), None)


def post(client: Client, body: bytes, content_type: str = FORM) -> tuple[int, typing.Any]:
    return client.request("POST", "/v0/gql", body, headers={"content-type": content_type})


def errors(answer: typing.Any) -> list[object]:
    return [(error["message"], error.get("path")) for error in answer["errors"]]


INVOKE = 'mutation($f: Map) { invokeFunction(functionSlug: "nope", data: $f) }'
SLUG = 'query($f: String!) { functionBySlug(query: {functionSlug: $f}) { name } }'
FILE = ("0", b"hello", "dir/a.txt")


def test_a_form_without_files_is_run(client: Client) -> None:
    status, answer = post(client, form(operations("{ apps { name } }"), ("map", b"{}", None)))
    assert (status, answer) == (200, {"data": {"apps": []}})


def test_a_file_inside_a_map_is_stored_as_the_servers_upload_struct(client: Client) -> None:
    status, answer = post(client, form(operations(INVOKE, {"f": {"x": None}}),
                                       ("map", b'{"0": ["variables.f.x"]}', None), FILE))
    assert (status, answer) == (200, {"data": {"invokeFunction": True}})
    status, listed = client.request("POST", "/v0/gql", {"query": (
        '{ eventsV2(first: 5, filter: {from: "2000-01-01T00:00:00Z", '
        'includeInternalEvents: true, eventNames: ["inngest/function.invoked"]}) '
        "{ edges { node { raw } } } }")})
    [edge] = listed["data"]["eventsV2"]["edges"]
    assert json.loads(edge["node"]["raw"])["data"]["x"] == {
        "ContentType": "", "File": {}, "Filename": "a.txt", "Size": 5}


@pytest.mark.parametrize("query, status, expected", [
    (SLUG, 422, [("cannot use struct as String", ["variable", "f"])]),
    (INVOKE, 200, [("graphql.Upload is not a map", ["invokeFunction", "data"])]),
])
def test_a_file_is_no_value_of_a_scalar(client: Client, query: str, status: int,
                                        expected: list[object]) -> None:
    answer = post(client, form(operations(query, {"f": None}),
                               ("map", b'{"0": ["variables.f"]}', None), FILE))
    assert (answer[0], errors(answer[1])) == (status, expected)


@pytest.mark.parametrize("parts, message", [
    ([], "first part must be operations"),
    ([("map", b"{}", None), operations("{ apps { name } }")], "first part must be operations"),
    ([operations("{ apps { name } }")], "second part must be map"),
    ([("operations", b"{nope", None), ("map", b"{}", None)],
     "operations form field could not be decoded"),
    ([("operations", b'[{"query": "{ apps { name } }"}]', None), ("map", b"{}", None)],
     "operations form field could not be decoded"),
    ([operations("{ apps { name } }"), ("map", b"nope", None)],
     "map form field could not be decoded"),
    ([operations("{ apps { name } }"), ("map", b"[]", None)],
     "map form field could not be decoded"),
    ([operations(SLUG, {"f": None}), ("map", b'{"0": ["f"]}', None), FILE],
     "invalid operations paths for key 0"),
    ([operations(SLUG, {"f": None}), ("map", b'{"0": []}', None), FILE],
     "invalid empty operations paths list for key 0"),
    ([operations(SLUG, {"f": None}), ("map", b'{"0": ["variables.f"]}', None)],
     "failed to get key 0 from form"),
    ([operations("{ apps { name } }"), ("map", b"{}", None), ("zz", b"x", "a.txt")],
     "invalid empty operations paths list for key zz"),
    ([operations(SLUG, {"f": None}), ("map", b'{"0": ["variables.f"]}', None), FILE, FILE],
     "invalid empty operations paths list for key 0"),
    ([operations(SLUG), ("map", b'{"0": ["variables.f"]}', None), FILE],
     "internal system error"),
])
def test_a_form_out_of_order_is_refused_in_the_servers_words(
        client: Client, parts: list[Part], message: str) -> None:
    status, answer = post(client, form(*parts))
    assert (status, answer["errors"], answer["data"]) == (422, [{"message": message}], None)
    assert answer["message"] == message and answer["code"]


def test_a_form_without_a_boundary_is_refused(client: Client) -> None:
    status, answer = post(client, b"x", "multipart/form-data")
    assert (status, answer["errors"]) == (422, [{"message": "failed to parse multipart form"}])
