"""App discovery with real sockets: which local apps the engine finds, and when it stops.

Measured on the dev server (``dev`` with discovery on, apps on two of its scanned ports):
it probes every scanned port's paths each poll interval while no app is listed, syncs what
answers with an ``x-inngest-sdk`` header, and scans no more once any app is listed (one
synced, found or added with ``-u``), so an app started later on another port is not found.
"""

from __future__ import annotations

import time
import typing

import pytest
from engine_fakes import SDK_HEADERS, Call, Client, FakeApp, Reply, wait

from inngest._engine import discovery
from inngest._engine.http.server import DevServer

POLL_SECONDS = 0.1


class LocalApp:
    """A fake app on a free port that answers as an SDK only once it is ``shown``; until
    then it answers 404 without the SDK header, as a port serving something else would."""

    def __init__(self, name: str) -> None:
        self.fake = FakeApp(name)
        self.fake.sdk_headers = {}
        self.fake.handlers[""] = self._answer
        self.port = int(self.fake.url.split(":")[2].split("/")[0])
        self.client: Client | None = None
        self.shown = False

    def show(self, client: Client) -> None:
        self.client, self.shown = client, True
        self.fake.sdk_headers = dict(SDK_HEADERS)

    def _answer(self, call: Call) -> Reply:
        if not self.shown or self.client is None:
            return 404, {}, b"not found"
        if call.method == "PUT":
            status, body = self.client.register(self.fake, [self.fake.function("fn")])
            return status, {}, body
        return 200, {}, {}

    def probes(self) -> int:
        """The GET requests it was sent: discovery's probes."""
        return sum(1 for call in self.fake.calls if call.method == "GET")

    def pings(self) -> int:
        return sum(1 for call in self.fake.calls if call.method == "PUT")


@pytest.fixture
def apps(monkeypatch: pytest.MonkeyPatch) -> typing.Iterator[tuple[LocalApp, LocalApp]]:
    """Two apps on the only ports discovery scans."""
    first, second = LocalApp("first"), LocalApp("second")
    monkeypatch.setattr(discovery, "DISCOVERY_PORTS", (first.port, second.port))
    monkeypatch.delenv("PORT", raising=False)
    yield first, second
    first.fake.close()
    second.fake.close()


def _names(dev: DevServer) -> list[str]:
    return [app.name for app in dev.engine.store.apps()]


@pytest.mark.sockets
def test_discovery_scans_until_an_app_is_listed_then_stops(
    apps: tuple[LocalApp, LocalApp]
) -> None:
    first, second = apps
    with DevServer(port=0, poll_interval=POLL_SECONDS, discovery=True) as dev:
        client = Client(dev)
        wait(lambda: first.probes() >= 2 * len(discovery.DISCOVERY_PATHS) or None)
        assert _names(dev) == []
        first.show(client)
        wait(lambda: _names(dev) == ["first"] or None)
        second.show(client)
        pings, probes = first.pings(), second.probes()
        time.sleep(10 * POLL_SECONDS)
        # Polling goes on; discovery does not: the later app is never probed.
        assert first.pings() > pings
        assert second.probes() == probes and _names(dev) == ["first"]


@pytest.mark.sockets
def test_an_app_added_with_a_url_stops_discovery_at_once(
    apps: tuple[LocalApp, LocalApp]
) -> None:
    first, _ = apps
    unreachable = "http://127.0.0.1:1/api/inngest"
    with DevServer(port=0, sdk_urls=[unreachable], poll_interval=POLL_SECONDS,
                   discovery=True) as dev:
        first.show(Client(dev))
        time.sleep(10 * POLL_SECONDS)
        assert first.probes() == 0
        assert [app.url for app in dev.engine.store.apps()] == ["http://localhost:1/api/inngest"]
