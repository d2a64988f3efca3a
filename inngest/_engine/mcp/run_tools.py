"""The tools that drive the engine: send an event, invoke a function, read and poll runs.

Results (text and structured content), defaults and error texts follow the real dev
server's compatibility tools. Where it falls short, this engine does what the tool says:
``invoke_function_sync`` starts the function and waits for it (the real server sends an
event no function listens to, and always answers "function was not triggered by invoke
event"), and a run's ``steps`` list its steps (the real server's list is always empty).
"""

from __future__ import annotations

import time
import typing

from inngest._engine import events, ulid
from inngest._engine.engine import Engine
from inngest._engine.graphql.function_config import go_duration
from inngest._engine.mcp.tools import Arguments, Result, Tool, ToolFailed, object_schema
from inngest._engine.models import JSON, Function, Run, RunStatus
from inngest._engine.payload import load
from inngest._engine.timeparse import rfc3339_seconds

DEFAULT_TIMEOUT_S = 30
DEFAULT_POLL_INTERVAL_MS = 1000
MIN_POLL_INTERVAL_MS = 10
# How often invoke_function_sync looks at its run (the real server: each second).
INVOKE_POLL_S = 0.1
# A call holds one of the engine's HTTP workers while it waits: never longer than this.
MAX_WAIT_S = 300
_STATUS_NAMES = {RunStatus.QUEUED: "Scheduled"}
_DONE = frozenset({RunStatus.COMPLETED, RunStatus.SKIPPED})
_FAILED = frozenset({RunStatus.FAILED, RunStatus.CANCELLED})
_STEP_RESULTS = frozenset({"StepCompleted", "StepErrored", "StepFailed"})
_ZERO_ULID = "0" * 26
_ANY: dict[str, JSON] = {"description": "true"}  # what the real server lists for "any value"


def as_object(value: JSON, fallback_key: str) -> dict[str, JSON] | None:
    """Event data or user: an object as it is, a string holding one decoded, anything else
    wrapped as ``{fallback_key: value}``."""
    if value is None or isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            decoded = load(value)
        except ValueError:
            decoded = None
        if isinstance(decoded, dict):
            return decoded
    return {fallback_key: value}


def _event(name: str, args: Arguments) -> dict[str, JSON]:
    raw: dict[str, JSON] = {"name": name}
    for key, fallback in (("data", "value"), ("user", "id")):
        value = as_object(args.get(key), fallback)
        if value is not None:
            raw[key] = value
    return raw


def _ulid_problem(text: str) -> str | None:
    if len(text) != 26:
        return "ulid: bad data size when unmarshaling"
    if not ulid.is_ulid(text):
        return "ulid: bad data characters when unmarshaling"
    return None


class RunTools:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def tools(self) -> list[Tool]:
        integer: JSON = {"type": "integer"}
        string: JSON = {"type": "string"}
        return [
            Tool("send_event", "Send an event (deprecated)",
                 "Sends one event to the dev server and answers its event ID and the IDs of "
                 "the runs it started. Arguments: name (the event name, required), data (an "
                 "object; anything else is wrapped as {\"value\": data}), user (an object), "
                 "eventIdSeed (for deterministic event IDs). Kept for older integrations.",
                 object_schema({"name": string, "data": _ANY, "user": _ANY,
                                "eventIdSeed": string}, ["name"]),
                 self.send_event),
            Tool("get_run_status", "Run status (deprecated)",
                 "Reports one run: its status, function, trigger, steps with their errors, and "
                 "output. Argument: runId (required). Kept for older integrations; get_run "
                 "and get_run_trace are the newer tools on the real server.",
                 object_schema({"runId": string}, ["runId"]), self.get_run_status),
            Tool("poll_run_status", "Poll run statuses (deprecated)",
                 "Waits until every given run has finished or the time is up, then reports "
                 "them. Arguments: runIds (required), timeout (seconds, default 30), "
                 "pollInterval (milliseconds between checks, default 1000). Kept for older "
                 "integrations.",
                 object_schema({"runIds": {"type": ["null", "array"], "items": string},
                                "timeout": integer, "pollInterval": integer}, ["runIds"]),
                 self.poll_run_status),
            Tool("invoke_function_sync", "Invoke a function and wait (deprecated)",
                 "Starts a function directly and waits for its run to end, answering its "
                 "output or error. Arguments: functionId (required: the function's slug, ID "
                 "or name), data (an object; anything else is wrapped as {\"value\": data}), "
                 "user (an object), timeout (seconds to wait, default 30). Kept for older "
                 "integrations.",
                 object_schema({"functionId": string, "data": _ANY, "user": _ANY,
                                "timeout": integer}, ["functionId"]),
                 self.invoke_function_sync),
        ]

    # send_event

    def send_event(self, args: Arguments) -> Result:
        name = typing.cast(str, args["name"])
        event_id = self._send(_event(name, args), str(args.get("eventIdSeed") or ""))
        run_ids = [run.id for run in self.engine.store.runs_for_event(event_id)]
        message = f"Event '{name}' sent successfully"
        structured: dict[str, JSON] = {"eventId": event_id}
        if run_ids:
            structured["runIds"] = list(run_ids)
        structured.update(status="accepted", message=message)
        text = f"{message}\nEvent ID: {event_id}"
        if run_ids:
            listed = " ".join(run_ids)
            text += f"\nTriggered {len(run_ids)} function run(s): [{listed}]"
        else:
            text += "\nNo functions were triggered by this event"
        return Result(text, structured)

    def _send(self, raw: dict[str, JSON], seed_text: str) -> str:
        """Store the event and start its runs, as ``POST /e/{key}`` does for one event."""
        engine = self.engine
        seed = ulid.parse_seed(seed_text) if seed_text else None
        now = engine.clock.now_ms()
        internal_id = ulid.from_seed(seed, 0) if seed else engine.ids.new(now)
        try:
            event = events.normalize(raw, now, internal_id)
        except events.EventError as err:
            raise ToolFailed(f"failed to send event: {err}") from None
        with engine.store.transaction():
            if not (seed and engine.store.has_event(internal_id)):
                engine.runner.ingest(event, internal_id)
        return internal_id

    # get_run_status and poll_run_status

    def status(self, run_id: str) -> dict[str, JSON]:
        """A run as these tools report it; raises ``ToolFailed`` for a run not found."""
        problem = _ulid_problem(run_id)
        if problem:
            raise ToolFailed(f"invalid run ID format: {problem}")
        store = self.engine.store
        run = store.run(run_id.upper())
        if run is None:
            raise ToolFailed("failed to get run: sql: no rows in result set")
        fn = store.function(run.function_id)
        event_id = run.event_ids[0] if run.event_ids else _ZERO_ULID
        stored = store.event(event_id) if run.event_ids else None
        out: dict[str, JSON] = {
            "runId": run_id, "functionName": fn.name if fn else "Unknown Function",
            "status": _STATUS_NAMES.get(run.status, run.status.value),
            "startedAt": rfc3339_seconds(run.created_at_ms),
        }
        if run.ended_at_ms is not None:
            out["endedAt"] = rfc3339_seconds(run.ended_at_ms)
        out["eventId"] = event_id
        if stored is not None:
            out["eventName"] = stored.name
        out["steps"] = self._steps(run) or None
        if run.has_output and isinstance(run.output, dict):
            out["output"] = run.output
            error = run.output.get("error")
            if isinstance(error, str) and error:
                out["error"] = error
        return out

    def _steps(self, run: Run) -> list[JSON]:
        """The run's step results in order, from its history."""
        names = self.engine.store.step_info(run.id)
        steps: list[JSON] = []
        for item in self.engine.store.history(run.id):
            step_id = str(item.get("stepID") or "")
            failed = item.get("type") != "StepCompleted" or bool(item.get("stepFailed"))
            # A call's reply that is no step's (the function returning) names no step.
            if item.get("type") not in _STEP_RESULTS or not (step_id or failed):
                continue
            step: dict[str, JSON] = {
                "stepName": names.get(step_id, (str(item.get("stepName") or ""), ""))[0],
                "stepId": step_id, "status": "failed" if failed else "completed",
                "startedAt": rfc3339_seconds(int(typing.cast(int, item.get("createdAt") or 0))),
                "attempt": item.get("attempt") or 0,
            }
            if failed:
                step["error"] = _error_text(item.get("output"))
            steps.append(step)
        return steps

    def get_run_status(self, args: Arguments) -> Result:
        status = self.status(typing.cast(str, args["runId"]))
        text = f"Run Status: {status['status']}\nFunction: {status['functionName']}\n" \
               f"Started: {status['startedAt']}\n"
        if "endedAt" in status:
            text += f"Ended: {status['endedAt']}\n"
        if "eventName" in status:
            text += f"Triggered by: {status['eventName']}\n"
        steps = typing.cast("list[dict[str, JSON]] | None", status["steps"])
        if steps:
            text += f"\nSteps ({len(steps)}):\n"
            for step in steps:
                text += f"  - {step['stepName']}: {step['status']} (attempt {step['attempt']})\n"
                if "error" in step:
                    text += f"    Error: {step['error']}\n"
        if "error" in status:
            text += f"\nError: {status['error']}\n"
        return Result(text, status)

    def poll_run_status(self, args: Arguments) -> Result:
        run_ids = [str(run_id) for run_id in typing.cast("list[JSON]", args.get("runIds") or [])]
        if not run_ids:
            raise ToolFailed("runIds array cannot be empty")
        timeout = typing.cast(int, args.get("timeout") or DEFAULT_TIMEOUT_S)
        interval = typing.cast(int, args.get("pollInterval") or DEFAULT_POLL_INTERVAL_MS)
        started = time.monotonic()
        deadline = started + min(timeout, MAX_WAIT_S)
        last: dict[str, JSON] | None = None
        while time.monotonic() < deadline:
            last = self._poll_once(run_ids)
            if last["running"] == 0:
                break
            time.sleep(max(interval, MIN_POLL_INTERVAL_MS) / 1000)
        if last is None:
            raise ToolFailed("no valid runs found")
        elapsed = go_duration(round((time.monotonic() - started) * 1000) * 1_000_000)
        return Result(_poll_text(len(run_ids), elapsed, last), last)

    def _poll_once(self, run_ids: list[str]) -> dict[str, JSON]:
        runs: list[JSON] = []
        counts = {"completed": 0, "running": 0, "failed": 0}
        for run_id in run_ids:
            try:
                status = self.status(run_id)
            except ToolFailed:
                continue  # as the real server: a run not found is left out
            runs.append(status)
            counts[_tally(str(status["status"]))] += 1
        return {"runs": runs or None, **counts}

    # invoke_function_sync

    def invoke_function_sync(self, args: Arguments) -> Result:
        wanted = typing.cast(str, args["functionId"])
        fn = self._function(wanted)
        timeout = typing.cast(int, args.get("timeout") or DEFAULT_TIMEOUT_S)
        started = time.monotonic()
        try:
            event_id, run = invoke(self.engine, fn, _event(events.FUNCTION_INVOKED, args))
        except events.EventError as err:
            raise ToolFailed(f"failed to invoke function: {err}") from None
        if run is None:
            raise ToolFailed("function was not triggered by invoke event")
        deadline = started + min(timeout, MAX_WAIT_S)
        while True:
            if time.monotonic() > deadline:
                raise ToolFailed(f"function invocation timed out after {timeout} seconds")
            status = self.status(run.id)
            kind = _tally(str(status["status"]))
            if kind != "running":
                break
            time.sleep(INVOKE_POLL_S)
        duration = round((time.monotonic() - started) * 1000)
        return _invoked(fn, run.id, event_id, duration, status, kind == "completed")

    def _function(self, wanted: str) -> Function:
        for fn in self.engine.store.functions():
            if wanted in (fn.id, fn.slug, fn.name):
                return fn
        raise ToolFailed(f"function not found: {wanted}")


def invoke(engine: Engine, fn: Function, raw: dict[str, JSON]) -> tuple[str, Run | None]:
    """Start ``fn`` with the ``data`` and ``user`` of ``raw`` as the GraphQL
    ``invokeFunction`` does: the invocation event's id, and the run (None when flow control
    holds it back). Raises ``events.EventError`` for an event the engine refuses."""
    data = typing.cast("dict[str, JSON]", raw.get("data") or {})
    invoked = {**raw, "name": events.FUNCTION_INVOKED,
               "data": {**data, events.INTERNAL_DATA_KEY: {"fn_id": fn.id}}}
    [event_id] = engine.runner.publish([invoked])
    run = next((run for run in engine.store.runs_for_event(event_id)
                if run.function_id == fn.id), None)
    return event_id, run


def _tally(status: str) -> str:
    if status in {s.value for s in _DONE}:
        return "completed"
    if status in {s.value for s in _FAILED} or status == "Overflowed":
        return "failed"
    return "running"


def _error_text(output: JSON) -> str:
    """A step error's message, from the error object the SDK sent (stored as JSON text)."""
    try:
        error = load(output) if isinstance(output, str) and output else output
    except ValueError:
        return str(output)
    if isinstance(error, dict):
        for key in ("message", "name"):
            if isinstance(error.get(key), str) and error[key]:
                return str(error[key])
    return "" if error is None else str(error)


def _poll_text(asked: int, elapsed: str, result: dict[str, JSON]) -> str:
    text = f"Polled {asked} run(s) for {elapsed}\n" \
           f"Status: {result['completed']} completed, {result['failed']} failed, " \
           f"{result['running']} running\n\n"
    for run in typing.cast("list[dict[str, JSON]]", result["runs"] or []):
        text += f"--- Run {run['runId']} ---\nFunction: {run['functionName']}\n" \
                f"Status: {run['status']}\nStarted: {run['startedAt']}\n"
        if "endedAt" in run:
            text += f"Ended: {run['endedAt']}\n"
        if "error" in run:
            text += f"Error: {run['error']}\n"
        steps = typing.cast("list[dict[str, JSON]] | None", run["steps"])
        if steps:
            text += f"Steps: {len(steps)}\nLast step: {steps[-1]['stepName']} " \
                    f"({steps[-1]['status']})\n"
        text += "\n"
    return text


def _invoked(fn: Function, run_id: str, event_id: str, duration: int,
             status: dict[str, JSON], completed: bool) -> Result:
    out: dict[str, JSON] = {"runId": run_id, "functionName": fn.name,
                            "status": status["status"]}
    if completed and "output" in status:
        out["output"] = status["output"]
    out.update(duration=duration, eventId=event_id)
    if "error" in status:
        out["error"] = status["error"]
    verb = "invoked successfully" if completed else "failed"
    text = f"Function '{fn.name}' {verb}\nStatus: {status['status']}\nDuration: {duration}ms\n"
    if completed and "output" in status:
        text += "Function completed with output\n"
    if not completed and "error" in status:
        text += f"Error: {status['error']}\n"
    return Result(text, out)
