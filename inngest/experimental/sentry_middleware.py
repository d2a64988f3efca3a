"""Sentry tags for each run and a captured exception for each error. Experimental.

Needs ``sentry_sdk`` (not a dependency): it is imported when the middleware is created.
"""

from __future__ import annotations

import importlib
import typing

from inngest._client import Inngest
from inngest._context import ContextSync
from inngest._function import Function
from inngest._middleware import MiddlewareSync, TransformOutputResult
from inngest._step import StepMemos


class SentryMiddleware(MiddlewareSync):
    """Tags the Sentry scope with the app, event, function and run; reports errors."""

    def __init__(self, client: Inngest, raw_request: object) -> None:
        super().__init__(client, raw_request)
        self._sentry: typing.Any = importlib.import_module("sentry_sdk")
        if not self._sentry.is_initialized():
            client.logger.warning("Sentry SDK is not initialized")
        self._sentry.set_tag("inngest.app.id", client.app_id)

    def transform_input(
        self, ctx: ContextSync, function: Function[typing.Any], steps: StepMemos
    ) -> None:
        tags = {
            "inngest.event.count": len(ctx.events),
            "inngest.event.id": ctx.event.id,
            "inngest.event.name": ctx.event.name,
            "inngest.function.id": function.local_id,
            "inngest.function.name": function.name,
            "inngest.run.id": ctx.run_id,
        }
        for name, value in tags.items():
            self._sentry.set_tag(name, value)

    def transform_output(self, result: TransformOutputResult) -> None:
        if result.error is not None:
            self._sentry.capture_exception(result.error)

    def before_response(self) -> None:
        self._sentry.flush()
