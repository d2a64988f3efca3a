"""Middleware that keeps step outputs in your own store and sends the server a reference."""

from __future__ import annotations

import typing

from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._function import Function
from inngest._middleware import MiddlewareSync, TransformOutputResult
from inngest._protocol.opcodes import Opcode
from inngest._step import StepMemos


class StateDriver(typing.Protocol):
    """A store for step outputs."""

    def load_steps(self, steps: StepMemos) -> None:
        """Replace, in place, the memos that are references to this store by their values."""

    def save_step(self, run_id: str, value: object) -> dict[str, object]:
        """Store a step's output; return the reference the server keeps instead."""
        ...


class RemoteStateMiddleware(MiddlewareSync):
    """Stores each ``step.run`` output with ``driver`` and loads it back on replay."""

    def __init__(self, client: Inngest, raw_request: object, driver: StateDriver) -> None:
        super().__init__(client, raw_request)
        self._driver = driver
        self._run_id: str | None = None

    @classmethod
    def factory(
        cls, driver: StateDriver
    ) -> typing.Callable[[Inngest, object], RemoteStateMiddleware]:
        """What ``middleware=[...]`` of a client or function takes."""

        def create(client: Inngest, raw_request: object) -> RemoteStateMiddleware:
            return cls(client, raw_request, driver)

        return create

    def transform_input(
        self, ctx: ContextSync, function: Function[typing.Any], steps: StepMemos
    ) -> None:
        self._driver.load_steps(steps)
        self._run_id = ctx.run_id

    def transform_output(self, result: TransformOutputResult) -> None:
        step = result.step
        if step is None or step.op is not Opcode.STEP_RUN or not result.has_output():
            return
        if self._run_id is not None:  # transform_input always ran first
            result.output = self._driver.save_step(self._run_id, result.output)
