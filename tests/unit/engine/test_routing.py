"""Route tables: the first route with the path and the method answers, and a path some route
has with another method is told apart from one no route has (405, not 404)."""

from __future__ import annotations

import re

import pytest

from inngest._engine.http import routing
from inngest._engine.timeparse import rfc3339

TABLE = routing.Routes[str]([
    ("GET", re.compile(r"/"), "root"),
    ("GET", re.compile(r"/(runs|events)(/[0-9A-Za-z]+)?|/functions"), "page"),
    ("POST", re.compile(r"/e/(?P<key>[^/]*)"), "send"),
    ("GET", re.compile(r"/v1/events/(?P<event_id>[^/]+)"), "event"),
    ("GET", re.compile(r"/v1/events/(?P<event_id>[^/]*)/runs"), "runs"),
    ("GET", re.compile(r"/colou?r"), "colour"),
    ("GET", re.compile(r"/a\.b"), "dot"),
    ("GET", re.compile(r"/CASE", re.IGNORECASE), "case"),
    ("*", re.compile(r"/mcp"), "mcp"),
    ("GET", re.compile(r"/v1/events/(?P<event_id>[^/]+)"), "shadowed"),
])


@pytest.mark.parametrize("method, path, found", [
    ("GET", "/", routing.Found("root", {})),
    ("GET", "/runs/01AB", routing.Found("page", {})),
    ("GET", "/functions", routing.Found("page", {})),
    ("POST", "/e/", routing.Found("send", {"key": ""})),
    ("POST", "/e/key", routing.Found("send", {"key": "key"})),
    ("GET", "/v1/events/01AB", routing.Found("event", {"event_id": "01AB"})),
    ("GET", "/v1/events//runs", routing.Found("runs", {"event_id": ""})),
    ("GET", "/color", routing.Found("colour", {})),
    ("GET", "/colour", routing.Found("colour", {})),
    ("GET", "/a.b", routing.Found("dot", {})),
    ("GET", "/case", routing.Found("case", {})),
    ("DELETE", "/mcp", routing.Found("mcp", {})),
    ("GET", "/e/key", True),
    ("POST", "/v1/events/01AB/runs", True),
    ("GET", "/ab", False),
    ("GET", "/colr", False),
    ("GET", "/e", False),
])
def test_the_first_route_with_the_path_and_method_answers(
        method: str, path: str, found: routing.Found[str] | bool) -> None:
    assert TABLE.find(method, path) == found


@pytest.mark.parametrize("ms, text", [
    (None, None), (0, "1970-01-01T00:00:00Z"), (1, "1970-01-01T00:00:00.001Z"),
    (1700000000120, "2023-11-14T22:13:20.12Z"), (1700000000100, "2023-11-14T22:13:20.1Z"),
    (-1, "1969-12-31T23:59:59.999Z"), (253402300799999, "9999-12-31T23:59:59.999Z"),
])
def test_rfc3339_writes_times_as_the_real_server(ms: int | None, text: str | None) -> None:
    for _ in range(2):  # once made, then remembered
        assert rfc3339(ms) == text
