"""One function's slow or hung app cannot hold the other functions' runs."""

from __future__ import annotations

import threading

import pytest
from engine_fakes import Call, Client, FakeApp, Reply, ok

from inngest._engine.http.server import DevServer
from inngest._engine.queue import default_function_share

LOOPBACK = True


def test_hung_calls_of_one_function_leave_workers_for_others(client: Client,
                                                             app: FakeApp) -> None:
    """Finding 3: 8 runs of a hung app held all 8 queue workers, and every other run waited."""
    release = threading.Event()
    started: list[str] = []

    def hang(call: Call) -> Reply:
        started.append(call.headers["x-run-id"])
        release.wait(10)
        return ok("late")

    client.register(app, [app.function("hung", handler=hang),
                          app.function("quick", handler=lambda call: ok("done"))])
    try:
        client.send(*[{"name": "test/hung"} for _ in range(8)])
        quick = client.send(*[{"name": "test/quick"} for _ in range(5)])
        for event_id in quick:
            assert client.wait_for_run(event_id)["output"] == "done"
        assert not release.is_set() and len(started) == default_function_share(8) == 6
    finally:
        release.set()


@pytest.mark.sockets
def test_a_call_that_outlasts_the_call_timeout_fails_its_attempt() -> None:
    release = threading.Event()
    app = FakeApp()
    app.handlers["app-fn"] = lambda call: (release.wait(10), ok("late"))[1]
    try:
        with DevServer(port=0, poll=False, retry_interval=0.05, call_timeout=0.3) as dev:
            client = Client(dev)
            client.register(app, [app.function("fn", retries=1)])
            run = client.wait_for_run(client.send({"name": "test/fn"})[0])
            assert not release.is_set()
            assert run["status"] == "Failed" and "could not reach" in run["output"]["message"]
            assert len(app.posts()) == 2
    finally:
        release.set()
        app.close()
