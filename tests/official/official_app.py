"""A Flask app written against the official ``inngest`` sync API.

Run as ``python official_app.py <port> <engine url>``. Whichever ``inngest`` is importable
serves it: the official SDK from site-packages, or this repository's when it is first on
PYTHONPATH. The differential test drives both with the same engine.
"""

from __future__ import annotations

import datetime
import sys
import typing

import flask

import inngest
import inngest.flask

APP_ID = "diff-app"


def build(engine_url: str) -> tuple[inngest.Inngest, list[typing.Any]]:
    client = inngest.Inngest(app_id=APP_ID, is_production=False,
                             api_base_url=engine_url, event_api_base_url=engine_url)

    @client.create_function(fn_id="steps", trigger=inngest.TriggerEvent(event="diff/steps"))
    def steps(ctx: inngest.ContextSync) -> dict[str, str]:
        name = ctx.event.data["name"]
        greeting = ctx.step.run("greet", lambda: f"hello {name}")
        shout = ctx.step.run("shout", lambda: greeting.upper())
        return {"greet": greeting, "shout": shout}

    @client.create_function(fn_id="sleeper", trigger=inngest.TriggerEvent(event="diff/sleep"))
    def sleeper(ctx: inngest.ContextSync) -> str:
        ctx.step.sleep("nap", datetime.timedelta(seconds=1))
        return ctx.step.run("after", lambda: "woke up")

    @client.create_function(fn_id="waiter", trigger=inngest.TriggerEvent(event="diff/wait"))
    def waiter(ctx: inngest.ContextSync) -> dict[str, object]:
        found = ctx.step.wait_for_event(
            "resume", event="diff/resume", if_exp="event.data.key == async.data.key",
            timeout=datetime.timedelta(seconds=ctx.event.data["timeout"]),
        )
        return {"key": ctx.event.data["key"],
                "value": None if found is None else found.data["value"]}

    @client.create_function(fn_id="child", trigger=inngest.TriggerEvent(event="diff/unused"))
    def child(ctx: inngest.ContextSync) -> int:
        n = int(ctx.event.data["n"])
        return ctx.step.run("double", lambda: n * 2)

    @client.create_function(fn_id="invoker", trigger=inngest.TriggerEvent(event="diff/invoke"))
    def invoker(ctx: inngest.ContextSync) -> dict[str, object]:
        result = ctx.step.invoke("call-child", function=child,
                                 data={"n": ctx.event.data["n"]})
        return {"child": result}

    @client.create_function(fn_id="fan-out", trigger=inngest.TriggerEvent(event="diff/parallel"))
    def fan_out(ctx: inngest.ContextSync) -> dict[str, object]:
        results = ctx.group.parallel((
            lambda: ctx.step.run("left", lambda: "L"),
            lambda: ctx.step.run("right", lambda: "R"),
        ))
        return {"parallel": list(results)}

    @client.create_function(fn_id="flaky", trigger=inngest.TriggerEvent(event="diff/flaky"),
                            retries=3)
    def flaky(ctx: inngest.ContextSync) -> str:
        def attempt() -> str:
            if ctx.attempt < 2:
                raise ValueError(f"attempt {ctx.attempt} fails")
            return f"ok on attempt {ctx.attempt}"

        return ctx.step.run("flaky-step", attempt)

    def handle_failure(ctx: inngest.ContextSync) -> dict[str, object]:
        error = ctx.event.data["error"]
        return {"handled": error["message"], "name": error["name"]}

    @client.create_function(fn_id="doomed", trigger=inngest.TriggerEvent(event="diff/doomed"),
                            retries=3, on_failure=handle_failure)
    def doomed(ctx: inngest.ContextSync) -> None:
        ctx.step.run("before", lambda: "fine")
        raise inngest.NonRetriableError("doomed on purpose")

    return client, [steps, sleeper, waiter, child, invoker, fan_out, flaky, doomed]


def main() -> None:
    port, engine_url = int(sys.argv[1]), sys.argv[2]
    client, functions = build(engine_url)
    app = flask.Flask(__name__)
    inngest.flask.serve(app, client, functions)
    print(f"serving {inngest.__file__}", flush=True)
    app.run(host="127.0.0.1", port=port, threaded=True)


if __name__ == "__main__":
    main()
