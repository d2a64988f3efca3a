"""The checkpoint API's routes (``/v1/checkpoint/...`` and its older prefix
``/v1/http/runs/...``), answered as the dev server answers them (measured).

Request bodies are read as the server's Go decoder reads them: a field of the wrong JSON
type, a run id that is no ULID or a function id that is no UUID is a 400 naming it in Go's
words; ``null`` and missing fields are their zero values.
"""

from __future__ import annotations

import base64
import re
import time
import typing
import uuid

from inngest._engine import checkpoint, durable
from inngest._engine.checkpoint import CheckpointError, CheckpointStep
from inngest._engine.engine import Engine
from inngest._engine.http.replies import BASE_HEADERS, Response, encode, respond
from inngest._engine.models import JSON
from inngest._engine.payload import Text, go_int, load_float_texts, number_text
from inngest._engine.realtime import tokens
from inngest._engine.timeparse import rfc3339
from inngest._protocol.headers import Header
from inngest._protocol.opcodes import Opcode

ZERO_RUN_ID = "0" * 26
NO_RUN_TOKEN = "Unable to find run with auth token"
OUTPUT_WAIT_S = 300.0
OUTPUT_POLL_S = 0.05
STILL_RUNNING = b'{"status":"running","message":"run did not end within 5 minutes"}'
STREAM_TOPIC = "$stream"
# What the server's Go HTTP library labels a text body that came with no content type.
SNIFFED_TEXT = "text/plain; charset=utf-8"
# An endpoint's response headers: names that are HTTP tokens (others are left out), and the
# characters no value may hold.
_FIELD_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# A durable endpoint's realtime token outlives its longest streaming run (15 minutes).
REALTIME_EXPIRY_S = 16 * 60
_ASYNC_TYPE = "checkpointAsyncSteps"
_SYNC_TYPE = "checkpointSyncSteps"
_OPCODES = frozenset(op.value for op in Opcode)
# The Go types of the async checkpoint's fields, as its decoder names them in errors.
_ASYNC_FIELDS = {
    "run_id": "ulid.ULID", "fn_id": "uuid.UUID", "qi_id": "string", "request_id": "string",
    "generation_id": "int", "steps": "[]state.GeneratorOpcode", "ts": "int",
    "request_started_at": "int64",
}
_SYNC_FIELDS = {"run_id": "ulid.ULID", "fn_id": "uuid.UUID", "app_id": "uuid.UUID",
                "steps": "[]state.GeneratorOpcode"}
# The Go types of a step's struct fields, as the decoder names them.
_USERLAND_TYPE = 'struct { ID string "json:\\"id\\""; Index int "json:\\"index,omitempty\\"" }'
_STRUCT_TYPES = frozenset({"interval.Interval", "state.UserError", _USERLAND_TYPE})
_STEP_FIELDS = {"id": "string", "name": "string", "displayName": "string",
                "timing": "interval.Interval", "error": "state.UserError",
                "userland": _USERLAND_TYPE, "metadata": "[]metadata.ScopedUpdate"}
_STEP_PART_FIELDS = {
    "timing": {"a": "int64", "b": "int64"},
    "error": {"name": "string", "message": "string", "stack": "string", "noRetry": "bool"},
}
_STRUCT_NAMES = {"timing": "Interval", "error": "UserError"}
# Go's int and int64.
_INT64 = range(-(1 << 63), 1 << 63)
_NEW_RUN_FIELDS = {"run_id": "ulid.ULID", "idempotency": "string",
                   "steps": "[]state.GeneratorOpcode", "request_version": "int",
                   "retries": "int"}
_EVENT_FIELDS = {"name": "string", "id": "string", "ts": "int64", "v": "string"}
# The request fields of a durable endpoint's event (``body`` is base64, as Go's []byte).
_REQUEST_FIELDS = ("domain", "method", "path", "fn", "ip", "content_type", "query_params",
                   "body")


def _output_bytes(output: JSON) -> bytes:
    """A run's output as the server writes it: a text as it is, else its JSON."""
    if isinstance(output, Text):
        return output.encode("utf-8")
    return encode(output)


def _output_reply(output: JSON) -> Response:
    """A run's output as the output route answers with it: an HTTP response kept under
    ``data`` (a durable endpoint's that went async) is answered as it is (its status,
    headers and body), other outputs with 200."""
    data = output.get("data") if isinstance(output, typing.Mapping) else None
    response = _api_result(data)
    if response is None:
        return 200, dict(BASE_HEADERS), _output_bytes(output)
    status, headers, body = response
    out = {Header.SERVER_KIND: BASE_HEADERS[Header.SERVER_KIND], "content-type": SNIFFED_TEXT}
    out.update((name.lower(), _field_value(value)) for name, value in headers.items()
               if _FIELD_NAME.fullmatch(name))
    # Go sends a 1xx status as an informational answer, then the response as a 200.
    return max(status, 200), out, body.encode("utf-8")


def _field_value(value: str) -> str:
    """A header value as Go writes it: line breaks (and other control characters) as
    spaces, the text's UTF-8 bytes (here as the Latin-1 characters that the HTTP layer
    writes as those bytes)."""
    return _CONTROL.sub(" ", value).encode("utf-8").decode("latin-1")


def _api_result(data: JSON) -> tuple[int, dict[str, str], str] | None:
    """An HTTP response as the server's Go type reads it (``status``, ``headers``,
    ``body``), or None when it is not one (the server then writes the output as JSON)."""
    if not isinstance(data, typing.Mapping):
        return None
    status, headers, body = data.get("status"), data.get("headers") or {}, data.get("body")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 999:
        return None
    if not isinstance(headers, typing.Mapping) \
            or not all(isinstance(value, str) for value in headers.values()):
        return None
    if body is not None and not isinstance(body, str):
        return None
    return status, {str(name): str(value) for name, value in headers.items()}, body or ""


class BodyError(Exception):
    """A body the server's decoder refuses: ``invalid request body: ...``."""


def _kind(value: object) -> str:
    """A JSON value's kind, as Go's decoder names it."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(value: object, go_type: str) -> bool:
    if go_type in ("int", "int64"):
        whole = go_int(typing.cast(JSON, value))  # Go reads -0 into an integer as 0
        return whole is not None and whole in _INT64
    if go_type.startswith("[]"):
        return isinstance(value, list)
    if go_type in _STRUCT_TYPES:
        return isinstance(value, typing.Mapping)
    if go_type == "bool":
        return isinstance(value, bool)
    return isinstance(value, str)


def _checked(value: typing.Mapping[str, JSON], fields: dict[str, str], where: str) -> None:
    for name, go_type in fields.items():
        field = value.get(name)
        if field is not None and not _fits(field, go_type):
            shown = _kind(field)
            if shown == "number" and go_type in ("int", "int64"):
                shown = f"number {number_text(typing.cast(float, field))}"  # as sent
            raise BodyError(f"json: cannot unmarshal {shown} into Go struct field "
                            f"{where}.{name} of type {go_type}")


def _run_id(value: JSON) -> str:
    if value is None:
        return ZERO_RUN_ID
    text = str(value)
    if len(text) != 26:
        raise BodyError("ulid: bad data size when unmarshaling")
    if text[0] > "7":
        raise BodyError("ulid: overflow when unmarshaling")
    return text.upper()


def _fn_id(value: JSON) -> None:
    if value is None:
        return
    text = str(value)
    try:
        uuid.UUID(text)
    except ValueError:
        if len(text) not in (32, 36, 38, 41, 45):
            raise BodyError(f"invalid UUID length: {len(text)}") from None
        raise BodyError("invalid UUID format") from None


def _step(value: JSON, go_type: str) -> CheckpointStep:
    if value is None:
        return CheckpointStep(Opcode.NONE.value, "", "", None)
    if not isinstance(value, typing.Mapping):
        raise BodyError(f"json: cannot unmarshal {_kind(value)} into Go struct field "
                        f"{go_type}.steps of type state.GeneratorOpcode")
    op = value.get("op")
    if "op" in value and op is None:
        op = ""  # Go's enum decoder reads null as the empty name, which is no opcode
    if op is not None and not isinstance(op, str):
        raise BodyError(f"Opcode should be a string, got {op}")
    if op is not None and op not in _OPCODES:
        raise BodyError(f"{op} does not belong to Opcode values")
    _checked(value, _STEP_FIELDS, "GeneratorOpcode.steps")
    _step_parts(value)
    name = value.get("displayName") or value.get("name") or ""
    return CheckpointStep(op or Opcode.NONE.value, str(value.get("id") or ""), str(name),
                          value.get("data"), value)


def _step_parts(step: typing.Mapping[str, JSON]) -> None:
    """The fields of a step's timing, error and metadata, checked as Go decodes them."""
    for name, fields in _STEP_PART_FIELDS.items():
        part = step.get(name)
        if isinstance(part, typing.Mapping):
            _checked(part, fields, f"{_STRUCT_NAMES[name]}.steps.{name}")
    for update in typing.cast(list[JSON], step.get("metadata") or []):
        if update is not None and not isinstance(update, typing.Mapping):
            raise BodyError(f"json: cannot unmarshal {_kind(update)} into Go struct field "
                            "GeneratorOpcode.steps.metadata of type metadata.ScopedUpdate")


def _request(body: bytes, go_type: str) -> typing.Mapping[str, JSON] | None:
    """The body's JSON object (None for ``null``), or BodyError in the decoder's words."""
    if not body.strip():
        raise BodyError("EOF")
    try:
        request = load_float_texts(body)
    except ValueError as err:
        raise BodyError(str(err)) from None
    if request is not None and not isinstance(request, typing.Mapping):
        raise BodyError(f"json: cannot unmarshal {_kind(request)} into Go value of type "
                        f"apiv1.{go_type}")
    return request


def _steps(request: typing.Mapping[str, JSON], go_type: str) -> list[CheckpointStep]:
    steps = typing.cast(list[JSON], request.get("steps") or [])
    return [_step(step, go_type) for step in steps]


def read_async(body: bytes) -> tuple[str, list[CheckpointStep]]:
    """The run id and steps of ``POST /v1/checkpoint/{runID}/async`` (the path's run id is
    not read: the body's is the one checkpointed)."""
    return _read_steps(body, _ASYNC_TYPE, _ASYNC_FIELDS, ("fn_id",))


def read_sync(body: bytes) -> tuple[str, list[CheckpointStep]]:
    """The run id and steps of ``POST /v1/checkpoint/{runID}/steps`` (the body's run id)."""
    return _read_steps(body, _SYNC_TYPE, _SYNC_FIELDS, ("fn_id", "app_id"))


def _read_steps(body: bytes, go_type: str, fields: dict[str, str],
                uuid_fields: tuple[str, ...]) -> tuple[str, list[CheckpointStep]]:
    request = _request(body, go_type)
    if request is None:
        return ZERO_RUN_ID, []
    _checked(request, fields, go_type)
    run_id = _run_id(request.get("run_id"))
    for name in uuid_fields:
        _fn_id(request.get(name))
    return run_id, _steps(request, go_type)


def read_new_run(body: bytes) -> durable.NewRun:
    """``POST /v1/checkpoint``: any body the server's decoder refuses is a BodyError."""
    request = _request(body, "CheckpointNewRunRequest") or {}
    _checked(request, _NEW_RUN_FIELDS, "CheckpointNewRunRequest")
    event = _object(request.get("event"))
    if not isinstance(event, typing.Mapping):
        raise BodyError("event must be an object")
    _checked(event, _EVENT_FIELDS, "GenericEvent")
    data = _object(event.get("data"))
    if not isinstance(data, typing.Mapping):
        raise BodyError("event data must be an object")
    _checked(data, {name: "string" for name in _REQUEST_FIELDS}, "NewAPIRunData")
    _base64(data.get("body"))
    retries = request.get("retries")
    out: dict[str, JSON] = {
        "name": event.get("name") or "",
        "data": {name: data.get(name) or "" for name in _REQUEST_FIELDS},
        "ts": event.get("ts") or 0,
    }
    for name in ("id", "v"):
        if event.get(name):
            out[name] = event[name]
    version = request.get("request_version")
    return durable.NewRun(_run_id(request.get("run_id")), out,
                          _steps(request, "CheckpointNewRunRequest"),
                          retries if isinstance(retries, int) else 0,
                          version if isinstance(version, int) else 0)


def _object(value: JSON) -> JSON:
    """A struct field: null is its zero value (an empty one), anything else as it is."""
    return {} if value is None else value


def _base64(value: JSON) -> None:
    """A ``[]byte`` field: base64 text, as Go's decoder wants it."""
    if isinstance(value, str) and value:
        try:
            base64.b64decode(value, validate=True)
        except ValueError:  # binascii.Error, or a character beyond ASCII
            raise BodyError("illegal base64 data") from None


def _refused(status: int, message: str, run_id: str | None = None) -> Response:
    data: JSON = None if run_id is None else {"run_id": run_id}
    return respond(status, {"error": message, "data": data, "status": status})


class CheckpointRoutes:
    def __init__(self, engine: Engine, output_wait_s: float = OUTPUT_WAIT_S) -> None:
        self.engine = engine
        self.output_wait_s = output_wait_s

    def new_run(self, body: bytes, **_: object) -> Response:
        """A durable endpoint's run: its ids, a token to read its output (when it came with
        steps) and a realtime token for its stream."""
        try:
            request = read_new_run(body)
        except BodyError:
            return _refused(400, "Invalid request body")
        try:
            started = durable.start(self.engine, request)
        except durable.RunExists:
            return _refused(409, "Run already exists")
        now = self.engine.clock.now_ms()
        data: dict[str, JSON] = {"fn_id": started.fn_id, "app_id": started.app_id,
                                 "run_id": started.run_id}
        if request.steps:
            data["token"] = tokens.mint_run_claim(started.run_id, now)
        topic = tokens.Topic(kind="run", channel=started.run_id, name=STREAM_TOPIC)
        data["realtime_token"] = tokens.mint([topic], now, self.engine.ids.new(now),
                                             REALTIME_EXPIRY_S)
        return respond(200, {"data": data, "metadata": {"fetched_at": rfc3339(now)}})

    def sync_steps(self, body: bytes, **_: object) -> Response:
        """Steps of a durable endpoint's run: 200 with no body, also for a run that is not
        running (the server only logs that)."""
        try:
            run_id, steps = read_sync(body)
        except BodyError as err:
            return _refused(400, f"invalid request body: {err}")
        durable.apply_steps(self.engine, run_id, steps)
        return 200, dict(BASE_HEADERS), b""

    def output(self, query: dict[str, str], **_: object) -> Response:
        """A run's output for the holder of its run claim token (the path's run id is not
        read), once the run has ended: waited for up to five minutes, as on the server."""
        run_id = tokens.verify_run_claim(query.get("token", ""), self.engine.clock.now_ms())
        if run_id is None:
            return _refused(401, NO_RUN_TOKEN)
        deadline = time.monotonic() + self.output_wait_s
        while True:
            run = self.engine.store.run(run_id)
            if run is not None and run.status.ended:
                return _output_reply(run.output)
            if time.monotonic() >= deadline:
                return 200, dict(BASE_HEADERS), STILL_RUNNING
            time.sleep(OUTPUT_POLL_S)

    def async_steps(self, body: bytes, **_: object) -> Response:
        """Steps a call in progress ran: 200 with no body once saved."""
        try:
            run_id, steps = read_async(body)
        except BodyError as err:
            return _refused(400, f"invalid request body: {err}")
        try:
            checkpoint.save_async(self.engine.lifecycle, run_id, steps)
        except CheckpointError as err:
            return _refused(400, err.message, run_id)
        return 200, dict(BASE_HEADERS), b""
