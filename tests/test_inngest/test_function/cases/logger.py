"""ctx.logger stays quiet while memoized code replays: each line is logged exactly once."""

from __future__ import annotations

import logging

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _Recorder(logging.Handler):
    def __init__(self, prefix: str) -> None:
        super().__init__(logging.INFO)
        self.prefix = prefix
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message.startswith(self.prefix):
            self.messages.append(message[len(self.prefix):])


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = base.BaseState()
    prefix = f"{event}: "
    recorder = _Recorder(prefix)
    logger = client.logger
    assert isinstance(logger, logging.Logger)

    @client.create_function(fn_id=name, trigger=inngest.TriggerEvent(event=event))
    def fn(ctx: inngest.ContextSync) -> None:
        state.run_id = ctx.run_id
        ctx.logger.info(prefix + "start")
        ctx.step.run("a", lambda: ctx.logger.info(prefix + "in a"))
        ctx.logger.info(prefix + "between")
        ctx.step.run("b", lambda: None)
        ctx.logger.info("%s%s", prefix, "end")

    def run_test(ctx: case.CaseContext) -> None:
        logger.addHandler(recorder)
        try:
            ctx.client.send_sync(inngest.Event(name=event))
            run_id = state.wait_for_run_id()
            helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        finally:
            logger.removeHandler(recorder)
        assert recorder.messages == ["start", "in a", "between", "end"]

    return case.Case(name, [fn], run_test)
