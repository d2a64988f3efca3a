"""``DevServer``: the whole engine behind one HTTP listener (two with a connect gateway port
of its own), usable in-process."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import threading
import typing

from inngest._engine.connect.listener import GatewayPort
from inngest._engine.http.api import DEFAULT_LIMITS, Api, Server
from inngest._engine.http.guard import Guard
from inngest._engine.clock import Clock
from inngest._engine.engine import Engine
from inngest._engine.executor import READ_TIMEOUT, Settings
from inngest._engine.store import TEMPORARY, Store
from inngest._engine.discovery import Syncer
from inngest._http_core import CoreServer
from inngest._protocol.json_value import JSON

log = logging.getLogger("inngest.engine")

DEFAULT_PORT = 8288
DEFAULT_QUEUE_WORKERS = 8
# The real server's queue poll interval; ours wakes when work is due, so it is only reported.
DEFAULT_TICK_MS = 150
PORT_SEARCH = 20
# The gateway port's requests are few (each WebSocket then runs on a thread of its own).
GATEWAY_HTTP_WORKERS = 4


class DevServer:
    """Start with ``start()`` (non-blocking; ``port`` then holds the bound port).

    With ``connect_gateway_port`` the connect gateway also listens on a port of its own, as
    the dev server's (the next free one if that is taken; ``connect_gateway_port`` then holds
    the bound port); without it, only on the API port."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        sdk_urls: typing.Sequence[str] = (),
        *,
        poll: bool = True,
        poll_interval: float = 5.0,
        discovery: bool = False,
        queue_workers: int = DEFAULT_QUEUE_WORKERS,
        retry_interval: float = 0.0,
        persist: bool = False,
        sqlite_dir: str | None = None,
        signing_key: str | None = None,
        clock: Clock | None = None,
        call_timeout: float = READ_TIMEOUT,
        max_body_bytes: int = DEFAULT_LIMITS.max_body_bytes,
        tick_ms: int = DEFAULT_TICK_MS,
        connect_gateway_port: int | None = None,
    ) -> None:
        self.port = port
        self.host = host
        self.sdk_urls = list(sdk_urls)
        self.poll = poll
        self.poll_interval = poll_interval
        self.discovery = discovery
        self.queue_workers = queue_workers
        self.retry_interval = retry_interval
        self.persist = persist
        self.sqlite_dir = sqlite_dir
        self.signing_key = signing_key
        self.clock = clock
        self.call_timeout = call_timeout
        self.limits = dataclasses.replace(DEFAULT_LIMITS, max_body_bytes=max_body_bytes)
        self.tick_ms = tick_ms
        self.connect_gateway_port = connect_gateway_port
        self._parts: tuple[Engine, list[CoreServer], Syncer, list[threading.Thread]] | None \
            = None

    @property
    def db_path(self) -> str:
        if not self.persist:
            return TEMPORARY
        return os.path.join(self.sqlite_dir or os.path.join(".", ".inngest"), "main.db")

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    @property
    def engine(self) -> Engine:
        if self._parts is None:
            raise RuntimeError("the dev server is not running")
        return self._parts[0]

    def start(self) -> None:
        if self._parts is not None:
            return
        store = Store(self.db_path)
        settings = Settings(retry_interval=self.retry_interval, signing_key=self.signing_key,
                            call_timeout=self.call_timeout)
        engine = Engine(store, settings, self.clock, self.queue_workers)
        api = Api(engine, self._start_opts())
        server = self._bind(api)
        self.port = server.server_address[1]
        api.info["port"] = self.port
        servers: list[CoreServer] = [server]
        if self.connect_gateway_port is not None:
            try:
                servers.append(self._bind_gateway(api))
            except OSError:
                server.server_close()
                raise
        threads = [threading.Thread(target=listener.serve_forever,
                                    kwargs={"poll_interval": 0.1}, name=name, daemon=True)
                   for listener, name in zip(servers, ("inngest-http", "inngest-gateway"))]
        syncer = Syncer(store, self.sdk_urls, poll=self.poll, poll_interval=self.poll_interval,
                        discovery=self.discovery, signing_key=self.signing_key,
                        server_port=self.port)
        engine.sync_app = syncer.add
        self._parts = (engine, servers, syncer, threads)
        for thread in threads:
            thread.start()
        engine.start()
        syncer.start()
        log.info("Inngest dev server listening on %s (GraphQL API: %s/v0/gql)", self.url, self.url)
        log.info("state: %s", f"SQLite database at {os.path.abspath(self.db_path)}"
                 if self.persist else "in memory (lost on exit; --persist keeps it)")

    def _bind(self, api: Api) -> Server:
        """Listen on ``port``, moving up to the next free port if it is taken."""
        server = _listen(self.port, lambda port: Server((self.host, port), api,
                                                        limits=self.limits))
        if self.port and server.server_address[1] != self.port:
            _warn_port_moved(self.port, server.server_address[1])
        return server

    def _bind_gateway(self, api: Api) -> CoreServer:
        """The connect gateway's listener, on ``connect_gateway_port`` or the next free port
        (workers find it in the start response)."""
        wanted = self.connect_gateway_port or 0
        handler = GatewayPort(api.connect, Guard(self.host))
        server = _listen(wanted, lambda port: CoreServer(
            (self.host, port), handler, self.limits, GATEWAY_HTTP_WORKERS,
            "inngest-gateway-http"))
        self.connect_gateway_port = server.server_address[1]
        api.info["connect_gateway_port"] = self.connect_gateway_port
        if wanted and self.connect_gateway_port != wanted:
            log.info("port %d is in use: the connect gateway listens on %d instead", wanted,
                     self.connect_gateway_port)
        log.info("connect gateway listening on port %d", self.connect_gateway_port)
        return server

    def stop(self) -> None:
        if self._parts is None:
            return
        engine, servers, syncer, threads = self._parts
        self._parts = None
        syncer.stop()
        for server in servers:
            server.shutdown()
            server.server_close()
        for thread in threads:
            thread.join()
        engine.stop()
        engine.store.close()

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_opts(self) -> dict[str, JSON]:
        return {
            "dir": os.getcwd(), "urls": self.sdk_urls, "autodiscover": self.discovery,
            "poll": self.poll, "poll_interval": _seconds(self.poll_interval),
            "tick": self.tick_ms * 1_000_000,
            "retry_interval": _seconds(self.retry_interval), "queue_workers": self.queue_workers,
            "require_keys": False, "persist": self.persist, "host": self.host,
        }


L = typing.TypeVar("L", bound=CoreServer)


def _listen(port: int, listen: typing.Callable[[int], L]) -> L:
    """``listen(port)``, moving up to the next free port while it is taken (0: any free
    port)."""
    for attempt in range(PORT_SEARCH):
        try:
            return listen(port + attempt if port else 0)
        except OSError as err:
            if err.errno != errno.EADDRINUSE or not port or attempt == PORT_SEARCH - 1:
                raise
    raise AssertionError("unreachable")


def _seconds(value: float) -> float:
    """The real server's intervals are whole seconds (``7``); ours may be fractions."""
    return int(value) if float(value).is_integer() else value


def _warn_port_moved(wanted: int, port: int) -> None:
    """Dev clients default to 8288, so a moved engine gets events only if they are told."""
    log.warning(
        "PORT %d IS IN USE (another dev server?): this engine listens on %d instead. Clients "
        "still send to %d unless told: set INNGEST_DEV=http://127.0.0.1:%d or INNGEST_BASE_URL, "
        "or stop the other server, or pass --port.", wanted, port, wanted, port,
    )
