"""Differential test: the same Flask app, served by the official SDK and by ours, same bytes.

``sdk_app.py`` is written for the official SDK's sync API. It is served twice with Flask's
threaded dev server: once by an interpreter whose site-packages hold the official
``inngest`` (``OFFICIAL_PYTHON``, no repo on the path) and once with this repo first on
``PYTHONPATH`` (``OURS_PYTHON``). Every request below goes to both; statuses, header lists
and body bytes must be equal after the normalisations in ``NORMALISATIONS``. Any other
difference fails unless it is one of the documented deliberate differences in ``ALLOWED``
(docs/compatibility.md, /work/shared/spec/README.md), each tied to the cases it covers.

Opt-in: runs only with ``INNGEST_OFFICIAL=1``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import http.client
import http.server
import json
import os
import pathlib
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import typing
import urllib.parse

import pytest

if os.environ.get("INNGEST_OFFICIAL") != "1":
    pytest.skip(
        "differential test against the official SDK: set INNGEST_OFFICIAL=1 to run it",
        allow_module_level=True,
    )

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_PATH = pathlib.Path(__file__).resolve().with_name("sdk_app.py")
SIGNING_KEY = "signkey-prod-" + "12ab" * 16
APP_ID = "bytes-app"
SERVE_PATH = "/api/inngest"
APP_HOST = "app.test:8000"
STUB_EVENT_ID = "01HSTUBEVENT0000000000000A"

OFFICIAL = "official"
OURS = "ours"
SIDES = (OFFICIAL, OURS)


# Normalisations: the only rewrites applied before comparing. Each names what it hides and why.

NORMALISATIONS = {
    "sdk-identity": "x-inngest-sdk / user-agent values and the register body's sdk and "
    "sdk_version fields name the package (docs/compatibility.md difference 1)",
    "server-timing": "server-timing durations are wall-clock measurements",
    "signature": "x-inngest-signature values carry the signing time; each side's signature "
    "is verified against its own body first and replaced by whether it verified",
    "stack-frames": "file paths and line numbers inside traceback text, and the module that "
    "defines the SDK's exception classes (inngest._internal.errors vs inngest._errors) in "
    "traceback text (docs/compatibility.md difference 17)",
    "near-now": "ISO timestamps computed from 'now' (step.sleep wake time); each must be "
    "within ten minutes of the request",
    "http-server": "Date and Server headers of the HTTP server, and Content-Length once it "
    "is checked against the body",
    "http-client": "transport headers of outbound calls (host, accept, accept-encoding, "
    "connection, content-length) chosen by the HTTP client library, not the SDK",
    "event-id-seed": "x-inngest-event-id-seed on event sends is <unix ms>,<random base64>",
}


@dataclasses.dataclass(frozen=True)
class Allowed:
    """A documented deliberate difference and the cases where it shows."""

    name: str
    reference: str
    cases: frozenset[str]


ALLOWED = (
    Allowed(
        "signature-freshness",
        "docs/compatibility.md 2; spec README improvement 1: signatures older than 5 "
        "minutes or without a timestamp are refused with the uniform 401",
        frozenset({"cloud/post-stale-signature", "cloud/post-signature-without-t"}),
    ),
    Allowed(
        "non-json-post-body",
        "docs/compatibility.md 4; spec README improvement 2: dev-mode non-JSON POST body "
        "answers 400 body_invalid with x-inngest-no-retry instead of 401 unknown",
        frozenset({"dev/post-not-json"}),
    ),
    Allowed(
        "error-body-name",
        "docs/compatibility.md 8; spec README improvement 6: every error body our plumbing "
        "produces has code, message and name (the official server-kind mismatch body has no "
        "name); docs/compatibility.md 13: the mismatch message adds how to switch modes",
        frozenset({"dev/put-server-kind-cloud", "cloud/put-out-of-band-deploy-id"}),
    ),
    Allowed(
        "malformed-call",
        "docs/compatibility.md 12: a call that would fail the same way again (JSON body of "
        "the wrong shape, missing or unknown fnId, unknown probe) answers 400 (404 for an "
        "unknown function) with x-inngest-no-retry and a named code instead of a retried 500",
        frozenset({f"{mode}/{case}" for mode in ("dev", "cloud")
                   for case in ("post-json-array", "post-invalid-schema", "post-probe-unknown",
                                "post-missing-fnid", "post-unknown-fnid", "post-legacy-fnid",
                                "post-events-null")}),
    ),
    Allowed(
        "out-of-band-sync-failure",
        "docs/compatibility.md 6; spec README improvement 4: /fn/register >= 400 makes "
        "the PUT answer 500 registration_failed instead of 200",
        frozenset({"dev/put-register-fails", "cloud/put-register-fails"}),
    ),
)


# Signing (sdk-protocol 3.2/3.3), done independently of either SDK.


def _key_bytes() -> bytes:
    return re.sub(r"^signkey-\w+-", "", SIGNING_KEY).encode("utf-8")


def _canonical(body: bytes) -> bytes:
    """RFC 8785 for the bodies this test sends: no floats beyond short decimals."""
    if not body:
        return b""
    value = json.loads(body)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _mac(message: bytes, timestamp: int | None) -> str:
    suffix = b"" if timestamp is None else str(timestamp).encode()
    return hmac.new(_key_bytes(), message + suffix, hashlib.sha256).hexdigest()


def sign_request(body: bytes, how: str) -> str:
    now = int(time.time())
    if how == "fresh":
        return f"t={now}&s={_mac(_canonical(body), now)}"
    if how == "stale":
        then = now - 3600
        return f"t={then}&s={_mac(_canonical(body), then)}"
    if how == "no-t":
        return f"s={_mac(_canonical(body), None)}"
    if how == "wrong":
        return f"t={now}&s={'0' * 64}"
    raise AssertionError(f"unknown signing mode {how}")


def _response_signature_verifies(header: str, body: bytes) -> bool:
    fields = urllib.parse.parse_qs(header)
    try:
        timestamp = int(fields["t"][0])
        signature = fields["s"][0]
    except (KeyError, ValueError):
        return False
    fresh = abs(time.time() - timestamp) < 600
    return fresh and hmac.compare_digest(_mac(body, timestamp), signature)


# Stub Inngest API shared by both apps (requests are sequential): records /fn/register and
# event sends, taken after each request.


@dataclasses.dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


class _StubHandler(http.server.BaseHTTPRequestHandler):
    server: _StubServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        self.server.recorded.append(
            Recorded("POST", self.path, tuple(self.headers.items()), body)
        )
        path = urllib.parse.urlsplit(self.path)
        if path.path == "/fn/register":
            if "deployId=fail" in path.query:
                self._answer(500, {"error": "stub refuses this sync"})
            else:
                self._answer(200, {"ok": True, "modified": False})
        elif path.path.startswith("/e/"):
            self._answer(200, {"ids": [STUB_EVENT_ID], "status": 200})
        else:
            self._answer(404, {"error": "not found"})

    def _answer(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _StubServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _StubHandler)
        self.recorded: list[Recorded] = []

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def take(self) -> list[Recorded]:
        taken, self.recorded = self.recorded, []
        return taken


# Interpreters and app processes.


def _interpreter(variable: str) -> str:
    return os.environ.get(variable) or sys.executable


def _child_env(side: str, extra: dict[str, str]) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("INNGEST_") and key != "PYTHONPATH"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if side == OURS:
        env["PYTHONPATH"] = str(REPO_ROOT)
    env.update(extra)
    return env


_PROBE = (
    "import flask, inngest, inngest.flask, importlib.metadata as m\n"
    "print(inngest.__file__)\n"
)


def _probe_side(side: str, python: str) -> str | None:
    """Why this interpreter cannot serve the side, or None when it can."""
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run(
            [python, "-c", _PROBE],
            cwd=cwd,
            env=_child_env(side, {}),
            capture_output=True,
            text=True,
            timeout=60,
        )
    if result.returncode != 0:
        return f"{python} cannot import flask and inngest: {result.stderr.strip()[-300:]}"
    location = pathlib.Path(result.stdout.strip()).resolve()
    # The tox env lives inside the repo too, so compare with the repo's own package.
    inside_repo = location == (REPO_ROOT / "inngest" / "__init__.py").resolve()
    if side == OFFICIAL and inside_repo:
        return f"{python} imports inngest from this repo, not the official SDK"
    if side == OURS and not inside_repo:
        return f"{python} with PYTHONPATH={REPO_ROOT} does not import this repo's inngest"
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class Deployment:
    side: str
    mode: str
    port: int
    stub: _StubServer
    process: subprocess.Popen[bytes]
    log_path: pathlib.Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _start(
    side: str, mode: str, python: str, stub: _StubServer, log_dir: pathlib.Path
) -> Deployment:
    port = _free_port()
    env = _child_env(
        side,
        {
            "SDK_APP_MODE": mode,
            "SDK_APP_PORT": str(port),
            "SDK_APP_SIGNING_KEY": SIGNING_KEY,
            "INNGEST_API_BASE_URL": stub.origin,
            "INNGEST_EVENT_API_BASE_URL": stub.origin,
        },
    )
    log_path = log_dir / f"{side}-{mode}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [python, str(APP_PATH)], cwd=log_dir, env=env, stdout=log, stderr=log
        )
    deployment = Deployment(side, mode, port, stub, process, log_path)
    _wait_until_serving(deployment)
    return deployment


def _wait_until_serving(deployment: Deployment) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if deployment.process.poll() is not None:
            raise AssertionError(f"{deployment.side} app exited:\n{deployment.log()}")
        try:
            _send(deployment, "GET", SERVE_PATH, b"", {})
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{deployment.side} app did not start:\n{deployment.log()}")


def _stop(deployment: Deployment) -> None:
    deployment.process.terminate()
    try:
        deployment.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        deployment.process.kill()
        deployment.process.wait(timeout=10)


@dataclasses.dataclass(frozen=True)
class Answer:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    outbound: list[Recorded]


def _send(
    deployment: Deployment, method: str, target: str, body: bytes, headers: dict[str, str]
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", deployment.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        return Answer(
            response.status, response.reason, response.getheaders(), data, []
        )
    finally:
        connection.close()


@pytest.fixture(scope="module")
def deployments() -> typing.Iterator[typing.Callable[[str], dict[str, Deployment]]]:
    pythons = {OFFICIAL: _interpreter("OFFICIAL_PYTHON"), OURS: _interpreter("OURS_PYTHON")}
    for side, python in pythons.items():
        problem = _probe_side(side, python)
        if problem is not None:
            pytest.skip(f"{side} SDK not available: {problem}")
    started: dict[str, dict[str, Deployment]] = {}
    stub = _StubServer()
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as log_dir:

        def get(mode: str) -> dict[str, Deployment]:
            if mode not in started:
                started[mode] = {}
                for side in SIDES:
                    started[mode][side] = _start(
                        side, mode, pythons[side], stub, pathlib.Path(log_dir)
                    )
            return started[mode]

        try:
            yield get
        finally:
            for by_side in started.values():
                for deployment in by_side.values():
                    _stop(deployment)
            stub.shutdown()
            stub.server_close()


# Requests.


def step_hash(step_id: str) -> str:
    return hashlib.sha1(step_id.encode("utf-8")).hexdigest()


def execution(
    event: dict[str, object],
    steps: dict[str, object] | None = None,
    *,
    events: list[dict[str, object]] | None = None,
    attempt: int = 0,
    disable_immediate_execution: bool = False,
    max_attempts: int | None = None,
) -> dict[str, object]:
    ctx: dict[str, object] = {
        "run_id": "01HRUNID00000000000000000Z",
        "attempt": attempt,
        "disable_immediate_execution": disable_immediate_execution,
        "stack": {"stack": list((steps or {}).keys())},
    }
    if max_attempts is not None:
        ctx["max_attempts"] = max_attempts
    return {
        "event": event,
        "events": events if events is not None else [event],
        "steps": steps or {},
        "use_api": False,
        "ctx": ctx,
    }


STEPS_EVENT = {
    "name": "app/steps",
    "data": {"ok": True, "id": "abc", "user": "ü"},
    "id": "01HEVENT000000000000000001",
    "ts": 1700000000123,
}
WAITED_EVENT = {
    "name": "app/other",
    "data": {"id": "abc"},
    "id": "01HEVENT000000000000000002",
    "ts": 1700000000456,
}

# Memos in the order the "steps" function reaches them.
STEPS_MEMOS: list[tuple[str, object]] = [
    ("first", {"data": {"n": 1, "text": "héllo ✓", "list": [1, 2.5, None]}}),
    ("repeat", {"data": "once"}),
    ("repeat:1", {"data": "twice"}),
    ("ünïcødé ✓", {"data": "ok"}),
    ("nap", None),
    ("until", None),
    ("wait", WAITED_EVENT),
    ("invoke", {"data": {"child": "result"}}),
    ("send", {"data": [STUB_EVENT_ID]}),
    ("p1", {"data": 1}),
    ("p2", {"data": 2}),
    ("after", {"data": "done"}),
]


def steps_memos(until: str) -> dict[str, object]:
    """Memos for every step before ``until`` (the step id with its ``:N`` suffix)."""
    memos: dict[str, object] = {}
    for step_id, memo in STEPS_MEMOS:
        if step_id == until:
            return memos
        memos[step_hash(step_id)] = memo
    return memos


def failures_event(kind: str) -> dict[str, object]:
    return {"name": "app/failures", "data": {"kind": kind, "k": "x"}, "id": "", "ts": 1}


BOOM_ERROR = {
    "error": {
        "name": "KeyError",
        "message": "'missing ✗'",
        "stack": 'Traceback (most recent call last):\n  File "x.py", line 1\nKeyError\n',
    }
}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    method: str
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    body: object = None
    raw_body: bytes | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    sign: str | None = None
    modes: tuple[str, ...] = ("dev", "cloud")

    def body_bytes(self) -> bytes:
        if self.raw_body is not None:
            return self.raw_body
        if self.body is None:
            return b""
        return json.dumps(self.body).encode("utf-8")


def fn_query(fn: str, step: str = "step") -> dict[str, str]:
    return {"fnId": f"{APP_ID}-{fn}", "stepId": step}


def post(name: str, fn: str, body: object, step: str = "step", **kwargs: typing.Any) -> Case:
    return Case(name, "POST", fn_query(fn, step), body, sign="fresh", **kwargs)


def _step_cases() -> list[Case]:
    cases = [
        post(
            f"post-steps-memo-until-{step_id}",
            "steps",
            execution(STEPS_EVENT, steps_memos(step_id)),
        )
        for step_id, _ in STEPS_MEMOS
    ]
    cases += [
        post("post-steps-all-memoized", "steps", execution(STEPS_EVENT, steps_memos(""))),
        post(
            "post-steps-wait-timed-out",
            "steps",
            execution(STEPS_EVENT, {**steps_memos("invoke"), step_hash("wait"): None}),
        ),
        post(
            "post-steps-wait-wrapped-event",
            "steps",
            execution(
                STEPS_EVENT,
                {**steps_memos("invoke"), step_hash("wait"): {"data": WAITED_EVENT}},
            ),
        ),
        post(
            "post-steps-target-p2",
            "steps",
            execution(STEPS_EVENT, steps_memos("p1")),
            step=step_hash("p2"),
        ),
        post(
            "post-steps-after-parallel-disabled-immediate",
            "steps",
            execution(STEPS_EVENT, steps_memos("after"), disable_immediate_execution=True),
        ),
        post(
            "post-steps-target-unexpected",
            "steps",
            execution(STEPS_EVENT, steps_memos("first")),
            step=step_hash("after"),
        ),
        post(
            "post-steps-attempt-2-max-3",
            "steps",
            execution(STEPS_EVENT, steps_memos("first"), attempt=2, max_attempts=3),
        ),
        post(
            "post-steps-failure-handler",
            "steps-failure",
            execution(
                {
                    "name": "inngest/function.failed",
                    "data": {
                        "function_id": f"{APP_ID}-steps",
                        "run_id": "01HRUNFAILED00000000000000",
                        "event": STEPS_EVENT,
                        "error": {"message": "boom", "name": "Error", "stack": None},
                    },
                    "id": "01HEVENT000000000000000003",
                    "ts": 1700000000789,
                }
            ),
        ),
    ]
    return cases


def _failure_cases() -> list[Case]:
    boom = step_hash("boom")
    return [
        post("post-non-retriable", "failures", execution(failures_event("non_retriable"))),
        post("post-retry-after", "failures", execution(failures_event("retry_after"))),
        post("post-function-raises", "failures", execution(failures_event("raise"))),
        post("post-step-raises", "failures", execution(failures_event("step_raises"))),
        post(
            "post-step-raises-last-attempt",
            "failures",
            execution(failures_event("step_raises"), attempt=0, max_attempts=1),
        ),
        post(
            "post-step-raises-not-last-attempt",
            "failures",
            execution(failures_event("step_raises"), attempt=1, max_attempts=4),
        ),
        post(
            "post-memoized-step-error-uncaught",
            "failures",
            execution(failures_event("step_raises"), {boom: BOOM_ERROR}),
        ),
        post(
            "post-memoized-step-error-caught",
            "failures",
            execution(failures_event("caught"), {boom: BOOM_ERROR}),
        ),
        post("post-returns-none", "failures", execution(failures_event("nothing"))),
        post(
            "post-batch",
            "child",
            execution(
                {"name": "app/child", "data": {"k": 1}, "id": "e1", "ts": 1},
                events=[
                    {"name": "app/child", "data": {"k": 1}, "id": "e1", "ts": 1},
                    {"name": "app/child", "data": None, "id": "e2", "ts": 2},
                ],
            ),
        ),
        post(
            "post-limited",
            "limited",
            execution({"name": "app/limited", "data": {}, "id": "e3", "ts": 3}),
        ),
    ]


def _protocol_cases() -> list[Case]:
    simple = execution({"name": "app/limited", "data": {}, "id": "e4", "ts": 4})
    ctx = typing.cast("dict[str, object]", simple["ctx"])
    invalid_schema = dict(simple, ctx={**ctx, "attempt": "1"})
    return [
        Case("post-probe-trust", "POST", {"probe": "trust"}, sign="fresh"),
        Case("post-probe-trust-with-body", "POST", {"probe": "trust"}, simple, sign="fresh"),
        Case("post-probe-unknown", "POST", {"probe": "other"}, simple, sign="fresh"),
        Case("post-missing-fnid", "POST", {}, simple, sign="fresh"),
        Case("post-unknown-fnid", "POST", {"fnId": "bytes-app-nope"}, simple, sign="fresh"),
        Case("post-legacy-fnid", "POST", {"fnId": "limited"}, simple, sign="fresh"),
        Case("post-not-json", "POST", fn_query("limited"), raw_body=b"{not json", sign=None),
        Case("post-json-array", "POST", fn_query("limited"), [1, 2], sign="fresh"),
        Case("post-invalid-schema", "POST", fn_query("limited"), invalid_schema, sign="fresh"),
        Case(
            "post-events-null",
            "POST",
            fn_query("limited"),
            dict(simple, events=None),
            sign="fresh",
        ),
        Case("post-unsigned", "POST", fn_query("limited"), simple, modes=("cloud",)),
        Case("post-wrong-signature", "POST", fn_query("limited"), simple, sign="wrong"),
        Case("post-stale-signature", "POST", fn_query("limited"), simple, sign="stale"),
        Case("post-signature-without-t", "POST", fn_query("limited"), simple, sign="no-t"),
    ]


def _inspection_and_sync_cases() -> list[Case]:
    in_band = {"url": "http://example.test/api/inngest"}
    in_band_kind = {"x-inngest-sync-kind": "in_band"}
    return [
        Case("get-unsigned", "GET"),
        Case("get-signed", "GET", sign="fresh"),
        Case("get-wrong-signature", "GET", sign="wrong"),
        Case("get-server-kind-dev", "GET", headers={"x-inngest-server-kind": "dev"}, sign="fresh"),
        Case(
            "get-server-kind-cloud", "GET", headers={"x-inngest-server-kind": "cloud"}, sign="fresh"
        ),
        Case("get-server-kind-bogus", "GET", headers={"x-inngest-server-kind": "x"}, sign="fresh"),
        Case("put-out-of-band", "PUT"),
        Case("put-out-of-band-signed", "PUT", sign="fresh"),
        Case(
            "put-out-of-band-deploy-id",
            "PUT",
            {"deployId": "d-1"},
            headers={"x-inngest-server-kind": "dev"},
        ),
        Case("put-server-kind-cloud", "PUT", headers={"x-inngest-server-kind": "cloud"}),
        Case("put-register-fails", "PUT", {"deployId": "fail"}),
        Case("put-in-band-signed", "PUT", body=in_band, headers=in_band_kind, sign="fresh"),
        Case("put-in-band-unsigned", "PUT", body=in_band, headers=in_band_kind),
    ]


ALL_CASES = _inspection_and_sync_cases() + _protocol_cases() + _step_cases() + _failure_cases()
PARAMS = [
    pytest.param(mode, case, id=f"{mode}/{case.name}")
    for case in ALL_CASES
    for mode in case.modes
]


# Normalisation and comparison.

_SKIPPED_RESPONSE_HEADERS = {"date", "server"}
_OUTBOUND_TRANSPORT_HEADERS = {"host", "accept", "accept-encoding", "connection", "content-length"}
_ISO = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_FRAME = re.compile(rb'File \\"[^"]*?\\", line \d+')
_ERRORS_MODULE = re.compile(rb"inngest\.(_internal\.errors|_errors)\.")
_SDK_FIELD = re.compile(rb'"(sdk|sdk_version)": ?"[^"]*"')
_TIMING = re.compile(r"dur=\d+")
_SEED = re.compile(r"^\d{13},[A-Za-z0-9+/]{14}==$")


def _normalise_body(body: bytes) -> bytes:
    body = _FRAME.sub(b'File \\"<path>\\", line <n>', body)
    body = _ERRORS_MODULE.sub(b"<sdk-errors>.", body)
    body = _SDK_FIELD.sub(lambda match: b'"' + match.group(1) + b'":"<sdk>"', body)
    return _ISO.sub(_near_now, body)


def _near_now(match: re.Match[bytes]) -> bytes:
    moment = datetime.datetime.strptime(match.group(0).decode(), "%Y-%m-%dT%H:%M:%S.%fZ")
    moment = moment.replace(tzinfo=datetime.timezone.utc)
    if abs((moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 600:
        return b"<near-now>"
    return match.group(0)


def _normalise_header(name: str, value: str, body: bytes) -> tuple[str, str] | None:
    lower = name.lower()
    if lower in _SKIPPED_RESPONSE_HEADERS:
        return None
    if lower in ("x-inngest-sdk", "user-agent"):
        return name, "<sdk>"
    if lower == "server-timing":
        return name, _TIMING.sub("dur=<ms>", value)
    if lower == "x-inngest-signature":
        return name, "<valid>" if _response_signature_verifies(value, body) else "<INVALID>"
    if lower == "content-length":
        return name, "<length>" if value == str(len(body)) else f"<wrong length {value}>"
    if lower == "retry-after":
        return name, _ISO.sub(_near_now, value.encode()).decode()
    return name, value


def normalise(answer: Answer) -> dict[str, object]:
    headers = [_normalise_header(name, value, answer.body) for name, value in answer.headers]
    return {
        "status": f"{answer.status} {answer.reason}",
        "headers": [header for header in headers if header is not None],
        "body": _normalise_body(answer.body),
        "outbound": [_normalise_outbound(recorded) for recorded in answer.outbound],
    }


def _normalise_outbound(recorded: Recorded) -> dict[str, object]:
    headers: list[tuple[str, str]] = []
    for name, value in recorded.headers:
        lower = name.lower()
        if lower in _OUTBOUND_TRANSPORT_HEADERS:
            continue
        if lower in ("x-inngest-sdk", "user-agent"):
            value = "<sdk>"
        if lower == "x-inngest-event-id-seed":
            value = "<seed>" if _SEED.match(value) else f"<bad seed {value}>"
        headers.append((lower, value))
    return {
        "request": f"{recorded.method} {recorded.path}",
        "headers": sorted(headers),
        "body": _normalise_body(recorded.body),
    }


def exchange(deployment: Deployment, case: Case) -> Answer:
    body = case.body_bytes()
    # Both apps see the same Host, so URLs they compute from the request are comparable.
    headers = {"host": APP_HOST, **case.headers}
    if case.body is not None or case.raw_body is not None:
        headers["content-type"] = "application/json"
    if case.sign is not None:
        headers["x-inngest-signature"] = sign_request(body, case.sign)
    target = SERVE_PATH
    if case.query:
        target += "?" + urllib.parse.urlencode(case.query)
    deployment.stub.take()
    answer = _send(deployment, case.method, target, body, headers)
    return dataclasses.replace(answer, outbound=deployment.stub.take())


def differences(official: dict[str, object], ours: dict[str, object]) -> list[str]:
    found = []
    for key in ("status", "headers", "body", "outbound"):
        theirs, mine = official[key], ours[key]
        if theirs == mine:
            continue
        if key == "headers":
            found.append(_header_difference(_header_list(theirs), _header_list(mine)))
        else:
            found.append(f"{key}:\n  official: {theirs!r}\n  ours:     {mine!r}")
    return found


def _header_list(value: object) -> list[tuple[str, str]]:
    return typing.cast("list[tuple[str, str]]", value)


def _header_difference(
    official: list[tuple[str, str]], ours: list[tuple[str, str]]
) -> str:
    only_official = [header for header in official if header not in ours]
    only_ours = [header for header in ours if header not in official]
    if not only_official and not only_ours:
        return f"header order:\n  official: {official!r}\n  ours:     {ours!r}"
    return f"headers:\n  only official: {only_official!r}\n  only ours:     {only_ours!r}"


def allowed_for(case_id: str) -> Allowed | None:
    for allowed in ALLOWED:
        if case_id in allowed.cases:
            return allowed
    return None


@pytest.mark.parametrize(("mode", "case"), PARAMS)
def test_same_bytes_as_official(
    deployments: typing.Callable[[str], dict[str, Deployment]], mode: str, case: Case
) -> None:
    by_side = deployments(mode)
    answers = {side: exchange(by_side[side], case) for side in SIDES}
    found = differences(normalise(answers[OFFICIAL]), normalise(answers[OURS]))
    case_id = f"{mode}/{case.name}"
    allowed = allowed_for(case_id)
    if allowed is None:
        assert not found, f"undocumented difference in {case_id}:\n" + "\n".join(found)
    else:
        assert found, f"{case_id} is listed under {allowed.name} but shows no difference"
        check_allowed(allowed.name, answers[OFFICIAL], answers[OURS])


def _header(answer: Answer, name: str) -> str | None:
    for key, value in answer.headers:
        if key.lower() == name:
            return value
    return None


def assert_same_headers(official: Answer, ours: Answer) -> None:
    same_headers = differences(
        {**normalise(official), "status": "", "body": b""},
        {**normalise(ours), "status": "", "body": b""},
    )
    assert not same_headers, "undocumented difference:\n" + "\n".join(same_headers)


def check_allowed(name: str, official: Answer, ours: Answer) -> None:
    """Each deliberate difference must look exactly as documented, nothing more."""
    if name == "signature-freshness":
        assert official.status == 200
        assert (ours.status, ours.body) == (401, b'{"message": "Unauthorized"}')
        transport = ["server", "date", "content-length", "connection"]
        assert sorted(key.lower() for key, _ in ours.headers) == sorted(
            ["content-type", "x-inngest-sdk-handled", "server-timing", *transport]
        )
    elif name == "non-json-post-body":
        # 0.5.18 answered 401; 0.5.19 answers 500 (a pydantic ValidationError). Both "unknown".
        assert official.status in (401, 500)
        assert json.loads(official.body)["code"] == "unknown"
        assert ours.status == 400
        assert json.loads(ours.body)["code"] == "body_invalid"
        assert _header(ours, "x-inngest-no-retry") == "true"
    elif name == "out-of-band-sync-failure":
        assert official.status == 200
        assert json.loads(official.body) == {"error": "stub refuses this sync"}
        assert ours.status == 500
        assert json.loads(ours.body) == {
            "code": "registration_failed",
            "message": "stub refuses this sync",
            "name": "RegistrationFailedError",
        }
        same_register_call = differences(
            {**normalise(official), "status": "", "headers": [], "body": b""},
            {**normalise(ours), "status": "", "headers": [], "body": b""},
        )
        assert not same_register_call, "undocumented difference:\n" + "\n".join(
            same_register_call
        )
    elif name == "error-body-name":
        assert (official.status, ours.status) == (400, 400)
        official_body, our_body = json.loads(official.body), json.loads(ours.body)
        if "message" in official_body and "Sync rejected" in official_body["message"]:
            # Ours adds how to switch modes after the official sentence.
            assert our_body["message"].startswith(official_body["message"] + ". ")
            official_body["message"] = our_body["message"]
        expected = {**official_body, "name": "ServerKindMismatchError"}
        assert our_body == expected
        assert list(json.loads(ours.body)) == list(expected)
        same_headers = differences(
            {**normalise(official), "status": "", "body": b""},
            {**normalise(ours), "status": "", "body": b""},
        )
        assert not same_headers, "undocumented difference:\n" + "\n".join(same_headers)
    elif name == "malformed-call":
        our_body = json.loads(ours.body)
        assert official.status == 500
        assert (ours.status, our_body["code"]) in (
            (400, "body_invalid"), (400, "query_param_invalid"), (400, "query_param_missing"),
            (404, "function_not_found"),
        )
        assert set(our_body) == {"code", "message", "name"}
        assert _header(ours, "x-inngest-no-retry") == "true"
        assert_same_headers(official, dataclasses.replace(ours, headers=[
            (key, value) for key, value in ours.headers if key.lower() != "x-inngest-no-retry"
        ]))
    else:
        raise AssertionError(f"no check for allowed difference {name}")
