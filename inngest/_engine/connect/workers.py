"""The connected workers, and calls of their functions routed to them instead of HTTP.

A function synced through a worker's connection has a ``wss://connect/`` URL: calling it
sends an executor request to a ready connection of its app and waits for the worker's
reply, which becomes the answer an HTTP call would have had. The worker acks the request,
holds a lease on it and extends it while it runs. As on the dev server, the call checks the
lease every ``LEASE_CHECK_SECONDS`` from its start; once the lease has run out, a reply has
``GRACE_SECONDS`` more to come, then the call fails (the worker stopped responding: 125 to
155 s after the call or the worker's last extension). A request whose connection ends or
pauses before the worker acked it, or that it did not ack within ``ACK_SECONDS``, is sent
again, within the same call, to another ready connection of its app or the same one
(``MAX_FORWARDS`` sends in all, then the call fails); an acked request outlives its
connection: a worker that reconnects (during a graceful shutdown, say) extends the lease and
replies on its new one.

When the app's connections are all paused (draining, as during a worker's rollout), a call
looks again every second, ``DRAINING_RETRIES`` times, for one that is ready before it fails;
with none at all, it fails at once. Failed calls fail their attempt with the dev server's
error (``CallFailed``).

A worker instance may cap the requests it runs at once (its connect message's
``max_worker_concurrency``, across its connections; 0 or none: no cap). A call finds a
connection whose instance has room; when every ready one is full, the executor holds the
call back without using an attempt (``has_room``), as the dev server does (and a call that
got past that check at the same time as another waits for room).
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import typing
import urllib.parse

from inngest._engine import ulid
from inngest._engine.connect import messages
from inngest._engine.errors import CallFailed
from inngest._engine.models import CONNECT_METHOD, App, Function
from inngest._engine.realtime.tokens import ACCOUNT_ID, ENV_ID
from inngest._engine.store import Store
from inngest._protocol.headers import Header
from inngest._transport import OutboundRequest, Response, Transport

# The dev server's constants (pkg/consts): a request's lease, from its call or its last
# extension; how often a call checks it (from its start); how long a reply may still come
# once it has run out.
LEASE_SECONDS = 120.0
LEASE_CHECK_SECONDS = LEASE_SECONDS / 4
GRACE_SECONDS = 5.0
# A request its worker does not ack within this long of its send is sent again.
ACK_SECONDS = LEASE_SECONDS + GRACE_SECONDS
# While the app's connections are all draining, a route is looked for again this many times,
# this many seconds apart (the dev server's router).
DRAINING_RETRIES = 10
DRAINING_RETRY_SECONDS = 1.0
# A failed call's lease is kept this long (the dev server's lease record: the maximum
# function timeout plus a lease), and extended when its worker asks.
LAPSED_LEASE_SECONDS = 2 * 60 * 60 + LEASE_SECONDS
MAX_FORWARDS = 3  # sends of one request to a connection before its call fails
_STATUSES: dict[int, int] = {
    messages.SDKStatus.DONE: 200, messages.SDKStatus.NOT_COMPLETED: 206,
    messages.SDKStatus.ERROR: 500,
}


class Gone(Exception):
    """The connection ended: nothing more can be sent on it."""


class _Lost(Exception):
    """The request's connection ended or paused before the worker acked it."""


class _Unroutable(Exception):
    """No connection to send a request to: the router's reason, and the system code and
    message a call's first route fails with."""

    def __init__(self, reason: str, system_code: str, message: str) -> None:
        super().__init__(reason)
        self.reason, self.system_code, self.message = reason, system_code, message


# The dev server's errors: (router's reason,) system code, message.
NO_HEALTHY_CONNECTION = ("no healthy connection", "connect_no_healthy_connection",
                         "Could not find a healthy connection")
ALL_AT_CAPACITY = ("all connect workers at capacity", "connect_all_workers_at_capacity",
                   "All workers are at capacity")
STOPPED_RESPONDING = ("The worker stopped responding to the request.",
                      "connect_worker_stopped_responding")
TOO_LONG = ("The worker took longer than the maximum request duration to respond to the "
            "request.", "request_duration_too_long")


class Connection(typing.Protocol):
    """A worker's connection, as the gateway keeps it."""

    connection_id: str
    instance_id: str
    app_names: frozenset[str]

    def send(self, kind: messages.Kind, payload: bytes) -> None:
        """Raises ``Gone`` once the connection has ended."""


@dataclasses.dataclass
class Lease:
    """A request's lease, as the dev server's gateway keeps it."""

    lease_id: str
    ends: float  # monotonic
    # The lease before the current one, and the worker instance whose extension made the
    # current one: that instance asking again with the previous lease gets the current one.
    previous_id: str | None = None
    holder: str | None = None
    # The instance the request is routed to, while the call waits (the dev server's
    # request-to-worker mapping, which a capped instance's extension must match).
    routed_to: str | None = None

    def extend(self, lease_id: str, instance_id: str, now_ms: int) -> str | None:
        """The lease after ``instance_id``'s extension of ``lease_id`` (None: refused)."""
        if self.lease_id != lease_id and time.monotonic() < self.ends:
            # Another's lease, still running; the same instance asking again with the
            # lease it extended (its ack lost, say) gets the current one.
            if lease_id == self.previous_id and self.holder == instance_id:
                return self.lease_id
            return None
        # The current lease, or any once it has run out, is extended.
        self.previous_id, self.holder = self.lease_id, instance_id
        self.lease_id = new_lease_id(now_ms)
        self.ends = time.monotonic() + LEASE_SECONDS
        return self.lease_id


@dataclasses.dataclass
class Pending:
    """A request sent to a worker and not yet answered."""

    request: messages.ExecutorRequest
    connection: Connection
    lease: Lease
    next_check: float  # when the lease is checked next (each LEASE_CHECK_SECONDS from the
    # call's start)
    # Set once there is news for the caller: a reply, an ack, or the request was lost.
    news: threading.Event = dataclasses.field(default_factory=threading.Event)
    reply: messages.SDKResponse | None = None
    acked: bool = False
    lost: bool = False
    lease_lost: bool = False  # it ran out, and no reply came in the grace period
    holds_room: bool = True  # counted in its connection's instance's running requests


class Workers:
    """Ready connections by app name, and the requests they hold."""

    def __init__(self, ids: ulid.Generator) -> None:
        self.ids = ids
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # notified when a request ends
        self._ready: list[Connection] = []
        self._draining: list[Connection] = []  # paused, and not ended
        self._pending: dict[str, Pending] = {}
        # The leases of failed calls, by request id, with when they are let go: as on the
        # dev server, only an answered request's lease is let go at once.
        self._lapsed: dict[str, tuple[Lease, float]] = {}
        self._capacity: dict[str, int] = {}  # by instance id; none: no cap
        self._running: dict[str, int] = {}  # requests sent and not answered, by instance id

    def limit(self, instance_id: str, capacity: int | None) -> None:
        """The instance's cap, as its newest connection gives it (0 or None: no cap)."""
        with self._lock:
            if capacity and capacity > 0:
                self._capacity[instance_id] = capacity
            else:
                self._capacity.pop(instance_id, None)
            self._room.notify_all()

    def has_room(self, app_name: str) -> bool:
        """Whether a call of the app would find room: False only when it has ready
        connections and their instances are all full."""
        with self._lock:
            ready = [c for c in self._ready if app_name in c.app_names]
            return not ready or any(self._free(c.instance_id) for c in ready)

    def _free(self, instance_id: str) -> bool:
        cap = self._capacity.get(instance_id)
        return cap is None or self._running.get(instance_id, 0) < cap

    def add(self, connection: Connection) -> None:
        """``connection`` is ready for requests."""
        with self._lock:
            if connection not in self._ready:
                self._ready.append(connection)
            self._room.notify_all()

    def pause(self, connection: Connection) -> None:
        """No more requests go to ``connection``, which drains; those it was sent and did
        not ack go to another (those it acked may still be answered)."""
        with self._lock:
            if connection not in self._draining:
                self._draining.append(connection)
        self._stop(connection)

    def remove(self, connection: Connection) -> None:
        """The connection ended (the requests it acked wait for a reply on another
        connection while their lease lasts)."""
        with self._lock:
            if connection in self._draining:
                self._draining.remove(connection)
        self._stop(connection)

    def _stop(self, connection: Connection) -> None:
        """No more requests go to ``connection``; those it was sent and did not ack are
        lost to it."""
        with self._lock:
            if connection in self._ready:
                self._ready.remove(connection)
            self._room.notify_all()
            lost = [p for p in self._pending.values()
                    if p.connection is connection and not p.acked and not p.lost]
            for pending in lost:
                pending.lost = True
        for pending in lost:
            pending.news.set()

    def call(self, request: messages.ExecutorRequest, timeout: float) -> messages.SDKResponse:
        """Send ``request`` to a ready connection of its app and wait for the reply; raises
        ``CallFailed`` when there is none, or no reply comes in time."""
        started = time.monotonic()
        deadline = started + timeout
        with self._lock:
            try:
                connection = self._route(request.app_name, deadline)
            except _Unroutable as unroutable:
                raise CallFailed(unroutable.message, unroutable.system_code) from None
            lease = Lease(request.lease_id, started + LEASE_SECONDS,
                          routed_to=connection.instance_id)
            self._lapsed.pop(request.request_id, None)
            pending = self._pending[request.request_id] = Pending(
                request, connection, lease, started + LEASE_CHECK_SECONDS)
            self._hold(connection.instance_id)
        answered = False
        try:
            reply = self._forward(pending, deadline)
            answered = True
            return reply
        finally:
            with self._lock:
                self._pending.pop(request.request_id, None)
                self._let_go(pending)
                if not answered:
                    self._forget_lapsed()
                    lease.routed_to = None
                    self._lapsed[request.request_id] = (
                        lease, time.monotonic() + LAPSED_LEASE_SECONDS)

    def _forward(self, pending: Pending, deadline: float) -> messages.SDKResponse:
        """Send the request, and again to another connection each time it is lost, up to
        ``MAX_FORWARDS`` sends in all."""
        sends = 1
        while True:
            try:
                return self._send_and_wait(pending, deadline)
            except _Lost:
                if sends == MAX_FORWARDS:
                    raise CallFailed(
                        "failed to route request to gateway: gateway could not forward to "
                        f"connection {pending.connection.connection_id}: connection not "
                        "available") from None
            self._reroute(pending, deadline)
            sends += 1

    def _send_and_wait(self, pending: Pending, deadline: float) -> messages.SDKResponse:
        try:
            pending.connection.send(messages.Kind.GATEWAY_EXECUTOR_REQUEST,
                                    pending.request.encode())
        except Gone:
            self.remove(pending.connection)  # before its own thread does: not a route again
            raise _Lost() from None
        return self._wait(pending, deadline)

    def _reroute(self, pending: Pending, deadline: float) -> None:
        """Move the lost request to the newest ready connection of its app with room
        (``CallFailed`` when there is none)."""
        with self._lock:
            self._let_go(pending)
            try:
                pending.connection = self._route(pending.request.app_name, deadline,
                                                 wait_for_room=False)
            except _Unroutable as unroutable:
                raise CallFailed(
                    f"failed to route request to gateway: {unroutable.reason}") from None
            pending.lease.routed_to = pending.connection.instance_id
            self._hold(pending.connection.instance_id)
            pending.holds_room, pending.lost = True, False
            if pending.reply is None:
                pending.news.clear()

    def _hold(self, instance_id: str) -> None:
        """One more request runs on the instance (the lock held)."""
        self._running[instance_id] = self._running.get(instance_id, 0) + 1

    def _let_go(self, pending: Pending) -> None:
        """The request no longer counts against its instance's room (the lock held)."""
        if not pending.holds_room:
            return
        pending.holds_room = False
        instance = pending.connection.instance_id
        self._running[instance] -= 1
        if not self._running[instance]:
            del self._running[instance]
        self._room.notify_all()

    def _route(self, app_name: str, deadline: float, wait_for_room: bool = True) -> Connection:
        """The newest ready connection of the app with room, once one has (the lock held;
        ``_Unroutable`` when none has)."""
        retries = 0
        while True:
            ready = [c for c in reversed(self._ready) if app_name in c.app_names]
            if not ready:
                if retries == DRAINING_RETRIES or not any(
                        app_name in c.app_names for c in self._draining):
                    raise _Unroutable(*NO_HEALTHY_CONNECTION)
                retries += 1
                self._sleep(DRAINING_RETRY_SECONDS, deadline)
                continue
            connection = next((c for c in ready if self._free(c.instance_id)), None)
            if connection is not None:
                return connection
            if not wait_for_room or not self._room.wait(
                    max(0.0, deadline - time.monotonic())):
                raise _Unroutable(*ALL_AT_CAPACITY)

    def _sleep(self, seconds: float, deadline: float) -> None:
        """Let ``seconds`` pass (no later than ``deadline``) with the lock let go, whatever
        happens meanwhile: the router looks again on its own schedule."""
        until = min(time.monotonic() + seconds, deadline)
        while (left := until - time.monotonic()) > 0:
            self._room.wait(left)

    def _wait(self, pending: Pending, deadline: float) -> messages.SDKResponse:
        """The reply, once it comes. As on the dev server: a request the worker does not ack
        within ``ACK_SECONDS`` of its send is lost (sent again); the lease is checked each
        ``LEASE_CHECK_SECONDS`` from the call's start and, once it has run out, the reply has
        ``GRACE_SECONDS`` more; after that the call fails as soon as the worker has acked."""
        ack_by = time.monotonic() + ACK_SECONDS
        while True:
            if pending.lease_lost and pending.acked:
                raise CallFailed(*STOPPED_RESPONDING)
            until = deadline if pending.lease_lost else min(pending.next_check, deadline)
            reply = self._news(pending, until if pending.acked else min(until, ack_by))
            if reply is not None:
                return reply
            now = time.monotonic()
            if now >= deadline:
                raise CallFailed(*TOO_LONG)
            if not pending.acked and now >= ack_by:
                raise _Lost()
            if not pending.lease_lost and now >= pending.next_check:
                pending.next_check += LEASE_CHECK_SECONDS
                reply = self._lease_check(pending, deadline)
                if reply is not None:
                    return reply

    def _lease_check(self, pending: Pending, deadline: float) -> messages.SDKResponse | None:
        """When the lease has run out: the reply if it comes within ``GRACE_SECONDS``, else
        the lease is lost for good."""
        with self._lock:
            if time.monotonic() < pending.lease.ends:
                return None
        reply = self._news(pending, min(time.monotonic() + GRACE_SECONDS, deadline))
        if reply is None:
            pending.lease_lost = True
        return reply

    def _news(self, pending: Pending, until: float) -> messages.SDKResponse | None:
        """The reply, if it comes by ``until``; None if it does not, or if the worker acks
        once the lease is lost. Raises ``_Lost`` when the request is lost instead."""
        while pending.news.wait(max(0.0, until - time.monotonic())):
            with self._lock:
                if pending.reply is not None:
                    return pending.reply
                if pending.lost:
                    raise _Lost()
                pending.news.clear()  # an ack
                if pending.lease_lost and pending.acked:
                    return None
        return None

    def ack(self, request_id: str, connection: Connection) -> None:
        """The worker on ``connection`` has the request (an ack on a connection the request
        was not sent on counts for nothing, as on the dev server)."""
        with self._lock:
            pending = self._pending.get(request_id)
            if pending is None or pending.connection is not connection or pending.lost:
                return
            pending.acked = True
        pending.news.set()

    def reply(self, reply: messages.SDKResponse) -> None:
        """A worker's reply, on whichever connection it came (the JS SDK sends it on its
        newest); one for a request that is not waiting (answered, failed, unknown) is
        dropped."""
        with self._lock:
            pending = self._pending.get(reply.request_id)
            if pending is None or pending.reply is not None:
                return
            pending.reply = reply
        pending.news.set()

    def extend_lease(self, request_id: str, lease_id: str, instance_id: str,
                     now_ms: int) -> str | None:
        """The request's lease after the extension asked for by the worker ``instance_id``
        with ``lease_id``, as the dev server's gateway decides it; None when it is refused
        (the request was answered or is unknown, is another instance's, or ``lease_id`` is
        stale)."""
        with self._lock:
            self._forget_lapsed()
            pending = self._pending.get(request_id)
            lease = pending.lease if pending else self._lapsed.get(request_id, (None, 0))[0]
            if lease is None:
                return None
            if instance_id in self._capacity and lease.routed_to != instance_id:
                return None  # a capped worker extends only the requests routed to it
            return lease.extend(lease_id, instance_id, now_ms)

    def _forget_lapsed(self) -> None:
        """Let go of failed calls' leases whose time is up (the lock held)."""
        now = time.monotonic()
        for request_id in [key for key, (_, until) in self._lapsed.items() if until <= now]:
            del self._lapsed[request_id]


def new_lease_id(now_ms: int) -> str:
    """A lease id whose ULID time is when the lease runs out, as the dev server's are."""
    return ulid.random_at(now_ms + int(LEASE_SECONDS * 1000))


class Router:
    """The executor's transport: calls of connect apps' functions go to their workers,
    every other request to ``fallback``."""

    def __init__(self, workers: Workers, store: Store, fallback: Transport) -> None:
        self.workers = workers
        self.store = store
        self.fallback = fallback

    def has_room(self, url: str) -> bool:
        """Whether a call to ``url`` can go out now (see ``Workers.has_room``)."""
        target = self._target(url)
        return target is None or self.workers.has_room(target[1].name)

    def _target(self, url: str) -> tuple[Function, App] | None:
        """The connect app's function that ``url`` calls, if it calls one."""
        if not url.startswith("wss://connect"):
            return None  # every served app's call: no parsing on the way
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "wss" or parts.netloc != "connect":
            return None
        query = dict(urllib.parse.parse_qsl(parts.query))
        fn = self.store.function_by_slug(query.get("fnId", ""))
        app = self.store.app(fn.app_id) if fn is not None else None
        if fn is None or app is None or app.method != CONNECT_METHOD:
            return None
        return fn, app

    def send(self, request: OutboundRequest) -> Response:
        target = self._target(request.url)
        if target is None:
            return self.fallback.send(request)
        fn, app = target
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
        headers = {name.lower(): value for name, value in request.headers.items()}
        now_ms = int(time.time() * 1000)
        call = messages.ExecutorRequest(
            request_id=headers.get("x-request-id") or self.workers.ids.new(now_ms),
            account_id=ACCOUNT_ID, env_id=ENV_ID, app_id=app.id, app_name=app.name,
            function_id=fn.id, function_slug=fn.slug, step_id=query.get("stepId", "step"),
            payload=request.body or b"", system_trace_ctx=_trace_ctx(headers, "traceparent"),
            user_trace_ctx=_trace_ctx(headers, "traceparent", "tracestate"),
            run_id=headers.get("x-run-id", ""), lease_id=new_lease_id(now_ms),
            job_id=headers.get(Header.JOB_ID, ""),
        )
        return _response(self.workers.call(call, request.timeout))

    def close(self) -> None:
        self.fallback.close()


def _trace_ctx(headers: dict[str, str], *names: str) -> bytes:
    carrier = {name: headers[name] for name in names if headers.get(name)}
    return json.dumps(carrier, separators=(",", ":")).encode()


def _response(reply: messages.SDKResponse) -> Response:
    """The reply as the HTTP answer the SDK would have given."""
    headers = {"Content-Type": "application/json", Header.SDK: reply.sdk_version,
               Header.REQ_VERSION: str(reply.request_version),
               Header.NO_RETRY: "true" if reply.no_retry else "false"}
    if reply.retry_after:
        headers["Retry-After"] = reply.retry_after
    status = _STATUSES.get(reply.status, 500)
    if status == 200 and reply.no_retry:
        # The JS SDK reports a non-retriable error (its HTTP 400) as done, and the dev
        # server fails the run on the no-retry flag.
        status = 400
    return Response(status, headers, reply.body)
