"""inngest.experimental.realtime: the requests it sends to the realtime API."""

import asyncio
import hashlib
import json
import urllib.parse

import pytest

from inngest._client import Inngest
from inngest._transport import OutboundRequest, Response
from inngest.experimental import realtime


class RealtimeAPI:
    """A transport standing in for the API: records each request, answers the next scripted
    (status, body), with no sockets."""

    url = "http://api.inngest.test"

    def __init__(self) -> None:
        self.answers: list[tuple[int, object]] = []
        self.requests: list[tuple[str, dict[str, str], object]] = []

    def send(self, request: OutboundRequest) -> Response:
        parts = urllib.parse.urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.requests.append((path, headers, json.loads(request.body or b"null")))
        status, payload = self.answers.pop(0) if self.answers else (200, {})
        return Response(status, {"content-type": "application/json"},
                        json.dumps(payload).encode())

    def close(self) -> None:
        return None


@pytest.fixture
def api() -> RealtimeAPI:
    return RealtimeAPI()


def make_client(api: RealtimeAPI) -> Inngest:
    return Inngest(app_id="app", is_production=False, api_base_url=api.url,
                   signing_key="signkey-test-abc123", transport=api)


def test_publish_posts_data_to_the_channel_topic(api: RealtimeAPI) -> None:
    realtime.publish_sync(make_client(api), "chat/1", "messages", {"text": "hi"})
    [(path, headers, body)] = api.requests
    assert path == "/v1/realtime/publish?channel=chat%2F1&topic=messages"
    assert body == {"text": "hi"}
    # The signing key is sent hashed, as in every API call the SDK makes.
    hashed = hashlib.sha256(bytes.fromhex("abc123")).hexdigest()
    assert headers["authorization"] == f"Bearer {hashed}"
    assert headers["content-type"] == "application/json"


def test_subscription_token_asks_for_each_topic(api: RealtimeAPI) -> None:
    api.answers.append((200, {"jwt": "token-1"}))
    token = realtime.get_subscription_token_sync(make_client(api), "chat/1", ["a", "b"])
    assert token == {"channel": "chat/1", "topics": ["a", "b"], "key": "token-1"}
    [(path, _, body)] = api.requests
    assert path == "/v1/realtime/token"
    assert body == [{"channel": "chat/1", "name": "a", "kind": "run"},
                    {"channel": "chat/1", "name": "b", "kind": "run"}]


def test_async_variants_send_the_same_requests(api: RealtimeAPI) -> None:
    api.answers.extend([(200, {}), (200, {"jwt": "t"})])
    client = make_client(api)
    asyncio.run(realtime.publish(client, "c", "t", {"n": 1}))
    assert asyncio.run(realtime.get_subscription_token(client, "c", ["t"]))["key"] == "t"
    assert [r[0] for r in api.requests] == [
        "/v1/realtime/publish?channel=c&topic=t", "/v1/realtime/token"
    ]


@pytest.mark.parametrize("answer", [(500, {"error": "down"}), (200, {"nojwt": 1})])
def test_errors_raise_a_coded_error(api: RealtimeAPI, answer: tuple[int, object]) -> None:
    api.answers.append(answer)
    with pytest.raises(realtime.RealtimeRequestError) as caught:
        realtime.get_subscription_token_sync(make_client(api), "c", ["t"])
    assert caught.value.code == "realtime_request_failed"
