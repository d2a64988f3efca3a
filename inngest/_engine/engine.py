"""The engine's parts wired together, without any HTTP listener."""

from __future__ import annotations

import logging
import typing

from inngest._engine.clock import Clock, SystemClock
from inngest._engine import registration
from inngest._engine.connect.history import History
from inngest._engine.connect.workers import Router, Workers
from inngest._engine.executor import Executor, Settings, default_transport
from inngest._engine.flow.admission import FlowAdmission
from inngest._engine.lifecycle import Lifecycle
from inngest._engine.queue import Queue
from inngest._engine.runner import Runner
from inngest._engine.store import Store
from inngest._engine.ulid import Generator
from inngest._http_core import after_response
from inngest._transport import Transport

log = logging.getLogger("inngest.engine")


class Engine:
    def __init__(self, store: Store, settings: Settings, clock: Clock | None = None,
                 queue_workers: int = 8, *, transport: Transport | None = None) -> None:
        self.store = store
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.ids = Generator()
        # The executor needs the queue, so the queue reaches it through a closure.
        self.admission = FlowAdmission(store)
        self.queue = Queue(store, self.clock, lambda item: self.executor.handle(item),
                           queue_workers, self.admission, after_response=after_response)
        self.lifecycle = Lifecycle(store, self.queue, self.clock, self.ids)
        self.runner = Runner(self.lifecycle)
        # Calls of connect apps' functions go to their workers' connections.
        self.workers = Workers(self.ids)
        self.connections = History(self.ids.new(self.clock.now_ms()))
        router = Router(self.workers, store, transport or default_transport())
        self.executor = Executor(self.runner, settings, router, router.has_room)
        # Syncs the app at a URL now and says its normalized URL (set by the dev server,
        # which owns the app syncer).
        self.sync_app: typing.Callable[[str], tuple[str, str | None]] | None = None

    def apply_sync(self, body: bytes, headers: typing.Mapping[str, str]
                   ) -> registration.RegisterResult:
        """Register an app (``/fn/register``'s body) and schedule its crons; raises
        ``RegisterError`` for a refused one."""
        result = registration.register(self.store, body, headers, self.clock.now_ms())
        app = self.store.app(result.app_id)
        if result.modified and app is not None:
            functions = self.store.functions(app.id)
            for fn in functions:
                self.runner.schedule_crons(fn)
            log.info("synced app %s at %s (%d functions)", app.name, app.url, len(functions))
        return result

    def start(self) -> None:
        for fn in self.store.functions():
            self.runner.schedule_crons(fn)
        self.queue.start()

    def stop(self) -> None:
        self.queue.stop()
        self.executor.http.close()
