"""REST v1 bulk cancellations: ``POST /v1/cancellations`` cancels a function's unfinished
runs started in a time window (and whose triggering event matches ``if``), ``GET`` lists the
cancellations made and ``DELETE /v1/cancellations/{id}`` forgets one.

The dev server checks a request as below (same messages) and then fails with an empty 500:
it has no store for cancellations. Ours applies them as Inngest Cloud does; see
docs/compatibility.md.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing

from inngest._engine import cel, ulid
from inngest._engine.engine import Engine
from inngest._engine.http.replies import Response, respond, v1_error
from inngest._engine.models import JSON, Function, Run
from inngest._engine.payload import BodyError, Object, load_first
from inngest._engine.timeparse import parse_rfc3339, rfc3339

ACCOUNT_ID = "00000000-0000-4000-a000-000000000000"
ENV_ID = "00000000-0000-4000-b000-000000000000"
# started_before may be this far ahead of the server's clock.
FUTURE_SLACK_MS = 5000
INVALID_REQUEST = "Invalid cancellation request"
_UTC = datetime.timezone.utc


class _Invalid(Exception):
    """A body that does not decode into a cancellation request."""


@dataclasses.dataclass(frozen=True)
class Request:
    app_id: str = ""
    function_id: str = ""
    started_after: datetime.datetime | None = None
    started_before: datetime.datetime | None = None
    expression: str | None = None

    def problems(self, now_ms: int) -> list[str]:
        """What is wrong with the request, as the dev server words each problem."""
        found = []
        if not self.app_id:
            found.append("app_id is required")
        if not self.function_id:
            found.append("function_id is required")
        if self.started_before is None:
            found.append("started_before is required")
        elif _ms(self.started_before) > now_ms + FUTURE_SLACK_MS:
            found.append("started_before must be in the past")
        # A missing started_before is Go's zero time, before any started_after.
        if self.started_after is not None and (
                self.started_before is None or self.started_after > self.started_before):
            found.append("started_after must be before started_before")
        return found


def read(body: bytes) -> Request:
    """The request in ``body``: its first JSON value, keys matched case-insensitively and
    anything after it ignored, as Go's JSON decoder reads it."""
    try:
        value = load_first(body)
    except BodyError:
        raise _Invalid() from None
    if value is None:
        return Request()
    if not isinstance(value, dict):
        raise _Invalid()
    fields = {str(key).lower(): field for key, field in value.items()}
    return Request(
        app_id=_string(fields.get("app_id")) or "",
        function_id=_string(fields.get("function_id")) or "",
        started_after=_time(fields.get("started_after")),
        started_before=_time(fields.get("started_before")),
        expression=_string(fields.get("if")),
    )


def _string(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _Invalid()
    return value


def _time(value: object) -> datetime.datetime | None:
    text = _string(value)
    if text is None:
        return None
    moment = parse_rfc3339(text)
    if moment is None:
        raise _Invalid()
    return moment


def _ms(moment: datetime.datetime) -> int:
    return round(moment.timestamp() * 1000)


class Cancellations:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, body: bytes, **_: object) -> Response:
        try:
            request = read(body)
        except _Invalid:
            return v1_error(400, INVALID_REQUEST)
        now = self.engine.clock.now_ms()
        problems = request.problems(now)
        if problems:
            return v1_error(400, "\n".join(problems))
        fn = self._function(request.function_id)
        if fn is None:
            return v1_error(404, "function not found")
        if request.expression is not None:
            try:
                cel.validate(request.expression)
            except cel.ExpressionError as err:
                return v1_error(400, f"invalid expression: {err}")
        record = self._record(request, fn, now)
        with self.engine.store.transaction():
            self.engine.store.add_cancellation(str(record["id"]), record)
            for run in self._matching(request, fn):
                self.engine.runner.cancel(run.id)
        return self._reply(record)

    def index(self, **_: object) -> Response:
        return self._reply(typing.cast(JSON, self.engine.store.cancellations()))

    def delete(self, cancellation_id: str, **_: object) -> Response:
        if not ulid.is_ulid(cancellation_id):
            return v1_error(400, "Invalid cancellation ID")
        if not self.engine.store.delete_cancellation(cancellation_id.upper()):
            return v1_error(404, "Cancellation not found")
        return self._reply({"ok": True})

    def _reply(self, data: JSON) -> Response:
        return respond(200, {"data": data,
                             "metadata": {"fetched_at": rfc3339(self.engine.clock.now_ms())}})

    def _function(self, slug: str) -> Function | None:
        """The synced function with this slug (its ID as the SDK names it, app prefix
        included). As on the dev server, the request's app_id is not used: slugs are
        unique."""
        return next((fn for fn in self.engine.store.functions() if fn.slug == slug), None)

    def _record(self, request: Request, fn: Function, now: int) -> Object:
        """The cancellation as the API answers it, in Inngest's field order."""
        record: dict[str, JSON] = {
            "created_at": rfc3339(now), "name": None, "id": self.engine.ids.new(now),
            "account_id": ACCOUNT_ID, "environment_id": ENV_ID, "app_id": fn.app_id,
            "function_internal_id": fn.id, "function_id": fn.slug,
            "started_after": _rfc3339(request.started_after),
            "started_before": _rfc3339(request.started_before),
        }
        if request.expression is not None:
            record["if"] = request.expression
        record.update({"kind": "bulk_run", "cause": "API", "queue_name": None})
        return record

    def _matching(self, request: Request, fn: Function) -> list[Run]:
        """The function's unfinished runs started in the window whose event matches."""
        after = -1 if request.started_after is None else _ms(request.started_after)
        before = _ms(typing.cast(datetime.datetime, request.started_before))
        return [run for run in self.engine.store.active_runs(fn.id)
                if after <= run.created_at_ms <= before and self._event_matches(request, run)]

    def _event_matches(self, request: Request, run: Run) -> bool:
        if request.expression is None:
            return True
        stored = self.engine.store.event(run.event_ids[0]) if run.event_ids else None
        return cel.matches(request.expression, {"event": stored.event if stored else {}})


def _rfc3339(moment: datetime.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(_UTC).isoformat().replace("+00:00", "Z")
