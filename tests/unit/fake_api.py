"""A fake Inngest API (event API and REST API) behind a client's transport, without sockets.

It records every request the SDK sends and answers from a script per path; the last answer
for a path repeats, a path without one is a 404. ``down`` makes every request fail as an
unreachable host does.
"""

from __future__ import annotations

import dataclasses
import json
import typing
import urllib.parse

from inngest._client import Inngest
from inngest._transport import OutboundRequest, Response, TransportError

Answer = tuple[int, object]  # status, and a JSON value or raw bytes


@dataclasses.dataclass
class Call:
    """One request, as the API's server would see it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]  # names lower-cased
    body: bytes


class FakeAPI:
    url = "http://inngest-api.test:8288/"

    def __init__(self, answers: dict[str, list[Answer]] | None = None) -> None:
        self.answers = answers if answers is not None else {}
        self.calls: list[Call] = []
        self.waits: list[float] = []  # the client's waits between send attempts
        self.down = False

    def send(self, request: OutboundRequest) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        if self.down:
            raise TransportError(f"Failed request to {request.url}: Connection refused")
        assert f"{parts.scheme}://{parts.netloc}/" == self.url, request.url
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.calls.append(Call(request.method, path,
                               {k.lower(): v for k, v in request.headers.items()},
                               request.body or b""))
        queue = self.answers.get(parts.path) or [(404, {"error": "not found"})]
        status, payload = queue.pop(0) if len(queue) > 1 else queue[0]
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return Response(status, {"content-type": "application/json"}, data)

    def close(self) -> None:
        pass

    def client(self, **options: typing.Any) -> Inngest:
        """A development client whose API and event API are this fake; it records its waits
        between send attempts instead of sleeping."""
        options.setdefault("api_base_url", self.url)
        options.setdefault("event_api_base_url", self.url)
        options.setdefault("is_production", False)
        client = Inngest(app_id=options.pop("app_id", "app"), transport=self, **options)
        client._sleep = self.waits.append
        return client
