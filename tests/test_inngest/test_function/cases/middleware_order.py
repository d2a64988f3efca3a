"""Middleware hooks fire in the documented order, per request, for two middlewares."""

from __future__ import annotations

import inngest
from test_core import base, case, helper
from test_core.helper import RunStatus


class _State(base.BaseState):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[list[str]] = []
        self.sends: list[list[str]] = []


def _recording_middleware(state: _State, label: str) -> type[inngest.MiddlewareSync]:
    class Recorder(inngest.MiddlewareSync):
        def __init__(self, client: inngest.Inngest, raw_request: object) -> None:
            super().__init__(client, raw_request)
            # Both middlewares are created per request, in list order: the first opens a log.
            with state.lock:
                if label == "1":
                    state.requests.append([])
                self.log = state.requests[-1]

        def _record(self, hook: str) -> None:
            self.log.append(f"{label}.{hook}")

        def transform_input(
            self, ctx: inngest.ContextSync, function: inngest.Function, steps: inngest.StepMemos
        ) -> None:
            self._record("transform_input")

        def before_execution(self) -> None:
            self._record("before_execution")

        def after_execution(self) -> None:
            self._record("after_execution")

        def transform_output(self, result: inngest.TransformOutputResult) -> None:
            self._record("transform_output")

        def before_response(self) -> None:
            self._record("before_response")

        def before_send_events(self, events: list[inngest.Event]) -> None:
            self._record("before_send_events")

        def after_send_events(self, result: inngest.SendEventsResult) -> None:
            self._record("after_send_events")

    return Recorder


def create(client: inngest.Inngest, framework: str) -> case.Case:
    name = case.case_name(__file__)
    event = case.event_name(framework, name)
    state = _State()

    @client.create_function(
        fn_id=name,
        trigger=inngest.TriggerEvent(event=event),
        middleware=[_recording_middleware(state, "1"), _recording_middleware(state, "2")],
    )
    def fn(ctx: inngest.ContextSync) -> str:
        state.run_id = ctx.run_id
        ctx.step.send_event("send", inngest.Event(name=f"{event}.nobody-listens"))
        return "done"

    def run_test(ctx: case.CaseContext) -> None:
        ctx.client.send_sync(inngest.Event(name=event))
        run_id = state.wait_for_run_id()
        helper.client.wait_for_run_status(run_id, RunStatus.COMPLETED)
        assert state.requests == [
            [
                "1.transform_input", "2.transform_input",
                "1.before_execution", "2.before_execution",
                "1.before_send_events", "2.before_send_events",
                "2.after_send_events", "1.after_send_events",
                "2.after_execution", "1.after_execution",
                "2.transform_output", "1.transform_output",
                "1.before_response", "2.before_response",
            ],
            [
                "1.transform_input", "2.transform_input",
                "1.before_execution", "2.before_execution",
                "2.after_execution", "1.after_execution",
                "2.transform_output", "1.transform_output",
                "1.before_response", "2.before_response",
            ],
        ]

    return case.Case(name, [fn], run_test)
