"""The serve handler, sans-IO: GET inspects, PUT syncs, POST executes a function.

Adapters turn their framework's request into a ``Request``, call ``CommHandler.handle`` and
write the returned ``Response`` back unchanged.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import typing
import urllib.parse

from inngest import (
    _errors,
    _execution,
    _inspection,
    _registration,
    _signing,
    _transport,
)
from inngest._client import Inngest
from inngest._function import Function, Handler
from inngest._protocol import json_value, signing
from inngest._protocol.headers import Header
from inngest._timing import ServerTimings, now

SERVER_KINDS = ("cloud", "dev")
_SIGNED_METHODS = ("GET", "POST")
_UNAUTHORIZED_BODY = json.dumps({"message": "Unauthorized"}).encode("utf-8")


class _RequestFields(typing.NamedTuple):
    method: str
    url: str
    headers: typing.Mapping[str, str]
    body: bytes = b""


class Request(_RequestFields):
    """An inbound serve request. Header names are lower-cased; the first value wins.

    A named tuple, not a dataclass: one is made per request, and a tuple builds in less than
    half the time. ``_replace`` gives a changed copy."""

    __slots__ = ()

    def __new__(
        cls, method: str, url: str, headers: typing.Mapping[str, object], body: bytes = b""
    ) -> Request:
        return _new_tuple(cls, (method.upper(), url, normalize_headers(headers), body))

    @classmethod
    def normalized(cls, method: str, url: str, headers: dict[str, str], body: bytes) -> Request:
        """A request whose header names are lower-case already, one ``str`` value each (as
        adapters reading a WSGI environ build them): they are not normalized again."""
        return _new_tuple(cls, (method.upper(), url, headers, body))

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def query(self) -> dict[str, str]:
        """Query parameters of the URL, first value of each."""
        return dict(_parse_query(self.url))


class Response(typing.NamedTuple):
    """What to answer: the body bytes are final (signatures cover exactly them). A named
    tuple (two are made per request; see ``Request``); the headers dict is the response's own
    until it is answered."""

    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def _of(cls, status: int, headers: dict[str, str], body: bytes) -> Response:
        """``Response(status, headers, body)`` without the named tuple's ``__new__`` (a Python
        function): the same tuple, built directly."""
        return _new_tuple(cls, (status, headers, body))


_new_tuple = tuple.__new__


@functools.lru_cache(maxsize=256)
def _parse_query(url: str) -> dict[str, str]:
    """Parsed once per distinct URL: the executor repeats the same few."""
    params: dict[str, str] = {}
    query = urllib.parse.urlsplit(url).query
    for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, value)
    return params


def normalize_headers(headers: typing.Mapping[str, object]) -> dict[str, str]:
    """Lower-case names; for repeated names (or list values) keep the first value."""
    normalized: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, (list, tuple)):
            if not value:
                continue
            value = value[0]
        normalized.setdefault(str(name).lower(), str(value))
    return normalized


class _Unparsed:
    """Marks a body that signature checking did not parse."""


_UNPARSED = _Unparsed()


class _Auth(typing.NamedTuple):
    """The outcome of signature checking: the key that verified, or why none did; and the
    JSON body if checking had to parse it (so executing need not parse it again). A named
    tuple: one is made per signed request, and it builds faster than a frozen dataclass."""

    key: str | None = None
    error: _errors.Error | None = None
    payload: object = _UNPARSED


_NO_AUTH = _Auth()


class _StaticHeaders(typing.NamedTuple):
    """Response headers that depend on the client only: the client's own (first in an
    execution response) and those plus mode and handled (on every response)."""

    env: str | None
    client: dict[str, str]
    standard: dict[str, str]


class CommHandler:
    """Answers every serve request for one app; never raises from ``handle``."""

    def __init__(
        self,
        client: Inngest,
        functions: typing.Sequence[Function[typing.Any]],
        framework: str,
        *,
        public_path: str | None = None,
        serve_origin: str | None = None,
        serve_path: str | None = None,
        enable_unauthed_sync: bool | None = None,
    ) -> None:
        if not isinstance(client, Inngest):
            raise _errors.FunctionConfigInvalidError(
                f"client: expected Inngest, got {type(client).__name__}"
            )
        _require_signing_key(client)
        self._client = client
        # Fixed when the client is made (is_production has no setter).
        self._production = client.is_production
        self._functions = _index_functions(functions)
        self._handlers = _index_handlers(self._functions.values())
        self._static: _StaticHeaders | None = None
        self._framework = framework
        self._public_path = public_path
        self._serve_origin = serve_origin
        self._serve_path = serve_path
        self._enable_unauthed_sync = _unauthed_sync_enabled(enable_unauthed_sync)

    @property
    def client(self) -> Inngest:
        return self._client

    @property
    def framework(self) -> str:
        return self._framework

    def handle(self, request: Request, raw_request: object = None) -> Response:
        timings = ServerTimings()
        method = request.method
        if method == "HEAD":  # answered as GET; the adapter's server drops the body
            request = request._replace(method="GET")
            method = "GET"
        try:
            if method not in ("GET", "PUT", "POST"):
                error = _errors.UnknownError(f"unsupported method: {method}")
                return self._finish(_error_response(405, error), None, timings)
            auth = self._authenticate(request) if self._production else _NO_AUTH
            if auth.error is not None:
                rejection = self._rejection(request, auth.error)
                if rejection is not None:
                    self._client.logger.warning(
                        "rejected unauthorized %s request: %s", method, rejection.message
                    )
                    return _unauthorized(timings)
            try:
                if method == "POST":
                    response = self._execute(request, auth, raw_request, timings)
                elif method == "GET":
                    response = self._inspect(request, auth)
                else:
                    response = self._sync(request)
            except _errors.Error as err:
                self._client.logger.error("%s request failed: %s", method, err.message)
                response = _error_response(500, err)
            return self._finish(response, auth.key, timings)
        except Exception:  # the last line of defence: adapters must get a response
            self._client.logger.exception("inngest serve handler failed")
            # The exception's text stays in the log: it may describe the app's internals.
            body = _error_body("unknown", "internal error (see the app's log)", "UnknownError")
            return self._finish(_json_response(500, body), None, timings)

    def refuse(self, status: int, error: _errors.Error) -> Response:
        """The answer to a request an adapter could not read (its body, say)."""
        self._client.logger.warning("refused a request: %s", error.message)
        return self._finish(_error_response(status, error), None, ServerTimings())

    def _authenticate(self, request: Request) -> _Auth:
        try:
            payload, key = _signing.verify_request(
                request.body, request.headers.get(Header.SIGNATURE), self._client.signing_keys()
            )
        except _errors.Error as err:
            return _Auth(error=err)
        # The named tuple's own __new__ is a Python function: the same tuple, built directly.
        return _new_tuple(_Auth, (key, None, payload if request.body else _UNPARSED))

    def _rejection(self, request: Request, error: _errors.Error) -> _errors.Error | None:
        """The auth error that must turn this request away, if any."""
        if request.method in _SIGNED_METHODS or self._is_in_band(request):
            return error
        if not self._enable_unauthed_sync:
            return error
        return None

    def _finish(self, response: Response, key: str | None, timings: ServerTimings) -> Response:
        # Header order follows the official SDK: the response's own headers (execution
        # results start with the client headers), then the client headers not yet present,
        # then mode, handled and timing. Standard headers win over same-named ones.
        # Each response's headers are a dict of its own until it is finished here: they are
        # completed in place (update keeps the keys already present where they are).
        headers = response.headers
        static = self._static
        if static is None or static.env != self._client.env:  # checked here: a hit calls none
            static = self._static_headers()
        headers.update(static.standard)
        headers["server-timing"] = timings.header()
        if key is not None:
            headers[Header.SIGNATURE] = signing.sign(response.body, key)
        return response

    def _static_headers(self) -> _StaticHeaders:
        """The headers that depend on the client only, rebuilt if its env changes (its mode
        is fixed when it is made)."""
        client = self._client
        static = self._static
        if static is None or static.env != client.env:
            headers = _transport.standard_headers(client.env)
            headers[Header.FRAMEWORK] = self._framework
            standard = {
                **headers,
                Header.EXPECTED_SERVER_KIND: client.mode,
                Header.SDK_HANDLED: "true",
            }
            static = self._static = _StaticHeaders(client.env, headers, standard)
        return static

    def _serve_info(self) -> _inspection.ServeInfo:
        return _inspection.ServeInfo(
            framework=self._framework,
            function_count=len(self._functions),
            serve_origin=self._serve_origin,
            serve_path=self._serve_path,
        )

    def _server_kind(self, request: Request) -> str | None:
        kind = request.header(Header.SERVER_KIND)
        if kind is not None and kind not in SERVER_KINDS:
            self._client.logger.warning("ignoring invalid x-inngest-server-kind: %r", kind)
            return None
        return kind

    # GET

    def _inspect(self, request: Request, auth: _Auth) -> Response:
        kind = self._server_kind(request)
        if kind is not None and kind != self._client.mode:
            return Response(status=403, headers={}, body=b"{}")
        info = self._serve_info()
        if auth.key is not None:
            return _json_response(200, _inspection.authenticated(self._client, info))
        return _json_response(200, _inspection.unauthenticated(self._client, info))

    # PUT

    def _is_in_band(self, request: Request) -> bool:
        return (
            request.method == "PUT"
            and self._client.is_production
            and request.header(Header.SYNC_KIND) == "in_band"
        )

    def _sync(self, request: Request) -> Response:
        if self._is_in_band(request):
            return self._sync_in_band(request)
        return self._sync_out_of_band(request)

    def _app_url(self, base_url: str) -> str:
        return _registration.app_url(
            base_url,
            serve_origin=self._serve_origin,
            serve_path=self._serve_path,
            public_path=self._public_path,
        )

    def _sync_in_band(self, request: Request) -> Response:
        try:
            url = self._app_url(_registration.in_band_request_url(request.body))
        except _errors.BodyInvalidError as err:
            return _error_response(400, err)
        inspection = _inspection.authenticated(self._client, self._serve_info())
        body = _registration.in_band_body(
            self._client, self._functions.values(), self._framework, url, inspection
        )
        return _json_response(200, body, {Header.SYNC_KIND: "in_band"})

    def _sync_out_of_band(self, request: Request) -> Response:
        kind = self._server_kind(request)
        if kind is not None and kind != self._client.mode:
            return _error_response(400, _server_kind_mismatch(kind))
        url = self._app_url(request.url)
        if self._client.is_production and not _registration.configured_origin(self._serve_origin):
            self._client.logger.warning(
                "syncing with %s, taken from the request's Host header: anyone who can send "
                "this app a PUT can choose it; set serve_origin (INNGEST_SERVE_ORIGIN) to the "
                "app's public origin, or enable_unauthed_sync=False (docs/security.md)", url
            )
        payload = _registration.out_of_band_body(
            self._client, self._functions.values(), self._framework, url
        )
        answer = _registration.register(
            self._client,
            payload,
            framework=self._framework,
            server_kind=kind,
            deploy_id=request.query().get("deployId"),
        )
        return _json_response(200, answer, {Header.SYNC_KIND: "out_of_band"})

    # POST

    def _execute(
        self, request: Request, auth: _Auth, raw_request: object, timings: ServerTimings
    ) -> Response:
        query = _parse_query(request.url)  # shared: read only
        try:
            if "probe" in query and _is_trust_probe(query):
                return _json_response(200, None)
            execution_request = _execution.ExecutionRequest.from_dict(_payload(request, auth))
            if execution_request.events is None and not execution_request.use_api:
                raise _errors.BodyInvalidError("events: required")
            fn_id = query.get("fnId") or ""
            function, handler = self._handlers.get(fn_id) or self._find_handler(fn_id)
        except _MALFORMED_CALL as err:
            # The same request would fail the same way: the server must not retry it.
            status = 404 if isinstance(err, _errors.FunctionNotFoundError) else 400
            return _error_response(status, err, {Header.NO_RETRY: "true"})
        if execution_request.use_api:
            started = now()
            try:
                execution_request = self._with_api_data(execution_request)
            finally:
                timings.spans.append(("use_api", started, now()))
        if execution_request.events is None:
            raise _errors.UnknownError("events not in request")
        step_id = query.get("stepId")
        outcome = _execution.run(
            client=self._client,
            function=function,
            handler=handler,
            request=execution_request,
            target_step_id=None if step_id in (None, "", "step") else step_id,
            raw_request=raw_request,
            job_id=request.headers.get(Header.JOB_ID),
            request_id=request.headers.get("x-request-id"),
            timings=timings,
        )
        result = _execution.to_result(outcome)
        if not result.no_retry and result.retry_after is None:
            # _finish puts the client headers first, as an execution response has them.
            return Response._of(result.status, {}, result.body)
        headers = {**self._static_headers().client, **_result_headers(result)}
        return Response._of(result.status, headers, result.body)

    def _find_handler(self, fn_id: str) -> tuple[Function[typing.Any], Handler]:
        """The function and handler for an id not indexed when serve() was called."""
        if not fn_id:
            raise _errors.QueryParamMissingError("fnId")
        for function in self._functions.values():  # ids changed since serve() was called
            handler = function.handler_for(fn_id)
            if handler is not None:
                return function, handler
        raise _errors.FunctionNotFoundError(f"function {fn_id} not found")

    def _with_api_data(
        self, execution_request: _execution.ExecutionRequest
    ) -> _execution.ExecutionRequest:
        run_path = "/v0/runs/" + urllib.parse.quote(execution_request.run_id, safe="")
        events = self._fetch_run_data(run_path + "/batch")
        if not isinstance(events, list):
            raise _errors.BodyInvalidError("run batch from the API is not a JSON array")
        steps = self._fetch_run_data(run_path + "/actions")
        if not isinstance(steps, dict):
            raise _errors.BodyInvalidError("run actions from the API are not a JSON object")
        return execution_request.with_api_data(events, steps)

    def _fetch_run_data(self, path: str) -> object:
        url = urllib.parse.urljoin(self._client.api_origin, path)
        response = _transport.request_with_auth(
            self._client.transport,
            "GET",
            url,
            headers=_transport.standard_headers(self._client.env),
            bearer_tokens=self._client.bearer_tokens(),
        )
        if response.status >= 400:
            raise _errors.UnknownError(f"fetching {path} failed with status {response.status}")
        return response.json()


_MALFORMED_CALL = (
    _errors.BodyInvalidError,
    _errors.QueryParamInvalidError,
    _errors.QueryParamMissingError,
    _errors.FunctionNotFoundError,
)


def _is_trust_probe(query: dict[str, str]) -> bool:
    probe = query.get("probe")
    if not probe:  # "probe=" is no probe, as for the official SDK
        return False
    if probe != "trust":
        raise _errors.QueryParamInvalidError(f"unsupported probe: {probe}")
    return True


def _payload(request: Request, auth: _Auth) -> object:
    """The JSON body (parsed by signature checking already, or now)."""
    if auth.payload is not _UNPARSED:
        return auth.payload
    body = request.body
    try:
        return json_value.loads(body)
    except json.JSONDecodeError as err:
        if not body.strip():  # JSON with no value: nothing but whitespace, if anything
            raise _errors.BodyInvalidError("request body is empty") from None
        raise _errors.BodyInvalidError(f"request body is not JSON (byte {err.pos})") from None
    except UnicodeDecodeError:
        raise _errors.BodyInvalidError("request body is not UTF-8 JSON") from None
    except ValueError:  # Python's limit on the digits of an integer
        raise _errors.BodyInvalidError("request body has a number too long to read") from None
    except RecursionError:
        raise _errors.BodyInvalidError("request body is nested too deeply") from None


def _json_response(
    status: int, body: object, headers: dict[str, str] | None = None
) -> Response:
    return Response(status=status, headers=dict(headers or {}), body=_dumps(body))


def _dumps(body: object) -> bytes:
    return json.dumps(body).encode("utf-8")


def _error_response(
    status: int, error: _errors.Error, headers: dict[str, str] | None = None
) -> Response:
    return _json_response(status, _error_body(error.code, error.message, error.name), headers)


def _error_body(code: str, message: str, name: str) -> dict[str, str]:
    return {"code": code, "message": message, "name": name}


def _unauthorized(timings: ServerTimings) -> Response:
    """A 401 that tells nothing: no SDK identity, no signature, the reason only in our log."""
    headers = {
        "content-type": "application/json",
        Header.SDK_HANDLED: "true",
        "server-timing": timings.header(),
    }
    return Response(status=401, headers=headers, body=_UNAUTHORIZED_BODY)


def _server_kind_mismatch(server_kind: str) -> _errors.ServerKindMismatchError:
    if server_kind == "dev":
        return _errors.ServerKindMismatchError(
            "Sync rejected since it's from a Dev Server but expected Cloud. To use the dev "
            "server, create the client with is_production=False or set INNGEST_DEV=1"
        )
    return _errors.ServerKindMismatchError(
        "Sync rejected since it's from Cloud but expected Dev Server. For Inngest Cloud, "
        "create the client with is_production=True (the default without INNGEST_DEV)"
    )


def _result_headers(result: _execution.ExecutionResult) -> dict[str, str]:
    headers: dict[str, str] = {}
    if result.no_retry:
        headers[Header.NO_RETRY] = "true"
    if result.retry_after is not None:
        headers["retry-after"] = format_retry_after(result.retry_after)
    return headers


def format_retry_after(moment: datetime.datetime) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, e.g. ``2026-11-23T02:02:03.597Z``."""
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _require_signing_key(client: Inngest) -> None:
    if not client.is_production or client.signing_key is not None:
        return
    # The key may have been exported after the client was built.
    client.signing_key = os.environ.get("INNGEST_SIGNING_KEY") or None
    if client.signing_key is None:
        raise _errors.SigningKeyMissingError(
            "signing key is required in cloud mode: set INNGEST_SIGNING_KEY or pass "
            "signing_key to the client (or use dev mode with INNGEST_DEV=1)"
        )


def _index_functions(functions: object) -> dict[str, Function[typing.Any]]:
    """Functions by fully-qualified id; a repeated id keeps the last function."""
    if not isinstance(functions, (list, tuple)):
        raise _errors.FunctionConfigInvalidError(
            f"functions: expected a list of functions, got {type(functions).__name__}"
        )
    indexed: dict[str, Function[typing.Any]] = {}
    for index, function in enumerate(functions):
        if not isinstance(function, Function):
            raise _errors.FunctionConfigInvalidError(
                f"functions[{index}]: expected a function made by create_function, "
                f"got {type(function).__name__}"
            )
        function.require_sync()
        indexed.pop(function.id, None)
        indexed[function.id] = function
    return indexed


def _index_handlers(
    functions: typing.Iterable[Function[typing.Any]],
) -> dict[str, tuple[Function[typing.Any], Handler]]:
    """Each function and handler by the id it answers to (main and on_failure)."""
    by_id: dict[str, tuple[Function[typing.Any], Handler]] = {}
    for function in functions:
        by_id.setdefault(function.id, (function, function.handler))
        if function.on_failure is not None and function.on_failure_fn_id is not None:
            by_id.setdefault(function.on_failure_fn_id, (function, function.on_failure))
    return by_id


def _unauthed_sync_enabled(argument: bool | None) -> bool:
    if argument is not None:
        return argument
    value = os.environ.get("INNGEST_ENABLE_UNAUTHED_SYNC")
    return value is None or value.strip().lower() not in ("false", "0")
