import base64
import json

import pytest
from fake_api import FakeAPI

from inngest import _errors
from inngest._client import Inngest
from inngest._event import Event


NO_KEY = "/e/NO_EVENT_KEY_SET"


@pytest.fixture
def api() -> FakeAPI:
    return FakeAPI()


def test_send_sync_posts_an_array_with_standard_headers(api: FakeAPI) -> None:
    api.answers[NO_KEY] = [(200, {"ids": ["01A", "01B"], "status": 200})]
    client = api.client(env="br")
    ids = client.send_sync([Event(name="a/b", data={"x": 1}), Event(name="c", id="k", ts=5)])
    assert ids == ["01A", "01B"]
    [call] = api.calls
    assert (call.method, call.path) == ("POST", NO_KEY)
    sent = json.loads(call.body)
    assert sent[0]["name"] == "a/b" and sent[0]["data"] == {"x": 1} and "id" not in sent[0]
    assert sent[0]["ts"] > 1_600_000_000_000
    assert sent[1] == {"data": {}, "id": "k", "name": "c", "ts": 5}
    headers = call.headers
    assert headers["x-inngest-sdk"] == "inngest-sync:v0.1.0"
    assert headers["user-agent"] == "inngest-sync:v0.1.0"
    assert headers["x-inngest-env"] == "br"
    assert "authorization" not in headers
    millis, entropy = headers["x-inngest-event-id-seed"].split(",")
    assert int(millis) > 0 and len(base64.b64decode(entropy)) == 10


def test_send_retries_server_errors_with_the_same_seed(api: FakeAPI) -> None:
    api.answers["/e/key1"] = [(500, {}), (502, {}), (200, {"ids": ["X"]})]
    client = api.client(event_key="key1")
    assert client.send_sync(Event(name="e")) == ["X"]
    assert [c.path for c in api.calls] == ["/e/key1"] * 3
    assert len({c.headers["x-inngest-event-id-seed"] for c in api.calls}) == 1
    assert len(api.waits) == 2 and api.waits[0] < api.waits[1]  # backoff grows


def test_send_error_keeps_accepted_ids(api: FakeAPI) -> None:
    api.answers[NO_KEY] = [(400, {"ids": ["OK1", ""], "status": 400, "error": "bad event"})]
    client = api.client()
    with pytest.raises(_errors.SendEventsError) as caught:
        client.send_sync([Event(name="ok"), Event(name="inngest/x")])
    assert caught.value.ids == ["OK1", ""]
    assert caught.value.message == "bad event"
    assert caught.value.code == "send_event_failed"
    assert len(api.calls) == 1


def test_send_without_a_server(api: FakeAPI) -> None:
    api.down = True
    client = api.client()
    refused = (r"never received response .*\(5 attempts\)\. Failed request to "
               r"http://inngest-api.test:8288/e/NO_EVENT_KEY_SET: Connection refused")
    with pytest.raises(_errors.SendEventsError, match=refused):
        client.send_sync(Event(name="e"))
    assert len(api.waits) == 4 and sorted(api.waits) == api.waits


def test_cloud_send_needs_an_event_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INNGEST_EVENT_KEY", raising=False)
    client = Inngest(app_id="app", is_production=True)
    with pytest.raises(_errors.EventKeyUnspecifiedError):
        client.send_sync(Event(name="e"))


def test_send_rejects_non_events() -> None:
    client = Inngest(app_id="app", is_production=False)
    with pytest.raises(_errors.BodyInvalidError, match="dict"):
        client.send_sync([{"name": "e"}])  # type: ignore[list-item]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("INNGEST_DEV", "INNGEST_API_BASE_URL", "INNGEST_EVENT_API_BASE_URL",
                 "INNGEST_BASE_URL", "INNGEST_ENV", "RAILWAY_GIT_BRANCH", "RENDER_GIT_BRANCH",
                 "VERCEL_GIT_COMMIT_REF", "INNGEST_SIGNING_KEY", "INNGEST_SIGNING_KEY_FALLBACK",
                 "INNGEST_EVENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_cloud(clean_env: pytest.MonkeyPatch) -> None:
    client = Inngest(app_id="app")
    assert client.mode == "cloud"
    assert client.api_origin == "https://api.inngest.com/"
    assert client.event_api_origin == "https://inn.gs/"


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_inngest_dev_truthy_means_dev(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("INNGEST_DEV", value)
    client = Inngest(app_id="app")
    assert client.mode == "dev"
    assert client.api_origin == "http://127.0.0.1:8288/"


def test_inngest_dev_url_is_lowest_precedence_origin(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("INNGEST_DEV", "localhost:7777")
    assert Inngest(app_id="app").api_origin == "http://localhost:7777"
    clean_env.setenv("INNGEST_BASE_URL", "http://base:1")
    client = Inngest(app_id="app")
    assert (client.api_origin, client.event_api_origin) == ("http://base:1", "http://base:1")
    clean_env.setenv("INNGEST_EVENT_API_BASE_URL", "events.example.com")
    assert Inngest(app_id="app").event_api_origin == "http://events.example.com"
    assert Inngest(app_id="app", api_base_url="http://arg:2").api_origin == "http://arg:2"


def test_cloud_origin_without_scheme_gets_https(clean_env: pytest.MonkeyPatch) -> None:
    assert Inngest(app_id="app", api_base_url="example.com").api_origin == "https://example.com"


def test_env_name_fallbacks(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("RENDER_GIT_BRANCH", "render")
    assert Inngest(app_id="app").env == "render"
    clean_env.setenv("RAILWAY_GIT_BRANCH", "railway")
    assert Inngest(app_id="app").env == "railway"
    clean_env.setenv("INNGEST_ENV", "explicit")
    assert Inngest(app_id="app").env == "explicit"
    assert Inngest(app_id="app", env="arg").env == "arg"


def test_keys_from_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("INNGEST_SIGNING_KEY", "signkey-prod-123abc")
    clean_env.setenv("INNGEST_SIGNING_KEY_FALLBACK", "signkey-prod-456def")
    clean_env.setenv("INNGEST_EVENT_KEY", "ek")
    client = Inngest(app_id="app")
    assert client.signing_keys() == ["signkey-prod-123abc", "signkey-prod-456def"]
    assert client.bearer_tokens()[0] == (
        "94bab7f22b92278ccab46e15da43a9fb8b079c05fa099d4134c6c39bbcee49f6"
    )
    assert client.event_key == "ek"


def test_send_4xx_without_error_answers_the_body_ids(api: FakeAPI) -> None:
    api.answers[NO_KEY] = [(400, {"ids": ["A1", "B2"]})]
    client = api.client()
    assert client.send_sync([Event(name="a"), Event(name="b")]) == ["A1", "B2"]
    assert len(api.calls) == 1  # a 4xx is not retried


def test_send_4xx_empty_body_answers_no_ids(api: FakeAPI) -> None:
    api.answers[NO_KEY] = [(400, {})]
    client = api.client()
    assert client.send_sync(Event(name="a")) == []


def test_send_5xx_after_retries_still_raises(api: FakeAPI) -> None:
    api.answers[NO_KEY] = [(500, {})]
    client = api.client()
    with pytest.raises(_errors.SendEventsError, match="500"):
        client.send_sync(Event(name="a"))
    assert len(api.calls) == 5 and len(api.waits) == 4


def test_async_send_sends_from_a_worker_thread(api: FakeAPI) -> None:
    import asyncio

    api.answers[NO_KEY] = [(200, {"ids": ["A1"]})]
    client = api.client()
    assert asyncio.run(client.send(Event(name="a"))) == ["A1"]
    assert json.loads(api.calls[0].body)[0]["name"] == "a"
