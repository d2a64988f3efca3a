"""One Flask app written for the official Inngest SDK's sync API.

``tests/official/test_sdk_bytes.py`` serves this same file twice, once with the official
``inngest`` package importable and once with ours, and compares the bytes on the wire.
Nothing here may depend on which package answers ``import inngest``.

Environment: ``SDK_APP_MODE`` (``dev`` or ``cloud``), ``SDK_APP_PORT``, ``SDK_APP_SIGNING_KEY``;
the API origins come from the usual ``INNGEST_API_BASE_URL`` / ``INNGEST_EVENT_API_BASE_URL``.
"""

from __future__ import annotations

import datetime
import os

import flask

import inngest
import inngest.flask

MODE = os.environ.get("SDK_APP_MODE", "dev")
WAKE_AT = datetime.datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=datetime.timezone.utc)
RETRY_AT = datetime.datetime(2031, 6, 7, 8, 9, 10, 123000, tzinfo=datetime.timezone.utc)

client = inngest.Inngest(
    app_id="bytes-app",
    event_key="test",
    is_production=MODE == "cloud",
    signing_key=os.environ.get("SDK_APP_SIGNING_KEY"),
)


def _on_failure(ctx: inngest.ContextSync) -> dict[str, object]:
    return {"failed": ctx.event.data.get("function_id"), "run": ctx.run_id}


@client.create_function(
    fn_id="steps",
    name="Steps ✓",
    trigger=[
        inngest.TriggerEvent(event="app/steps", expression="event.data.ok == true"),
        inngest.TriggerCron(cron="0 * * * *"),
    ],
    retries=3,
    concurrency=[
        inngest.Concurrency(limit=2, key="event.data.user", scope="fn"),
        inngest.Concurrency(limit=10),
    ],
    throttle=inngest.Throttle(limit=5, period=datetime.timedelta(minutes=1), key="event.data.user"),
    cancel=[
        inngest.Cancel(
            event="app/cancel", if_exp="async.data.id == event.data.id", timeout=3_600_000
        )
    ],
    timeouts=inngest.Timeouts(
        start=datetime.timedelta(seconds=90), finish=datetime.timedelta(days=14)
    ),
    priority=inngest.Priority(run="event.data.vip ? 120 : 0"),
    idempotency="event.data.id",
    on_failure=_on_failure,
)
def steps(ctx: inngest.ContextSync) -> dict[str, object]:
    first = ctx.step.run("first", lambda: {"n": 1, "text": "héllo ✓", "list": [1, 2.5, None]})
    again = [ctx.step.run("repeat", lambda: "once"), ctx.step.run("repeat", lambda: "twice")]
    accented = ctx.step.run("ünïcødé ✓", lambda: "ok")
    ctx.step.sleep("nap", datetime.timedelta(seconds=30))
    ctx.step.sleep_until("until", WAKE_AT)
    waited = ctx.step.wait_for_event(
        "wait",
        event="app/other",
        if_exp="async.data.id == event.data.id",
        timeout=datetime.timedelta(hours=1),
    )
    invoked = ctx.step.invoke_by_id("invoke", function_id="child", data={"a": 1})
    sent = ctx.step.send_event(
        "send", inngest.Event(name="app/sent", data={"from": "steps"}, ts=1700000000000)
    )
    pair = ctx.group.parallel(
        (lambda: ctx.step.run("p1", lambda: 1), lambda: ctx.step.run("p2", lambda: 2))
    )
    after = ctx.step.run("after", lambda: "done")
    return {
        "after": after,
        "again": again,
        "accented": accented,
        "attempt": ctx.attempt,
        "event": ctx.event.to_dict(),
        "first": first,
        "invoked": invoked,
        "pair": list(pair),
        "run_id": ctx.run_id,
        "sent": sent,
        "waited": None if waited is None else waited.to_dict(),
    }


@client.create_function(
    fn_id="child",
    trigger=inngest.TriggerEvent(event="app/child"),
    batch_events=inngest.Batch(
        max_size=10, timeout=datetime.timedelta(seconds=5), key="event.data.k"
    ),
)
def child(ctx: inngest.ContextSync) -> dict[str, object]:
    return {"count": len(ctx.events), "names": [event.name for event in ctx.events]}


@client.create_function(
    fn_id="failures",
    trigger=inngest.TriggerEvent(event="app/failures"),
    retries=0,
    debounce=inngest.Debounce(
        period=datetime.timedelta(seconds=10), key="event.data.k", timeout=60_000
    ),
    singleton=inngest.Singleton(mode="skip", key="event.data.k"),
)
def failures(ctx: inngest.ContextSync) -> object:
    kind = ctx.event.data.get("kind")
    if kind == "non_retriable":
        raise inngest.NonRetriableError("do not retry ✗")
    if kind == "retry_after":
        raise inngest.RetryAfterError("come back later", retry_after=RETRY_AT)
    if kind == "raise":
        raise ValueError("function-level failure")
    if kind == "step_raises":
        return ctx.step.run("boom", _explode)
    if kind == "caught":
        try:
            ctx.step.run("boom", _explode)
        except inngest.StepError as err:
            return {"caught": err.message, "name": err.name}
    return None


def _explode() -> None:
    raise KeyError("missing ✗")


@client.create_function(
    fn_id="limited",
    trigger=inngest.TriggerEvent(event="app/limited"),
    rate_limit=inngest.RateLimit(limit=1, period=datetime.timedelta(hours=1), key="event.data.k"),
)
def limited(ctx: inngest.ContextSync) -> str:
    return "limited"


app = flask.Flask(__name__)
inngest.flask.serve(app, client, [steps, child, failures, limited])

if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ["SDK_APP_PORT"]), threaded=True)
