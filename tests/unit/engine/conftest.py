"""Fixtures: an in-process dev server and a fake SDK app.

A test module that sets ``LOOPBACK = True`` gets them without sockets: the engine and the
fake apps talk through a loopback transport, and waiting for a run skips to the next timer.
Its tests marked ``@pytest.mark.sockets`` (where the HTTP listener, app discovery or start-up
is what is tested) do not. A restart is two ``LoopbackDev`` on one SQLite file.
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import T0, Client, FakeApp, LoopbackDev

from inngest._engine.clock import ManualClock
from inngest._engine.http.server import DevServer
from inngest._loopback import LoopbackTransport


def _loopback(request: pytest.FixtureRequest) -> LoopbackTransport | None:
    if not getattr(request.module, "LOOPBACK", False) or request.node.get_closest_marker("sockets"):
        return None
    return typing.cast(LoopbackTransport, request.getfixturevalue("loopback"))


@pytest.fixture
def loopback() -> LoopbackTransport:
    """Fake apps and the engine are mounted here; a request anywhere else fails."""
    return LoopbackTransport()


@pytest.fixture
def dev(request: pytest.FixtureRequest) -> typing.Iterator[DevServer | LoopbackDev]:
    transport = _loopback(request)
    server = LoopbackDev(transport) if transport else DevServer(port=0, poll=False,
                                                                retry_interval=0.05)
    if isinstance(server, DevServer):
        server.start()
    yield server
    server.stop()


@pytest.fixture
def client(dev: DevServer) -> Client:
    return Client(dev)


@pytest.fixture
def app(request: pytest.FixtureRequest) -> typing.Iterator[FakeApp]:
    fake = FakeApp(loopback=_loopback(request))
    yield fake
    fake.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def manual(request: pytest.FixtureRequest, clock: ManualClock) -> typing.Iterator[Client]:
    """A dev server whose time moves only when the test advances ``clock``."""
    transport = _loopback(request)
    if transport is not None:
        loop = LoopbackDev(transport, clock=clock)
        yield Client(loop)
        loop.stop()
        return
    with DevServer(port=0, poll=False, retry_interval=0.05, clock=clock) as dev:
        yield Client(dev)
