"""Fixtures: an in-process dev server and a fake SDK app."""

from __future__ import annotations

import typing

import pytest
from engine_fakes import T0, Client, FakeApp

from inngest._engine.clock import ManualClock
from inngest._engine.server import DevServer


@pytest.fixture
def dev() -> typing.Iterator[DevServer]:
    server = DevServer(port=0, poll=False, retry_interval=0.05)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def client(dev: DevServer) -> Client:
    return Client(dev)


@pytest.fixture
def app() -> typing.Iterator[FakeApp]:
    fake = FakeApp()
    yield fake
    fake.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def manual(clock: ManualClock) -> typing.Iterator[Client]:
    """A dev server whose time moves only when the test advances ``clock``."""
    with DevServer(port=0, poll=False, retry_interval=0.05, clock=clock) as dev:
        yield Client(dev)
