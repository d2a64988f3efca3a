"""The checkpoint API's routes (``/v1/checkpoint/...`` and its older prefix
``/v1/http/runs/...``), answered as the dev server answers them (measured).

Request bodies are read as the server's Go decoder reads them: a field of the wrong JSON
type, a run id that is no ULID or a function id that is no UUID is a 400 naming it in Go's
words; ``null`` and missing fields are their zero values.
"""

from __future__ import annotations

import typing
import uuid

from inngest._engine import checkpoint
from inngest._engine.checkpoint import CheckpointError, CheckpointStep
from inngest._engine.engine import Engine
from inngest._engine.http.replies import BASE_HEADERS, Response, respond
from inngest._engine.models import JSON
from inngest._engine.payload import load_body
from inngest._protocol.opcodes import Opcode

ZERO_RUN_ID = "0" * 26
_ASYNC_TYPE = "apiv1.checkpointAsyncSteps"
_OPCODES = frozenset(op.value for op in Opcode)
# The Go types of the async checkpoint's fields, as its decoder names them in errors.
_ASYNC_FIELDS = {
    "run_id": "ulid.ULID", "fn_id": "uuid.UUID", "qi_id": "string", "request_id": "string",
    "generation_id": "int", "steps": "[]state.GeneratorOpcode", "ts": "int",
    "request_started_at": "int64",
}
_STEP_FIELDS = {"id": "string", "name": "string", "displayName": "string"}


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
        return isinstance(value, int) and not isinstance(value, bool)
    if go_type.startswith("[]"):
        return isinstance(value, list)
    return isinstance(value, str)


def _checked(value: typing.Mapping[str, JSON], fields: dict[str, str], where: str) -> None:
    for name, go_type in fields.items():
        field = value.get(name)
        if field is not None and not _fits(field, go_type):
            shown = _kind(field)
            if shown == "number" and go_type in ("int", "int64"):
                shown = f"number {field}"
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


def _step(value: JSON) -> CheckpointStep:
    if value is None:
        return CheckpointStep(Opcode.NONE.value, "", "", None)
    if not isinstance(value, typing.Mapping):
        raise BodyError(f"json: cannot unmarshal {_kind(value)} into Go struct field "
                        "checkpointAsyncSteps.steps of type state.GeneratorOpcode")
    op = value.get("op")
    if op is not None and not isinstance(op, str):
        raise BodyError(f"Opcode should be a string, got {op}")
    if op is not None and op not in _OPCODES:
        raise BodyError(f"{op} does not belong to Opcode values")
    _checked(value, _STEP_FIELDS, "GeneratorOpcode.steps")
    name = value.get("displayName") or value.get("name") or ""
    return CheckpointStep(op or Opcode.NONE.value, str(value.get("id") or ""), str(name),
                          value.get("data"))


def read_async(body: bytes) -> tuple[str, list[CheckpointStep]]:
    """The run id and steps of ``POST /v1/checkpoint/{runID}/async`` (the path's run id is
    not read: the body's is the one checkpointed)."""
    if not body.strip():
        raise BodyError("EOF")
    try:
        request = load_body(body)
    except ValueError as err:
        raise BodyError(str(err)) from None
    if not isinstance(request, typing.Mapping):
        if request is None:
            return ZERO_RUN_ID, []
        raise BodyError(f"json: cannot unmarshal {_kind(request)} into Go value of type "
                        f"{_ASYNC_TYPE}")
    _checked(request, _ASYNC_FIELDS, "checkpointAsyncSteps")
    run_id = _run_id(request.get("run_id"))
    _fn_id(request.get("fn_id"))
    steps = typing.cast(list[JSON], request.get("steps") or [])
    return run_id, [_step(step) for step in steps]


def _refused(status: int, message: str, run_id: str | None = None) -> Response:
    data: JSON = None if run_id is None else {"run_id": run_id}
    return respond(status, {"error": message, "data": data, "status": status})


class CheckpointRoutes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

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
