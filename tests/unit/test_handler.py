import datetime
import json
import re
import time
import typing
import urllib.parse

import pytest
from fake_api import FakeAPI

from inngest import _errors, _execution, _registration, _signing, _version
from inngest._client import Inngest
from inngest._function import Function
from inngest._function_config import Concurrency, TriggerEvent
from inngest._handler import CommHandler, Request, Response, format_retry_after
from inngest._protocol import jcs, signing

SIGNING_KEY = "signkey-prod-123abc"
FALLBACK_KEY = "signkey-prod-456def"
SIGNING_KEY_HASH = "94bab7f22b92278ccab46e15da43a9fb8b079c05fa099d4134c6c39bbcee49f6"
FALLBACK_KEY_HASH = "a820760dee6119fcf76498ab8d94be2f8cf04e786add2a4569e427462a84dd47"
EVENT_KEY_HASH = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
URL = "http://localhost:3000/api/inngest"
FRAMEWORK = "test-fw"
CAPABILITIES = {"connect": "v1", "in_band_sync": "v1", "trust_probe": "v1"}
UNAUTHORIZED = b'{"message": "Unauthorized"}'


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "INNGEST_DEV", "INNGEST_SIGNING_KEY", "INNGEST_SIGNING_KEY_FALLBACK", "INNGEST_EVENT_KEY",
        "INNGEST_ENV", "INNGEST_API_BASE_URL", "INNGEST_BASE_URL", "INNGEST_SERVE_ORIGIN",
        "INNGEST_SERVE_PATH", "INNGEST_ENABLE_UNAUTHED_SYNC", "INNGEST_EVENT_API_BASE_URL",
        "RAILWAY_GIT_BRANCH", "RENDER_GIT_BRANCH", "VERCEL_GIT_COMMIT_REF",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def fake_api() -> typing.Callable[..., FakeAPI]:
    return FakeAPI


def make_client(mode: str = "dev", api: FakeAPI | None = None, **kwargs: typing.Any) -> Inngest:
    if mode == "cloud":
        kwargs.setdefault("signing_key", SIGNING_KEY)
    if api is not None:
        kwargs.update(api_base_url=api.url, transport=api)
    return Inngest(app_id="my-app", is_production=mode == "cloud", **kwargs)


def make_function(
    client: Inngest, fn_id: str = "hello", on_failure: bool = False, **kwargs: typing.Any
) -> Function:
    def handler(ctx: typing.Any) -> object:
        return "done"

    def failure(ctx: typing.Any) -> object:
        return "failure handled"

    return client.create_function(
        fn_id=fn_id,
        trigger=TriggerEvent(event="app/ran"),
        on_failure=failure if on_failure else None,
        **kwargs,
    )(handler)


def make_handler(client: Inngest, functions: list[Function] | None = None,
                 **kwargs: typing.Any) -> CommHandler:
    if functions is None:
        functions = [make_function(client)]
    return CommHandler(client, functions, FRAMEWORK, **kwargs)


def make_request(
    method: str,
    *,
    url: str = URL,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    sign_with: str | None = None,
    signed_at: float | None = None,
) -> Request:
    all_headers = dict(headers or {})
    if sign_with is not None:
        all_headers["X-Inngest-Signature"] = _signing.sign_request_body(body, sign_with, signed_at)
    return Request(method=method, url=url, headers=all_headers, body=body)


def execution_body(**overrides: object) -> bytes:
    event = {"name": "app/ran", "data": {"n": 1}, "id": "evt-1", "ts": 1700000000000}
    body: dict[str, object] = {
        "event": event,
        "events": [event],
        "steps": {},
        "use_api": False,
        "ctx": {
            "run_id": "run-1",
            "attempt": 0,
            "disable_immediate_execution": False,
            "max_attempts": 3,
            "stack": {"stack": []},
        },
    }
    body.update(overrides)
    return json.dumps(body).encode()


def json_body(response: Response) -> typing.Any:
    return json.loads(response.body)


def assert_signed_by(response: Response, key: str) -> None:
    fields = dict(urllib.parse.parse_qsl(response.headers["x-inngest-signature"]))
    assert fields["s"] == signing.mac(key, response.body, fields["t"])


def assert_unauthorized(response: Response) -> None:
    assert response.status == 401
    assert response.body == UNAUTHORIZED
    # Nothing that identifies the SDK or signs the body; timing as the official SDK sends it.
    assert set(response.headers) == {"content-type", "x-inngest-sdk-handled", "server-timing"}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-inngest-sdk-handled"] == "true"
    assert response.headers["server-timing"].startswith("comm_handler;dur=")


def assert_error(response: Response, status: int, code: str) -> dict[str, str]:
    assert response.status == status
    body = json_body(response)
    assert body["code"] == code
    assert set(body) == {"code", "message", "name"}
    return typing.cast("dict[str, str]", body)


# Request model


def test_request_lower_cases_header_names_and_keeps_first_value() -> None:
    request = Request(
        method="post",
        url=URL,
        headers=typing.cast(typing.Any, {"X-Inngest-Sync-Kind": "in_band",
                                         "x-inngest-sync-kind": "other",
                                         "X-Multi": ["first", "second"]}),
        body=b"",
    )
    assert request.method == "POST"
    assert request.headers == {"x-inngest-sync-kind": "in_band", "x-multi": "first"}


# Construction


def test_cloud_mode_without_signing_key_refuses_to_serve() -> None:
    client = Inngest(app_id="my-app", is_production=True)
    with pytest.raises(_errors.SigningKeyMissingError):
        CommHandler(client, [], FRAMEWORK)


def test_cloud_mode_rereads_signing_key_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Inngest(app_id="my-app", is_production=True)
    monkeypatch.setenv("INNGEST_SIGNING_KEY", SIGNING_KEY)
    handler = make_handler(client)
    response = handler.handle(make_request("GET", sign_with=SIGNING_KEY))
    assert json_body(response)["signing_key_hash"] == SIGNING_KEY_HASH


@pytest.mark.parametrize("functions", ["not a list", ["not a function"], None])
def test_function_list_types_are_checked(functions: object) -> None:
    with pytest.raises(_errors.FunctionConfigInvalidError):
        CommHandler(make_client(), typing.cast(typing.Any, functions), FRAMEWORK)


def test_client_type_is_checked() -> None:
    with pytest.raises(_errors.FunctionConfigInvalidError):
        CommHandler(typing.cast(typing.Any, object()), [], FRAMEWORK)


# Common headers


def test_responses_carry_standard_headers() -> None:
    client = make_client(env="feature-x")
    response = make_handler(client).handle(make_request("GET"))
    headers = response.headers
    assert headers["content-type"] == "application/json"
    assert headers["x-inngest-sdk"] == _version.SDK_IDENTITY
    assert headers["user-agent"] == _version.SDK_IDENTITY
    assert headers["x-inngest-req-version"] == "2"
    assert headers["x-inngest-env"] == "feature-x"
    assert headers["x-inngest-framework"] == FRAMEWORK
    assert headers["x-inngest-expected-server-kind"] == "dev"
    assert headers["x-inngest-sdk-handled"] == "true"
    assert re.fullmatch(r"comm_handler;dur=\d+", headers["server-timing"])
    assert "x-inngest-signature" not in headers


def test_env_header_is_absent_without_env() -> None:
    response = make_handler(make_client()).handle(make_request("GET"))
    assert "x-inngest-env" not in response.headers


def test_unsupported_method_gets_405_error_body() -> None:
    response = make_handler(make_client()).handle(make_request("DELETE"))
    assert_error(response, 405, "unknown")
    assert response.headers["x-inngest-sdk-handled"] == "true"


# GET inspection


def test_dev_get_returns_unauthenticated_inspection_bytes() -> None:
    client = make_client(event_key="test")
    response = make_handler(client).handle(make_request("GET"))
    assert response.status == 200
    assert response.body == (
        b'{"schema_version": "2024-05-24", "function_count": 1, "has_event_key": true, '
        b'"has_signing_key": false, "has_signing_key_fallback": false, "mode": "dev"}'
    )


def test_dev_get_ignores_signature_and_stays_unauthenticated() -> None:
    client = make_client(signing_key=SIGNING_KEY)
    response = make_handler(client).handle(make_request("GET", sign_with=SIGNING_KEY))
    assert "api_origin" not in json_body(response)
    assert "x-inngest-signature" not in response.headers


def test_cloud_get_with_valid_signature_returns_authenticated_inspection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SIGNING_KEY_FALLBACK", FALLBACK_KEY)
    client = make_client("cloud", event_key="test")
    handler = make_handler(client, serve_origin="https://example.com")
    response = handler.handle(make_request("GET", sign_with=SIGNING_KEY))
    assert response.status == 200
    assert json_body(response) == {
        "schema_version": "2024-05-24",
        "api_origin": "https://api.inngest.com/",
        "app_id": "my-app",
        "authentication_succeeded": True,
        "capabilities": CAPABILITIES,
        "env": None,
        "event_api_origin": "https://inn.gs/",
        "event_key_hash": EVENT_KEY_HASH,
        "framework": FRAMEWORK,
        "function_count": 1,
        "has_event_key": True,
        "has_signing_key": True,
        "has_signing_key_fallback": True,
        "mode": "cloud",
        "sdk_language": "py",
        "sdk_version": _version.VERSION,
        "serve_origin": "https://example.com",
        "serve_path": None,
        "signing_key_fallback_hash": FALLBACK_KEY_HASH,
        "signing_key_hash": SIGNING_KEY_HASH,
    }
    assert_signed_by(response, SIGNING_KEY)


def test_cloud_get_signed_with_fallback_key_is_answered_with_fallback_signature(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SIGNING_KEY_FALLBACK", FALLBACK_KEY)
    handler = make_handler(make_client("cloud"))
    response = handler.handle(make_request("GET", sign_with=FALLBACK_KEY))
    assert json_body(response)["authentication_succeeded"] is True
    assert_signed_by(response, FALLBACK_KEY)


def test_cloud_get_with_other_signing_key_hash_vector() -> None:
    client = make_client("cloud", signing_key="signkey-prod-000000")
    response = make_handler(client).handle(
        make_request("GET", sign_with="signkey-prod-000000")
    )
    body = json_body(response)
    assert body["signing_key_hash"] == (
        "709e80c88487a2411e1ee4dfb9f22a861492d20c4765150c0c794abd70f8147c"
    )
    assert body["signing_key_fallback_hash"] is None
    assert body["event_key_hash"] is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-inngest-signature": "t=1&s=deadbeef"},
        {"x-inngest-signature": "garbage"},
    ],
)
def test_cloud_get_without_valid_signature_is_unauthorized(headers: dict[str, str]) -> None:
    response = make_handler(make_client("cloud")).handle(make_request("GET", headers=headers))
    assert_unauthorized(response)


def test_get_server_kind_mismatch_is_403_empty_object() -> None:
    response = make_handler(make_client()).handle(
        make_request("GET", headers={"x-inngest-server-kind": "cloud"})
    )
    assert response.status == 403
    assert response.body == b"{}"
    assert response.headers["x-inngest-sdk-handled"] == "true"


def test_get_invalid_server_kind_is_ignored() -> None:
    response = make_handler(make_client()).handle(
        make_request("GET", headers={"x-inngest-server-kind": "martian"})
    )
    assert response.status == 200


def test_cloud_get_server_kind_mismatch_is_checked_after_signature() -> None:
    handler = make_handler(make_client("cloud"))
    unsigned = handler.handle(make_request("GET", headers={"x-inngest-server-kind": "dev"}))
    assert_unauthorized(unsigned)
    signed = handler.handle(
        make_request("GET", headers={"x-inngest-server-kind": "dev"}, sign_with=SIGNING_KEY)
    )
    assert signed.status == 403
    assert_signed_by(signed, SIGNING_KEY)


def test_duplicate_function_ids_collapse_last_wins(fake_api: typing.Callable[..., FakeAPI]) -> None:
    api = fake_api({"/fn/register": [(200, {"ok": True})]})
    client = make_client(api=api)
    first = make_function(client, name="First")
    second = make_function(client, name="Second")
    handler = make_handler(client, [first, second])
    assert json_body(handler.handle(make_request("GET")))["function_count"] == 1
    handler.handle(make_request("PUT"))
    functions = json.loads(api.calls[0].body)["functions"]
    assert [fn["name"] for fn in functions] == ["Second"]


# Signature checks (POST)


def test_expired_signature_is_unauthorized() -> None:
    handler = make_handler(make_client("cloud"))
    stale = time.time() - 301
    response = handler.handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", sign_with=SIGNING_KEY,
                     signed_at=stale)
    )
    assert_unauthorized(response)


def test_signature_from_the_future_is_unauthorized() -> None:
    handler = make_handler(make_client("cloud"))
    response = handler.handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", sign_with=SIGNING_KEY,
                     signed_at=time.time() + 301)
    )
    assert_unauthorized(response)


def test_signature_within_five_minutes_is_accepted() -> None:
    handler = make_handler(make_client("cloud"))
    response = handler.handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", sign_with=SIGNING_KEY,
                     signed_at=time.time() - 240)
    )
    assert response.status == 200


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "s=" + "0" * 64,
        "t=abc&s=" + "0" * 64,
        "t=" + str(int(time.time())),
        "t=" + str(int(time.time())) + "&s=" + "0" * 64,
        "t=" + "\u0661" * 10 + "&s=" + "0" * 64,
        "t=" + "9" * 5000 + "&s=" + "0" * 64,
    ],
    ids=["missing", "no-timestamp", "non-integer-timestamp", "no-mac", "wrong-mac",
         "non-ascii-digits", "5000-digits"],
)
def test_cloud_post_with_bad_signature_is_unauthorized(signature: str | None) -> None:
    headers = {} if signature is None else {"x-inngest-signature": signature}
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", headers=headers)
    )
    assert_unauthorized(response)


def test_cloud_post_without_timestamp_but_valid_mac_is_unauthorized() -> None:
    body = b"{}"
    mac = signing.mac(SIGNING_KEY, _signing.canonical_body(body), "")
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?probe=trust", body=body,
                     headers={"x-inngest-signature": f"s={mac}"})
    )
    assert_unauthorized(response)


def test_cloud_post_signed_with_wrong_key_is_unauthorized() -> None:
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}",
                     sign_with="signkey-prod-999999")
    )
    assert_unauthorized(response)


def test_cloud_post_with_fallback_key_is_accepted_and_signed_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SIGNING_KEY_FALLBACK", FALLBACK_KEY)
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", sign_with=FALLBACK_KEY)
    )
    assert response.status == 200
    assert_signed_by(response, FALLBACK_KEY)


def test_cloud_post_with_integers_past_2_to_the_53_verifies_as_the_server_signs_it() -> None:
    # The server signs the JCS form, where 10**30 is written as the double 1e+30 (as by the
    # official SDK's jcs package); the body itself carries the integer's digits.
    body = execution_body(event={"name": "app/ran", "data": {"big": 10**30}, "id": "evt-1",
                                 "ts": 1700000000000})
    as_double = json.loads(body.replace(b"1" + b"0" * 30, b"1e30"))
    timestamp = str(round(time.time()))
    mac = signing.mac(SIGNING_KEY, jcs.canonicalize(as_double), timestamp)
    request = make_request("POST", url=URL + "?fnId=my-app-hello&stepId=step", body=body,
                           headers={"X-Inngest-Signature": f"t={timestamp}&s={mac}"})
    response = make_handler(make_client("cloud")).handle(request)
    assert (response.status, json_body(response)) == (200, "done")


def test_cloud_post_with_non_json_body_is_unauthorized() -> None:
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", body=b"not json",
                     headers={"x-inngest-signature": "t=1&s=" + "0" * 64})
    )
    assert_unauthorized(response)


def test_dev_post_with_non_json_body_is_400_no_retry() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=b"not json")
    )
    assert_error(response, 400, "body_invalid")
    assert response.headers["x-inngest-no-retry"] == "true"
    assert response.headers["x-inngest-sdk-handled"] == "true"


# POST plumbing


def test_probe_trust_answers_null() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?probe=trust")
    )
    assert response.status == 200
    assert response.body == b"null"


def test_signed_probe_is_answered_signed() -> None:
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?probe=trust", body=b"{}", sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert response.body == b"null"
    assert_signed_by(response, SIGNING_KEY)


def assert_rejected(response: Response, status: int, code: str) -> dict[str, str]:
    """A 4xx the server must not retry, with a named error and none of our exceptions' text."""
    body = assert_error(response, status, code)
    assert response.headers["x-inngest-no-retry"] == "true"
    assert "Error" not in body["message"] and "Traceback" not in body["message"]
    return body


def test_unknown_probe_is_400_no_retry() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?probe=distrust")
    )
    body = assert_rejected(response, 400, "query_param_invalid")
    assert body["message"] == "unsupported probe: distrust"


def test_invalid_execution_body_is_400_body_invalid() -> None:
    ctx = {"run_id": "run-1", "attempt": "1", "disable_immediate_execution": False,
           "stack": {"stack": []}}
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=execution_body(ctx=ctx))
    )
    body = assert_rejected(response, 400, "body_invalid")
    assert body["message"] == "ctx.attempt: expected int"


@pytest.mark.parametrize("body", [b"null", b"[]", b'"x"', b"{}", b'{"event": {}, "steps": {}}'])
def test_signed_malformed_bodies_are_400_no_retry(body: bytes) -> None:
    """Finding 6: these answered 500, which the server retries."""
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=body, sign_with=SIGNING_KEY)
    )
    assert_rejected(response, 400, "body_invalid")
    assert_signed_by(response, SIGNING_KEY)


@pytest.mark.parametrize("query", ["", "?fnId=", "?stepId=step"])
def test_missing_fn_id_is_400_query_param_missing(query: str) -> None:
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + query, body=execution_body(), sign_with=SIGNING_KEY)
    )
    body = assert_rejected(response, 400, "query_param_missing")
    assert body["message"] == "fnId"


def test_unknown_fn_id_is_404_function_not_found() -> None:
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?fnId=hello&stepId=step", body=execution_body(),
                     sign_with=SIGNING_KEY)
    )
    body = assert_rejected(response, 404, "function_not_found")
    assert body["message"] == "function hello not found"


def test_non_json_body_names_no_decoder_exception() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=b"{oops")
    )
    assert assert_rejected(response, 400, "body_invalid")["message"] == \
        "request body is not JSON (byte 1)"


@pytest.mark.parametrize("tail, error", [(b" \r\n\t", None), (b" x", "byte {}"),
                                         (b"{}", "byte {}")])
def test_text_after_the_json_body_is_rejected_unless_whitespace(
    tail: bytes, error: str | None
) -> None:
    body = execution_body()
    url = URL + "?fnId=my-app-hello&stepId=step"
    response = make_handler(make_client()).handle(make_request("POST", url=url, body=body + tail))
    if error is None:
        assert (response.status, response.body) == (200, b'"done"')
        return
    position = len(body) + (1 if tail.startswith(b" ") else 0)
    assert assert_rejected(response, 400, "body_invalid")["message"] == \
        "request body is not JSON (" + error.format(position) + ")"


def test_utf16_execution_body_is_read_like_utf8() -> None:
    # json.loads detects UTF-16 and UTF-32 from the first bytes; bodies starting with "{"
    # in UTF-8 skip that detection, and these must not be mistaken for them.
    handler = make_handler(make_client())
    url = URL + "?fnId=my-app-hello&stepId=step"
    utf8 = handler.handle(make_request("POST", url=url, body=execution_body()))
    text = execution_body().decode()
    for encoded in (text.encode("utf-16-le"), text.encode("utf-16")):
        response = handler.handle(make_request("POST", url=url, body=encoded))
        assert (response.status, response.body) == (utf8.status, utf8.body)


def test_body_that_is_not_utf8_is_400_body_invalid() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=b'{"a": "\xff"}')
    )
    assert assert_rejected(response, 400, "body_invalid")["message"] == \
        "request body is not UTF-8 JSON"


def test_events_null_without_use_api_is_a_400_not_retried() -> None:
    # A body of the wrong shape, as any other (compatibility.md item 12); the official SDK
    # answers 500 "events not in request".
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=execution_body(events=None))
    )
    body = assert_error(response, 400, "body_invalid")
    assert body["message"] == "events: required"
    assert response.headers["x-inngest-no-retry"] == "true"


def test_an_empty_probe_is_no_probe() -> None:
    # As the official SDK reads "probe=" (measured): the call runs.
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello&probe=", body=execution_body())
    )
    assert (response.status, json_body(response)) == (200, "done")


def test_head_is_answered_as_get() -> None:
    # Flask answers HEAD on a GET route through the view; the official SDK then inspects.
    handler = make_handler(make_client())
    head = handler.handle(make_request("HEAD"))
    get = handler.handle(make_request("GET"))
    assert head.status == get.status == 200 and json_body(head) == json_body(get)


def test_a_number_too_long_to_read_is_named() -> None:
    response = make_handler(make_client()).handle(make_request(
        "POST", url=URL + "?fnId=my-app-hello",
        body=execution_body()[:-1] + b', "n": ' + b"9" * 5000 + b"}"))
    body = assert_error(response, 400, "body_invalid")
    assert body["message"] == "request body has a number too long to read"


def test_the_first_of_a_repeated_signature_field_is_read() -> None:
    # As the official SDK reads the header (parse_qs, first value).
    body = b"{}"
    good = _signing.sign_request_body(body, SIGNING_KEY)
    request = make_request("POST", url=URL + "?probe=trust", body=body,
                           headers={"X-Inngest-Signature": good + "&s=" + "0" * 64})
    assert make_handler(make_client("cloud")).handle(request).status == 200


def test_nothing_raises_past_handle(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(**kwargs: object) -> object:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(_execution, "run", explode)
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=execution_body())
    )
    body = assert_error(response, 500, "unknown")
    assert body == {"code": "unknown", "message": "internal error (see the app's log)",
                    "name": "UnknownError"}  # the exception's text is in the log only
    assert response.headers["x-inngest-sdk-handled"] == "true"


# POST execution


def test_function_result_is_200_with_raw_output() -> None:
    response = make_handler(make_client()).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello&stepId=step", body=execution_body())
    )
    assert response.status == 200
    assert response.body == b'"done"'
    assert re.fullmatch(r"comm_handler;dur=\d+, mw.transform_input;dur=\d+, function;dur=\d+, "
                        r"mw.transform_output;dur=\d+",
                        response.headers["server-timing"])


def test_signed_execution_response_is_signed() -> None:
    body = execution_body()
    response = make_handler(make_client("cloud")).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=body, sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert_signed_by(response, SIGNING_KEY)


def test_on_failure_fn_id_runs_the_failure_handler() -> None:
    client = make_client()
    handler = make_handler(client, [make_function(client, on_failure=True)])
    response = handler.handle(
        make_request("POST", url=URL + "?fnId=my-app-hello-failure", body=execution_body())
    )
    assert response.body == b'"failure handled"'


def test_request_ids_reach_the_function() -> None:
    client = make_client()

    def handler(ctx: typing.Any) -> object:
        return [ctx.job_id, ctx.request_id]

    fn = client.create_function(fn_id="ids", trigger=TriggerEvent(event="app/ran"))(handler)
    response = make_handler(client, [fn]).handle(
        make_request("POST", url=URL + "?fnId=my-app-ids", body=execution_body(),
                     headers={"X-Inngest-Job-Id": "job-7", "X-Request-Id": "req-9"})
    )
    assert json_body(response) == ["job-7", "req-9"]


def test_non_retriable_error_sets_no_retry_header() -> None:
    client = make_client()

    def handler(ctx: typing.Any) -> object:
        raise _errors.NonRetriableError("stop")

    fn = client.create_function(fn_id="nr", trigger=TriggerEvent(event="app/ran"))(handler)
    response = make_handler(client, [fn]).handle(
        make_request("POST", url=URL + "?fnId=my-app-nr", body=execution_body())
    )
    assert response.status == 500
    assert json_body(response)["code"] == "non_retriable_error"
    assert response.headers["x-inngest-no-retry"] == "true"


def test_retry_after_error_sets_iso_retry_after_header() -> None:
    client = make_client()
    when = datetime.datetime(2026, 11, 23, 2, 2, 3, 597123, tzinfo=datetime.timezone.utc)

    def handler(ctx: typing.Any) -> object:
        raise _errors.RetryAfterError("later", when)

    fn = client.create_function(fn_id="ra", trigger=TriggerEvent(event="app/ran"))(handler)
    response = make_handler(client, [fn]).handle(
        make_request("POST", url=URL + "?fnId=my-app-ra", body=execution_body())
    )
    assert response.status == 500
    assert response.headers["retry-after"] == "2026-11-23T02:02:03.597Z"
    assert "x-inngest-no-retry" not in response.headers


def test_retry_after_is_converted_to_utc() -> None:
    tz = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(2026, 1, 1, 1, 30, 0, 5000, tzinfo=tz)
    assert format_retry_after(moment) == "2025-12-31T23:30:00.005Z"


def test_use_api_fetches_events_and_steps_with_bearer_auth(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({
        "/v0/runs/run-1/batch": [(200, [{"name": "app/one", "data": {}},
                                        {"name": "app/two", "data": {}}])],
        "/v0/runs/run-1/actions": [(200, {})],
    })
    client = make_client("cloud", api=api)

    def handler(ctx: typing.Any) -> object:
        return [event.name for event in ctx.events]

    fn = client.create_function(fn_id="big", trigger=TriggerEvent(event="app/ran"))(handler)
    body = execution_body(use_api=True, events=[], steps={})
    response = make_handler(client, [fn]).handle(
        make_request("POST", url=URL + "?fnId=my-app-big", body=body, sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert json_body(response) == ["app/one", "app/two"]
    assert [(c.method, c.path) for c in api.calls] == [
        ("GET", "/v0/runs/run-1/batch"),
        ("GET", "/v0/runs/run-1/actions"),
    ]
    for call in api.calls:
        assert call.headers["authorization"] == f"Bearer {SIGNING_KEY_HASH}"
        assert call.headers["x-inngest-sdk"] == _version.SDK_IDENTITY
    assert re.fullmatch(r"comm_handler;dur=\d+, use_api;dur=\d+, mw.transform_input;dur=\d+, "
                        r"function;dur=\d+, mw.transform_output;dur=\d+",
                        response.headers["server-timing"])


def test_use_api_retries_with_fallback_key(
    fake_api: typing.Callable[..., FakeAPI], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SIGNING_KEY_FALLBACK", FALLBACK_KEY)
    api = fake_api({
        "/v0/runs/run-1/batch": [(401, {"error": "no"}), (200, [{"name": "app/one"}])],
        "/v0/runs/run-1/actions": [(200, {})],
    })
    client = make_client("cloud", api=api)
    body = execution_body(use_api=True)
    response = make_handler(client).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=body, sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert [c.headers["authorization"] for c in api.calls] == [
        f"Bearer {SIGNING_KEY_HASH}",
        f"Bearer {FALLBACK_KEY_HASH}",
        f"Bearer {SIGNING_KEY_HASH}",
    ]


@pytest.mark.parametrize(
    "answers",
    [
        {"/v0/runs/run-1/batch": [(500, {"error": "down"})]},
        {"/v0/runs/run-1/batch": [(200, {"not": "a list"})], "/v0/runs/run-1/actions": [(200, {})]},
        {"/v0/runs/run-1/batch": [(200, [])], "/v0/runs/run-1/actions": [(200, [])]},
    ],
    ids=["error-status", "batch-not-array", "actions-not-object"],
)
def test_use_api_failures_are_500(
    fake_api: typing.Callable[..., FakeAPI], answers: dict[str, list[tuple[int, object]]],
) -> None:
    api = fake_api(answers)
    client = make_client(api=api)
    response = make_handler(client).handle(
        make_request("POST", url=URL + "?fnId=my-app-hello", body=execution_body(use_api=True))
    )
    assert response.status == 500
    assert set(json_body(response)) == {"code", "message", "name"}


# PUT out-of-band


def expected_register_body(url: str) -> dict[str, object]:
    runtime_url = url + "?fnId=my-app-my+f%C3%BCn&stepId=step"
    failure_url = url + "?fnId=my-app-my+f%C3%BCn-failure&stepId=step"
    return {
        "appname": "my-app",
        "capabilities": CAPABILITIES,
        "deploy_type": "ping",
        "framework": FRAMEWORK,
        "functions": [
            {
                "concurrency": [{"limit": 2}],
                "id": "my-app-my f\u00fcn",
                "name": "my f\u00fcn",
                "steps": {"step": {"id": "step", "name": "step",
                                   "retries": {"attempts": 2},
                                   "runtime": {"type": "http", "url": runtime_url}}},
                "triggers": [{"event": "app/ran"}],
            },
            {
                "cancel": [],
                "concurrency": [],
                "id": "my-app-my f\u00fcn-failure",
                "name": "my f\u00fcn (failure)",
                "steps": {"step": {"id": "step", "name": "step",
                                   "retries": {"attempts": 0},
                                   "runtime": {"type": "http", "url": failure_url}}},
                "triggers": [{"event": "inngest/function.failed",
                              "expression": "event.data.function_id == 'my-app-my f\u00fcn'"}],
            },
        ],
        "sdk": _version.REGISTER_SDK,
        "url": url,
        "v": "0.1",
    }


def test_out_of_band_sync_posts_exact_register_body(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {"ok": True, "modified": False})]})
    client = make_client(api=api)
    fn = make_function(client, fn_id="my f\u00fcn", on_failure=True, retries=2,
                       concurrency=[Concurrency(limit=2)])
    handler = make_handler(client, [fn])
    response = handler.handle(make_request("PUT", url=URL + "?deployId=dep%201&x=y#frag"))

    assert response.status == 200
    assert response.body == b'{"ok": true, "modified": false}'
    assert response.headers["x-inngest-sync-kind"] == "out_of_band"
    assert "x-inngest-signature" not in response.headers
    [call] = api.calls
    assert call.method == "POST"
    assert call.path == "/fn/register?deployId=dep+1"
    assert call.body == json.dumps(
        expected_register_body(URL), ensure_ascii=False, separators=(",", ":")
    ).encode()
    assert call.headers["content-type"] == "application/json"
    assert call.headers["x-inngest-sdk"] == _version.SDK_IDENTITY
    assert call.headers["user-agent"] == _version.SDK_IDENTITY
    assert call.headers["x-inngest-req-version"] == "2"
    assert call.headers["x-inngest-framework"] == FRAMEWORK
    assert "authorization" not in call.headers
    assert "x-inngest-expected-server-kind" not in call.headers
    assert "x-inngest-env" not in call.headers


def test_out_of_band_sync_without_deploy_id_has_no_query(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {})]})
    client = make_client(api=api, app_version="1.2.3", env="staging")
    make_handler(client).handle(
        make_request("PUT", headers={"x-inngest-server-kind": "dev"})
    )
    [call] = api.calls
    assert call.path == "/fn/register"
    assert json.loads(call.body)["appVersion"] == "1.2.3"
    assert call.headers["x-inngest-expected-server-kind"] == "dev"
    assert call.headers["x-inngest-env"] == "staging"


def test_cloud_out_of_band_sync_uses_bearer_then_fallback(
    fake_api: typing.Callable[..., FakeAPI], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SIGNING_KEY_FALLBACK", FALLBACK_KEY)
    api = fake_api({"/fn/register": [(401, {"error": "bad key"}), (200, {"ok": True})]})
    response = make_handler(make_client("cloud", api=api)).handle(make_request("PUT"))
    assert response.status == 200
    assert [c.headers["authorization"] for c in api.calls] == [
        f"Bearer {SIGNING_KEY_HASH}",
        f"Bearer {FALLBACK_KEY_HASH}",
    ]


def test_signed_out_of_band_sync_is_answered_signed(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {"ok": True})]})
    response = make_handler(make_client("cloud", api=api)).handle(
        make_request("PUT", sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert_signed_by(response, SIGNING_KEY)


@pytest.mark.parametrize(
    ("mode", "server_kind", "message"),
    [
        ("cloud", "dev", "Sync rejected since it's from a Dev Server but expected Cloud"),
        ("dev", "cloud", "Sync rejected since it's from Cloud but expected Dev Server"),
    ],
)
def test_out_of_band_server_kind_mismatch_is_400(
    fake_api: typing.Callable[..., FakeAPI], mode: str, server_kind: str, message: str,
) -> None:
    api = fake_api({"/fn/register": [(200, {})]})
    response = make_handler(make_client(mode, api=api)).handle(
        make_request("PUT", headers={"x-inngest-server-kind": server_kind})
    )
    body = assert_error(response, 400, "server_kind_mismatch")
    assert body["message"].startswith(message + ". ") and "is_production=" in body["message"]
    assert api.calls == []


def test_registration_failure_is_500_with_server_message(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(400, {"error": "invalid cron expression"})]})
    response = make_handler(make_client(api=api)).handle(make_request("PUT"))
    body = assert_error(response, 500, "registration_failed")
    assert body["message"] == "invalid cron expression"


def test_registration_non_json_answer_is_500(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, b"<html>")]})
    response = make_handler(make_client(api=api)).handle(make_request("PUT"))
    assert_error(response, 500, "registration_failed")


def test_registration_transport_failure_is_500_unknown() -> None:
    closed = FakeAPI()
    closed.down = True
    response = make_handler(make_client(api=closed)).handle(make_request("PUT"))
    body = assert_error(response, 500, "unknown")
    assert "Failed request to" in body["message"]


def test_sync_without_functions_is_500_function_config_invalid() -> None:
    response = make_handler(make_client(), []).handle(make_request("PUT"))
    body = assert_error(response, 500, "function_config_invalid")
    assert body["message"] == "no functions found"


def test_unsigned_out_of_band_sync_allowed_in_cloud_by_default(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {})]})
    response = make_handler(make_client("cloud", api=api)).handle(make_request("PUT"))
    assert response.status == 200
    assert "x-inngest-signature" not in response.headers


def test_unauthed_sync_disabled_by_argument_requires_signature(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {})]})
    handler = make_handler(make_client("cloud", api=api), enable_unauthed_sync=False)
    assert_unauthorized(handler.handle(make_request("PUT")))
    assert api.calls == []
    assert handler.handle(make_request("PUT", sign_with=SIGNING_KEY)).status == 200


def test_unauthed_sync_disabled_by_environment(
    fake_api: typing.Callable[..., FakeAPI], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_ENABLE_UNAUTHED_SYNC", " False ")
    api = fake_api({"/fn/register": [(200, {})]})
    handler = make_handler(make_client("cloud", api=api))
    assert_unauthorized(handler.handle(make_request("PUT")))


def test_unauthed_sync_argument_beats_environment(
    fake_api: typing.Callable[..., FakeAPI], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_ENABLE_UNAUTHED_SYNC", "false")
    api = fake_api({"/fn/register": [(200, {})]})
    handler = make_handler(make_client("cloud", api=api), enable_unauthed_sync=True)
    assert handler.handle(make_request("PUT")).status == 200


def test_serve_overrides_shape_the_registered_url(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {})]})
    client = make_client(api=api)
    handler = make_handler(client, serve_origin="myhost:4000", serve_path="/custom/path")
    handler.handle(make_request("PUT"))
    body = json.loads(api.calls[0].body)
    assert body["url"] == "https://myhost:4000/custom/path"
    assert body["functions"][0]["steps"]["step"]["runtime"]["url"] == (
        "https://myhost:4000/custom/path?fnId=my-app-hello&stepId=step"
    )


@pytest.mark.parametrize(
    ("kwargs", "env", "expected"),
    [
        ({}, {}, "http://localhost:3000/api/inngest"),
        ({"serve_origin": "https://example.com"}, {}, "https://example.com/api/inngest"),
        ({"serve_origin": "myhost:3000"}, {}, "https://myhost:3000/api/inngest"),
        ({"serve_path": "/custom"}, {}, "http://localhost:3000/custom"),
        ({}, {"INNGEST_SERVE_ORIGIN": "https://env.example", "INNGEST_SERVE_PATH": "/env"},
         "https://env.example/env"),
        ({"serve_origin": "https://arg.example", "serve_path": "/arg"},
         {"INNGEST_SERVE_ORIGIN": "https://env.example", "INNGEST_SERVE_PATH": "/env"},
         "https://arg.example/arg"),
        ({"serve_path": "/custom", "public_path": "/public"}, {},
         "http://localhost:3000/public"),
    ],
)
def test_app_url_overrides(
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, str],
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    options = {"serve_origin": None, "serve_path": None, "public_path": None, **kwargs}
    assert _registration.app_url(URL + "?fnId=x#frag", **options) == expected


def test_inspection_reports_serve_arguments_not_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INNGEST_SERVE_PATH", "/from-env")
    handler = make_handler(make_client("cloud"))
    body = json_body(handler.handle(make_request("GET", sign_with=SIGNING_KEY)))
    assert body["serve_path"] is None


# PUT in-band


def test_in_band_sync_answers_signed_payload() -> None:
    client = make_client("cloud", event_key="test")
    fn = make_function(client, fn_id="my f\u00fcn", on_failure=True, retries=2,
                       concurrency=[Concurrency(limit=2)])
    handler = make_handler(client, [fn])
    body = json.dumps({"url": "https://app.example.com/api/inngest?x=1"}).encode()
    response = handler.handle(
        make_request("PUT", body=body, headers={"x-inngest-sync-kind": "in_band"},
                     sign_with=SIGNING_KEY)
    )
    assert response.status == 200
    assert response.headers["x-inngest-sync-kind"] == "in_band"
    assert_signed_by(response, SIGNING_KEY)
    app_url = "https://app.example.com/api/inngest"
    register = expected_register_body(app_url)
    assert json_body(response) == {
        "app_id": "my-app",
        "framework": FRAMEWORK,
        "functions": register["functions"],
        "inspection": {
            "schema_version": "2024-05-24",
            "api_origin": "https://api.inngest.com/",
            "app_id": "my-app",
            "authentication_succeeded": True,
            "capabilities": CAPABILITIES,
            "event_api_origin": "https://inn.gs/",
            "event_key_hash": EVENT_KEY_HASH,
            "framework": FRAMEWORK,
            "function_count": 1,
            "has_event_key": True,
            "has_signing_key": True,
            "has_signing_key_fallback": False,
            "mode": "cloud",
            "sdk_language": "py",
            "sdk_version": _version.VERSION,
            "signing_key_hash": SIGNING_KEY_HASH,
        },
        "sdk_author": "inngest",
        "sdk_language": "py",
        "sdk_version": _version.VERSION,
        "url": app_url,
    }


def test_in_band_sync_applies_overrides_and_keeps_app_version_and_env() -> None:
    client = make_client("cloud", app_version="v9", env="prod-branch")
    handler = make_handler(client, public_path="/public")
    body = json.dumps({"url": "http://internal:8000/api/inngest"}).encode()
    response = handler.handle(
        make_request("PUT", body=body, headers={"x-inngest-sync-kind": "in_band"},
                     sign_with=SIGNING_KEY)
    )
    payload = json_body(response)
    assert payload["url"] == "http://internal:8000/public"
    assert payload["appVersion"] == "v9"
    assert payload["env"] == "prod-branch"
    assert payload["inspection"]["env"] == "prod-branch"


def test_in_band_sync_unsigned_is_unauthorized_even_with_unauthed_sync() -> None:
    handler = make_handler(make_client("cloud"), enable_unauthed_sync=True)
    response = handler.handle(
        make_request("PUT", body=b'{"url": "https://x.example"}',
                     headers={"x-inngest-sync-kind": "in_band"})
    )
    assert_unauthorized(response)


@pytest.mark.parametrize("body, message", [
    (b'{"url": 5}', "in-band sync body: url must be a string"),
    (b"{}", "in-band sync body: url is required"),
    (b"[1]", "in-band sync body is not an object"),
])
def test_in_band_sync_with_bad_body_is_a_400(body: bytes, message: str) -> None:
    # The official SDK answers 500 "unknown" (compatibility.md item 12).
    handler = make_handler(make_client("cloud"))
    response = handler.handle(
        make_request("PUT", body=body, headers={"x-inngest-sync-kind": "in_band"},
                     sign_with=SIGNING_KEY)
    )
    assert assert_error(response, 400, "body_invalid")["message"] == message
    assert_signed_by(response, SIGNING_KEY)


def test_dev_mode_in_band_request_syncs_out_of_band(
    fake_api: typing.Callable[..., FakeAPI],
) -> None:
    api = fake_api({"/fn/register": [(200, {"ok": True})]})
    response = make_handler(make_client(api=api)).handle(
        make_request("PUT", body=b'{"url": "https://x.example"}',
                     headers={"x-inngest-sync-kind": "in_band"})
    )
    assert response.status == 200
    assert response.headers["x-inngest-sync-kind"] == "out_of_band"
    assert len(api.calls) == 1
