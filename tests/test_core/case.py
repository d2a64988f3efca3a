"""The integration-case pattern: a module per case exposing ``create(client, framework)``."""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import pkgutil
import secrets
import types
import typing

import pytest

import inngest
from inngest.experimental import dev_server
from test_core import apps, cloud, helper

# Event names carry a per-session suffix so a reused dev server never matches old waits.
SESSION = secrets.token_hex(4)


@dataclasses.dataclass(frozen=True)
class CaseContext:
    """What a running test receives: the framework's client and its served app."""

    client: inngest.Inngest
    framework: str
    app: apps.App | None


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    fns: list[inngest.Function]
    run_test: typing.Callable[[CaseContext], None]


def case_name(module_file: str) -> str:
    return os.path.splitext(os.path.basename(module_file))[0]


def event_name(framework: str, name: str) -> str:
    return f"{framework}/{name}.{SESSION}"


def load(package: types.ModuleType) -> list[types.ModuleType]:
    """Every case module of a ``cases`` package, sorted by name."""
    names = sorted(info.name for info in pkgutil.iter_modules(package.__path__))
    return [importlib.import_module(f"{package.__name__}.{name}") for name in names]


def server_client(framework: str, app_id: str | None = None) -> inngest.Inngest:
    """A client of the session's server; the app id defaults to the framework's.

    Dev mode against a dev server; production mode against ``inngest start``, configured as a
    deployed app is: its keys and the server's URLs come from ``INNGEST_*`` variables.
    """
    logger = logging.getLogger(f"itest.{framework}")
    logger.setLevel(logging.INFO)
    app_id = app_id or f"{framework}-functions"
    server = dev_server.server
    if not server.production:
        origin = helper.origin()
        return inngest.Inngest(
            app_id=app_id,
            api_base_url=origin,
            event_api_base_url=origin,
            is_production=False,
            logger=logger,
        )
    with cloud.scoped_env({
        "INNGEST_SIGNING_KEY": server.app_signing_key,
        "INNGEST_EVENT_KEY": server.event_key,
        "INNGEST_API_BASE_URL": helper.origin(),
        "INNGEST_EVENT_API_BASE_URL": helper.event_origin(),
    }):
        return inngest.Inngest(app_id=app_id, is_production=True, logger=logger)


class Served:
    """Per framework: one client, all cases' functions in one app synced with the dev server.

    Started on first use; ``stop`` shuts every app down.
    """

    def __init__(self, modules: list[types.ModuleType], *, sync: bool = True) -> None:
        self._modules = modules
        self._sync = sync
        self._started: dict[str, tuple[CaseContext, dict[str, Case]]] = {}

    def case(self, framework: str, module: types.ModuleType) -> tuple[CaseContext, Case]:
        if framework not in self._started:
            self._started[framework] = self._start(framework)
        context, cases = self._started[framework]
        return context, cases[module.__name__]

    def _start(self, framework: str) -> tuple[CaseContext, dict[str, Case]]:
        client = server_client(framework)
        cases: dict[str, Case] = {
            module.__name__: module.create(client, framework) for module in self._modules
        }
        functions = [fn for built in cases.values() for fn in built.fns]
        app = apps.start(framework, client, functions) if functions else None
        context = CaseContext(client=client, framework=framework, app=app)
        if app is not None and self._sync:
            try:
                helper.register(app.port)
            except BaseException:
                app.stop()
                raise
        return context, cases

    def stop(self) -> None:
        for context, _ in self._started.values():
            if context.app is not None:
                context.app.stop()
        self._started.clear()


def module_id(module: types.ModuleType) -> str:
    return str(module.__name__.rsplit(".", 1)[-1])


def suite(package: types.ModuleType, *, sync: bool = True) -> tuple[typing.Any, typing.Any]:
    """The ``served`` fixture and the ``test_case`` test for a package of case modules.

    A feature's test module assigns both names at module level so pytest collects them.
    """
    modules = load(package)

    @pytest.fixture(scope="module")
    def served() -> typing.Iterator[Served]:
        running = Served(modules, sync=sync)
        yield running
        running.stop()

    @pytest.mark.parametrize("module", modules, ids=module_id)
    @pytest.mark.parametrize("framework", apps.FRAMEWORKS)
    def test_case(framework: str, module: types.ModuleType, served: Served) -> None:
        context, built = served.case(framework, module)
        built.run_test(context)

    return served, test_case
