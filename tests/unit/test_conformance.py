"""Spec conformance checks found by a review against sdk-protocol.md."""

import json
import types
import typing

import pytest

import inngest
from inngest import _errors
from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._event import Event
from inngest._registration import app_url
from fake_api import FakeAPI
from test_steps import make_fn, run

# §7: like NonRetriableError, a None message of RetryAfterError is the string "None".


def test_retry_after_error_with_none_message_says_none() -> None:
    client = Inngest(app_id="app", is_production=False)

    def handler(ctx: ContextSync) -> None:
        raise inngest.RetryAfterError(None, 1000)

    result = run(client, make_fn(client, handler))
    assert result.status == 500
    assert json.loads(result.body)["message"] == "None"
    assert result.retry_after is not None


# §2.4.4: a serve_path or public_path that is given (even "") replaces the path; an
# origin without a host or scheme keeps the request's.


@pytest.mark.parametrize(
    ("serve_origin", "serve_path", "public_path", "expected"),
    [
        (None, "", None, "http://a:1"),
        (None, "/sp", "", "http://a:1"),
        ("http://", None, None, "http://a:1/from-env"),
        ("://other", None, None, "http://a:1/from-env"),
    ],
)
def test_app_url_overrides(
    monkeypatch: pytest.MonkeyPatch,
    serve_origin: str | None,
    serve_path: str | None,
    public_path: str | None,
    expected: str,
) -> None:
    monkeypatch.delenv("INNGEST_SERVE_ORIGIN", raising=False)
    monkeypatch.setenv("INNGEST_SERVE_PATH", "/from-env")
    url = app_url(
        "http://a:1/x?fnId=f#frag",
        serve_origin=serve_origin,
        serve_path=serve_path,
        public_path=public_path,
    )
    assert url == expected


# §2.5.1 / §5.3: the event model is strict: ts an int, id a string (null is not a
# default); falsy data (null, []) becomes {}.


@pytest.mark.parametrize(
    "raw",
    [
        {"name": "a", "ts": 0.0},
        {"name": "a", "ts": False},
        {"name": "a", "ts": None},
        {"name": "a", "id": None},
        {"name": "a", "id": 0},
        {"name": "a", "id": False},
    ],
)
def test_event_from_dict_rejects_wrong_types(raw: dict[str, object]) -> None:
    with pytest.raises(_errors.BodyInvalidError):
        Event.from_dict(raw)


@pytest.mark.parametrize("data", [None, [], {}])
def test_event_from_dict_empty_data_is_an_object(data: object) -> None:
    assert Event.from_dict({"name": "a", "data": data}).data == {}


def test_event_from_dict_accepts_mappings_that_are_not_dicts() -> None:
    data, user = types.MappingProxyType({"n": 1}), types.MappingProxyType({"id": "u"})
    event = Event.from_dict({"name": "a", "data": data, "user": user})
    assert (event.data, event.user) == (data, user)


def test_event_from_dict_rejects_non_empty_array_data() -> None:
    with pytest.raises(_errors.BodyInvalidError):
        Event.from_dict({"name": "a", "data": [1]})


# §5.1: URL environment variables are trimmed before use.


def test_origin_env_vars_are_trimmed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INNGEST_DEV", "INNGEST_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INNGEST_API_BASE_URL", " http://api.test:1 \n")
    monkeypatch.setenv("INNGEST_EVENT_API_BASE_URL", "  events.test:2  ")
    client = Inngest(app_id="app", is_production=False)
    assert client.api_origin == "http://api.test:1"
    assert client.event_api_origin == "http://events.test:2"


# §5.2: the event URL is urljoin(event_api_origin, "/e/<key>"): an origin's path is replaced.


def test_event_url_replaces_the_origin_path() -> None:
    event_api = FakeAPI({"/e/NO_EVENT_KEY_SET": [(200, {"ids": ["01A"]})]})
    client = event_api.client(event_api_base_url=event_api.url + "prefix/")
    assert client.send_sync(Event(name="a")) == ["01A"]
    assert event_api.calls[0].path == "/e/NO_EVENT_KEY_SET"


@pytest.mark.parametrize("data", [None, []])
def test_event_constructor_turns_empty_data_into_an_object(data: typing.Any) -> None:
    event = Event(name="a", data=data)
    assert event.data == {}
    assert event.to_dict()["data"] == {}
