"""Durable endpoints: runs that an app's own HTTP route executes within its request (the
JS SDK's ``inngest.endpoint``), reported through the checkpoint API.

The SDK starts the run (``POST /v1/checkpoint``) with the request as its event, then reports
its steps and its HTTP response (a ``RunComplete`` op whose data is the response's status,
headers and body) as it goes. The engine keeps such runs as the Inngest dev server does: an
``API`` app named after the endpoint's domain and a function named after its method and
path, with ids derived as the server derives them; the run ends Completed for a 2xx
response, else Failed, its output being the response body (JSON when it parses).

An endpoint that reports a sleep, a wait or a step error to retry has gone async: the SDK
redirects its caller to the output route, and the engine continues the run as the server
does, by calling the endpoint again (``inngest/_engine/reentry.py``) until it completes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import typing
import uuid

from inngest._engine import defers, events, registration, ulid
from inngest._engine.checkpoint import CheckpointStep, save_step
from inngest._engine.engine import Engine
from inngest._engine.models import API_METHOD, JSON, App, Function, Run, RunStatus
from inngest._engine.payload import Text, load
from inngest._engine.realtime.tokens import ENV_ID
from inngest._engine.responses import Op
from inngest._protocol.opcodes import Opcode

log = logging.getLogger("inngest.engine")

_STEP_OPS = (Opcode.STEP, Opcode.STEP_RUN)
# What the server retries a durable endpoint's steps with when the SDK does not say.
DEFAULT_RETRIES = 4


class RunExists(Exception):
    """A running run has the id the SDK chose."""


@dataclasses.dataclass(frozen=True)
class NewRun:
    """``POST /v1/checkpoint``: the request as an event (its ``data`` has the endpoint's
    ``domain``, ``method``, ``path`` and optional ``fn`` name), and the steps run so far."""

    run_id: str
    event: dict[str, JSON]
    steps: list[CheckpointStep]
    retries: int
    # The SDK's execution version: the x-inngest-req-version of the calls that continue it.
    version: int = 0

    @property
    def data(self) -> typing.Mapping[str, JSON]:
        data = self.event.get("data")
        return data if isinstance(data, typing.Mapping) else {}

    def _text(self, name: str) -> str:
        value = self.data.get(name)
        return value if isinstance(value, str) else ""

    @property
    def domain(self) -> str:
        return self._text("domain")

    @property
    def slug(self) -> str:
        return self._text("fn") or f"{self._text('method')} {self._text('path')}"


@dataclasses.dataclass(frozen=True)
class Started:
    run_id: str
    fn_id: str
    app_id: str


def derived_id(parent: uuid.UUID, name: str) -> uuid.UUID:
    """The server's deterministic id: a SHA-1 (version 5) UUID in the OID namespace of the
    parent id's bytes followed by the name."""
    digest = hashlib.sha1(uuid.NAMESPACE_OID.bytes + parent.bytes + name.encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=5)


def ids(request: NewRun) -> tuple[uuid.UUID, uuid.UUID]:
    """The app's and the function's ids for an endpoint."""
    app_id = derived_id(uuid.UUID(ENV_ID), request.domain)
    return app_id, derived_id(app_id, request.slug)


def start(engine: Engine, request: NewRun) -> Started:
    """Start a durable endpoint's run (its app and function made or kept) and apply the
    steps it reports with it. Raises RunExists while a run with its id is running; a run
    with its id that has ended is left as it is (the server makes a new one)."""
    app_id, fn_id = ids(request)
    started = Started(request.run_id, str(fn_id), str(app_id))
    store = engine.store
    with store.transaction():
        existing = store.run(request.run_id)
        if existing is not None:
            if not existing.status.ended:
                raise RunExists(request.run_id)
            return started
        fn = _upsert(engine, request, started)
        now = engine.clock.now_ms()
        created = ulid.timestamp_ms(request.run_id) or now
        run = Run(id=request.run_id, function_id=fn.id, function_version=fn.version,
                  event_ids=_publish(engine, request.event), created_at_ms=created,
                  event_seq=store.last_event_seq(), status=RunStatus.RUNNING,
                  started_at_ms=created, version=request.version)
        store.add_run(run)
        engine.lifecycle.history.scheduled(run)
    log.info("run %s of durable endpoint %s started", run.id, fn.slug)
    apply_steps(engine, run.id, request.steps)
    return started


def _upsert(engine: Engine, request: NewRun, started: Started) -> Function:
    store = engine.store
    try:
        url = registration.normalize_url(request.domain)
    except registration.UrlError:
        url = request.domain
    app = store.app(started.app_id)
    if app is None or app.url != url:
        store.put_app(App(id=started.app_id, name=request.domain, url=url, method=API_METHOD,
                          updated_at_ms=engine.clock.now_ms()))
    retries = DEFAULT_RETRIES if request.retries < 0 else request.retries
    config: dict[str, JSON] = {
        "id": request.slug, "name": request.slug, "triggers": [],
        "steps": {"step": {"id": "step", "name": request.slug,
                           "runtime": {"type": "http", "url": request.domain},
                           "retries": {"attempts": retries}}},
    }
    fn = store.function(started.fn_id)
    if fn is None or fn.config != config:
        fn = Function(id=started.fn_id, app_id=started.app_id, slug=request.slug,
                      name=request.slug, url=request.domain, config=config)
        store.put_function(fn)
    return fn


def _publish(engine: Engine, event: dict[str, JSON]) -> list[str]:
    """The request's event, sent as any event is (it may trigger functions), with a
    timestamp before 1980 kept, as the server keeps it: a rerun of the run starts from it.
    None when it cannot be sent (the server starts the run all the same)."""
    try:
        return engine.runner.publish([event], lenient_ts=True)
    except events.EventError as err:
        log.info("durable endpoint event not stored: %s", err)
        return []


def apply_steps(engine: Engine, run_id: str, steps: list[CheckpointStep]) -> None:
    """Save the steps a durable endpoint ran and end its run on its response. The other
    ops (a sleep, a wait, a step error, parallel steps...) mean the endpoint went async:
    the engine acts on them as on a reply and continues the run by calling the endpoint.
    Steps of a run that is not running are dropped, as the server drops them (logged)."""
    run = engine.store.run(run_id)
    if run is None or run.status.ended:
        log.info("durable endpoint steps for run %s dropped: the run is not running", run_id)
        return
    # Defers are kept first (as the server does): the run may end at its response.
    for step in steps:
        if step.op in defers.OPS:
            defers.record(engine.store, run.id, step.op, step.id, step.raw)
    ops: list[Op] = []
    for step in steps:
        if step.op in defers.OPS:
            continue
        if step.op in _STEP_OPS:
            save_step(engine.lifecycle, run, step)
        elif step.op == Opcode.RUN_COMPLETE:
            _complete(engine, run, step.data)
            return
        else:
            ops.append(Op(step.op, step.id, step.raw))
    if ops:
        log.info("run %s of a durable endpoint goes async (%s)", run.id,
                 ", ".join(op.op for op in ops))
        engine.executor.continue_endpoint(run, ops)


def _complete(engine: Engine, run: Run, result: JSON) -> None:
    """End the run on the endpoint's response: its status decides, its body is the output."""
    response = result if isinstance(result, typing.Mapping) else {}
    status, body = response.get("status"), response.get("body")
    succeeded = isinstance(status, int) and 200 <= status <= 299
    text = body if isinstance(body, str) else ""
    engine.lifecycle.finish(run.id, RunStatus.COMPLETED if succeeded else RunStatus.FAILED,
                            body_output(text), has_output=True)


def body_output(body: str) -> JSON:
    """A response body as a run's output: its JSON value, or the text when it is not JSON."""
    try:
        return load(body)
    except ValueError:
        return Text(body)
