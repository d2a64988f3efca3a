"""The app written with this project's SDK: one instance per server, same functions.

Every function triggers on ``py/<fn id>``; functions record what they execute in ``Record``
(keyed by the trigger's ``data.key``) so a case can count step executions and know when a run
has reached a wait.
"""

from __future__ import annotations

import collections
import datetime
import threading
import time
import typing

import inngest
from inngest import http_server

APP_ID = "diff-py"
# Characters Go's JSON encoder escapes (HTML ones, U+2028) and one it does not.
HTML_TEXT = "<a&b>\u2028é"


class Record:
    """What functions did, per ``data.key``; functions run on server threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.failures: dict[str, dict[str, typing.Any]] = {}
        self._active: collections.Counter[str] = collections.Counter()
        self._began: dict[str, dict[str, float]] = {}
        self._kept: dict[str, list[object]] = collections.defaultdict(list)

    def hit(self, key: str, what: str) -> int:
        with self._lock:
            self._seen[key][what] += 1
            return self._seen[key][what]

    def counts(self, key: str) -> dict[str, int]:
        with self._lock:
            return dict(self._seen[key])

    def hold(self, key: str, seconds: float) -> None:
        """Run for ``seconds``, counting how many holds for ``key`` overlap at most."""
        with self._lock:
            self._active[key] += 1
            self._seen[key]["most at once"] = max(
                self._seen[key]["most at once"], self._active[key])
        time.sleep(seconds)
        with self._lock:
            self._active[key] -= 1

    def hold_all(self, keys: typing.Sequence[str], seconds: float) -> None:
        """``hold`` counted under each of ``keys`` at once."""
        with self._lock:
            for one in keys:
                self._active[one] += 1
                self._seen[one]["most at once"] = max(
                    self._seen[one]["most at once"], self._active[one])
        time.sleep(seconds)
        with self._lock:
            for one in keys:
                self._active[one] -= 1

    def keep(self, key: str, value: object) -> None:
        with self._lock:
            self._kept[key].append(value)

    def kept(self, key: str) -> list[object]:
        with self._lock:
            return list(self._kept[key])

    def began(self, key: str, n: object) -> None:
        """When the run for event ``n`` first ran, in seconds since the first for ``key``."""
        with self._lock:
            first = self._began.setdefault(key, {}).setdefault("first", time.monotonic())
            self._began[key].setdefault(str(n), time.monotonic() - first)

    def starts(self, key: str) -> list[float]:
        with self._lock:
            found = dict(self._began.get(key, {}))
        found.pop("first", None)
        return sorted(found.values())


def _on(fn_id: str) -> inngest.TriggerEvent:
    return inngest.TriggerEvent(event=f"py/{fn_id}")


def build(client: inngest.Inngest, record: Record) -> list[inngest.Function]:  # noqa: C901
    """The app's functions; ``record`` is this instance's own."""

    def key(ctx: inngest.ContextSync) -> str:
        return str(ctx.event.data.get("key"))

    @client.create_function(fn_id="steps", trigger=_on("steps"))
    def steps(ctx: inngest.ContextSync) -> object:
        first = ctx.step.run("first", lambda: 1)
        second = ctx.step.run("second", lambda: first + 1)
        # Key order as the function sees a memoized step result.
        unordered = ctx.step.run("unordered", lambda: {"z": 1, "a": 2, "m": {"y": 1, "b": 2}})
        return {"sum": first + second, "data": ctx.event.data,
                "order": [list(unordered), list(unordered["m"])]}

    @client.create_function(fn_id="non-retriable", trigger=_on("non-retriable"), retries=3)
    def non_retriable(ctx: inngest.ContextSync) -> object:
        ctx.step.run("before", lambda: "ok")
        raise inngest.NonRetriableError("no retry for this")

    @client.create_function(fn_id="exhausted", trigger=_on("exhausted"), retries=1)
    def exhausted(ctx: inngest.ContextSync) -> object:
        raise ValueError(f"boom on attempt {ctx.attempt}")

    @client.create_function(fn_id="retry-after", trigger=_on("retry-after"), retries=2)
    def retry_after(ctx: inngest.ContextSync) -> object:
        if ctx.attempt == 0:
            raise inngest.RetryAfterError("not yet", datetime.timedelta(seconds=1))
        return {"attempt": ctx.attempt}

    @client.create_function(fn_id="flaky-step", trigger=_on("flaky-step"), retries=2)
    def flaky_step(ctx: inngest.ContextSync) -> object:
        def flaky() -> str:
            if record.hit(key(ctx), "flaky") < 3:
                raise ValueError("flaky step fails")
            return "done"

        value = ctx.step.run("flaky", flaky)
        return {"value": value, "after": ctx.step.run("after", lambda: "after")}

    @client.create_function(fn_id="step-fails", trigger=_on("step-fails"), retries=1)
    def step_fails(ctx: inngest.ContextSync) -> object:
        def bad() -> None:
            raise ValueError("this step always fails")

        try:
            ctx.step.run("bad", bad)
        except inngest.StepError as err:
            return {"caught": {"name": err.name, "message": err.message}}
        return "not reached"

    @client.create_function(fn_id="step-fails-now", trigger=_on("step-fails-now"), retries=0)
    def step_fails_now(ctx: inngest.ContextSync) -> object:
        def bad() -> None:
            raise ValueError("this step always fails")

        return ctx.step.run("bad", bad)

    @client.create_function(fn_id="sleeper", trigger=_on("sleeper"))
    def sleeper(ctx: inngest.ContextSync) -> object:
        ctx.step.sleep("nap", datetime.timedelta(seconds=1))
        return "rested"

    @client.create_function(fn_id="sleep-too-long", trigger=_on("sleep-too-long"))
    def sleep_too_long(ctx: inngest.ContextSync) -> object:
        ctx.step.sleep("forever", datetime.timedelta(days=800))
        return "woke"

    @client.create_function(fn_id="waiter", trigger=_on("waiter"))
    def waiter(ctx: inngest.ContextSync) -> object:
        ctx.step.run("ready", lambda: record.hit(key(ctx), "ready"))
        matched = ctx.step.wait_for_event(
            "resolve", event="py/waiter.resolve", if_exp="async.data.key == event.data.key",
            timeout=datetime.timedelta(seconds=float(ctx.event.data.get("timeout", 20))),
        )
        return {"matched": None if matched is None else matched.data}

    @client.create_function(
        fn_id="cancellable", trigger=_on("cancellable"),
        cancel=[inngest.Cancel(event="py/cancellable.stop",
                               if_exp="async.data.key == event.data.key")],
    )
    def cancellable(ctx: inngest.ContextSync) -> object:
        ctx.step.run("ready", lambda: record.hit(key(ctx), "ready"))
        ctx.step.sleep("long-nap", datetime.timedelta(seconds=60))
        return "not cancelled"

    @client.create_function(fn_id="invokee", trigger=_on("invokee"))
    def invokee(ctx: inngest.ContextSync) -> object:
        if ctx.event.data.get("fail"):
            raise inngest.NonRetriableError("invokee refuses")
        return {"doubled": int(ctx.event.data.get("n", 0)) * 2}

    @client.create_function(fn_id="invoker", trigger=_on("invoker"))
    def invoker(ctx: inngest.ContextSync) -> object:
        try:
            answer = ctx.step.invoke("call", function=invokee, data=dict(ctx.event.data))
        except inngest.StepError as err:
            return {"invoke_error": {"name": err.name, "message": err.message}}
        return {"invoked": answer}

    def on_failure(ctx: inngest.ContextSync) -> object:
        data = ctx.event.data
        error = data.get("error") or {}
        record.failures[str((data.get("event") or {}).get("data", {}).get("key"))] = {
            "event": ctx.event.name, "error_name": error.get("name"),
            "error_message": error.get("message"), "error_text": error.get("error"),
            "function_id": data.get("function_id"),
        }
        return "handled"

    @client.create_function(
        fn_id="with-on-failure", trigger=_on("with-on-failure"), retries=0, on_failure=on_failure
    )
    def with_on_failure(ctx: inngest.ContextSync) -> object:
        raise ValueError("main handler failed")

    @client.create_function(fn_id="parallel", trigger=_on("parallel"))
    def parallel(ctx: inngest.ContextSync) -> object:
        # Every call first waits 0.4 s and p3 ends 0.2 s after p1 and p2: the call that
        # follows p1 (or p2) answers after p3 ended, still planning p3 as unfinished.
        time.sleep(0.4)

        def branch(name: str) -> typing.Callable[[], object]:
            def body() -> str:
                record.hit(key(ctx), name)
                time.sleep(0.2 if name == "p3" else 0)
                return name

            return lambda: ctx.step.run(name, body)

        results = ctx.group.parallel(tuple(branch(name) for name in ("p1", "p2", "p3")))
        return {"results": list(results), "after": ctx.step.run("after", lambda: "joined")}

    @client.create_function(
        fn_id="rate-limited", trigger=_on("rate-limited"),
        rate_limit=inngest.RateLimit(limit=1, period=datetime.timedelta(minutes=1),
                                     key="event.data.key"),
    )
    def rate_limited(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="debounced", trigger=_on("debounced"),
        debounce=inngest.Debounce(period=datetime.timedelta(seconds=2), key="event.data.key"),
    )
    def debounced(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="idempotent", trigger=_on("idempotent"), idempotency="event.data.key"
    )
    def idempotent(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="singleton", trigger=_on("singleton"),
        singleton=inngest.Singleton(mode="skip", key="event.data.key"),
    )
    def singleton(ctx: inngest.ContextSync) -> object:
        hold = ctx.event.data.get("hold", 2)
        ctx.step.sleep("hold", datetime.timedelta(seconds=hold if isinstance(hold, int) else 2))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="batched", trigger=_on("batched"),
        batch_events=inngest.Batch(max_size=3, timeout=datetime.timedelta(seconds=5)),
    )
    def batched(ctx: inngest.ContextSync) -> object:
        # Sorted: under load the real server batches events in the order its queue took them,
        # not always the order they arrived in.
        return {"ns": sorted(int(event.data.get("n", -1)) for event in ctx.events)}

    @client.create_function(
        fn_id="one-at-a-time", trigger=_on("one-at-a-time"),
        concurrency=[inngest.Concurrency(limit=1, key="event.data.key")],
    )
    def one_at_a_time(ctx: inngest.ContextSync) -> object:
        ctx.step.run("hold", lambda: record.hold(key(ctx), 1.0))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="throttled", trigger=_on("throttled"),
        throttle=inngest.Throttle(limit=1, period=datetime.timedelta(seconds=2),
                                  key="event.data.key"),
    )
    def throttled(ctx: inngest.ContextSync) -> object:
        record.began(key(ctx), ctx.event.data.get("n"))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(fn_id="three-steps", trigger=_on("three-steps"))
    def three_steps(ctx: inngest.ContextSync) -> object:
        # Each step answers how many times it ran for this key: a rerun's output shows
        # which steps ran again and which kept their results.
        return {name: ctx.step.run(name, lambda name=name: record.hit(key(ctx), name))
                for name in ("one", "two", "three")}

    # Run limits the dev server's /fn/step-limit and /fn/state-size-limit lower: steps past
    # a limit of 1, a step result past a few bytes.
    @client.create_function(fn_id="step-limited", trigger=_on("step-limited"), retries=0)
    def step_limited(ctx: inngest.ContextSync) -> object:
        return [ctx.step.run(name, lambda name=name: name) for name in ("one", "two", "three")]

    @client.create_function(fn_id="state-limited", trigger=_on("state-limited"), retries=0)
    def state_limited(ctx: inngest.ContextSync) -> object:
        return ctx.step.run("big", lambda: "x" * 200)

    @client.create_function(fn_id="escaping", trigger=_on("escaping"))
    def escaping(ctx: inngest.ContextSync) -> object:
        return {"text": ctx.step.run("text", lambda: HTML_TEXT), "data": ctx.event.data}

    @client.create_function(fn_id="infinite", trigger=_on("infinite"))
    def infinite(ctx: inngest.ContextSync) -> object:
        return float("inf")  # Python's json writes it as Infinity: a reply that is not JSON

    return [
        infinite, escaping, three_steps, batched, one_at_a_time, throttled, step_fails,
        step_fails_now, steps, non_retriable, exhausted, retry_after, flaky_step, sleeper,
        sleep_too_long, waiter, cancellable, invokee, invoker, with_on_failure, parallel,
        rate_limited, debounced, idempotent, singleton, step_limited, state_limited,
    ]


class App:
    """The app served on a free port for the server at ``server_origin``."""

    def __init__(self, server_origin: str) -> None:
        self.record = Record()
        client = inngest.Inngest(
            app_id=APP_ID, api_base_url=server_origin, event_api_base_url=server_origin,
            is_production=False,
        )
        self.functions = (build(client, self.record) + build_semantics(client, self.record)
                          + build_flow(client, self.record)
                          + build_flow_keys(client, self.record))
        self._server = http_server.serve(client, self.functions, port=0, max_workers=16)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/inngest"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def build_semantics(  # noqa: C901
    client: inngest.Inngest, record: Record
) -> list[inngest.Function]:
    """The functions of ``cases_semantics``: timeouts, cancel and wait expressions, batch and
    concurrency keys, sent events, invoke timeouts, the events of a run's end, sleep_until."""

    def key(ctx: inngest.ContextSync) -> str:
        return str(ctx.event.data.get("key"))

    def ready(ctx: inngest.ContextSync) -> None:
        ctx.step.run("ready", lambda: record.hit(key(ctx), "ready"))

    @client.create_function(
        fn_id="timeout-finish", trigger=_on("timeout-finish"),
        timeouts=inngest.Timeouts(finish=datetime.timedelta(seconds=1)),
    )
    def timeout_finish(ctx: inngest.ContextSync) -> object:
        ready(ctx)
        ctx.step.sleep("nap", datetime.timedelta(seconds=10))
        return ctx.step.run("after", lambda: "not cancelled")

    @client.create_function(
        fn_id="timeout-start", trigger=_on("timeout-start"),
        concurrency=[inngest.Concurrency(limit=1, key="event.data.key")],
        timeouts=inngest.Timeouts(start=datetime.timedelta(seconds=1)),
    )
    def timeout_start(ctx: inngest.ContextSync) -> object:
        ctx.step.run("hold", lambda: record.hold(key(ctx), 2.0))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="cancel-if", trigger=_on("cancel-if"),
        cancel=[inngest.Cancel(event="py/cancel-if.stop",
                               if_exp="async.data.key == event.data.key && async.data.stop")],
    )
    def cancel_if(ctx: inngest.ContextSync) -> object:
        ready(ctx)
        ctx.step.sleep("nap", datetime.timedelta(seconds=2))
        return "not cancelled"

    @client.create_function(
        fn_id="cancel-timeout", trigger=_on("cancel-timeout"),
        cancel=[inngest.Cancel(event="py/cancel-timeout.stop",
                               if_exp="async.data.key == event.data.key",
                               timeout=datetime.timedelta(seconds=1))],
    )
    def cancel_timeout(ctx: inngest.ContextSync) -> object:
        ready(ctx)
        ctx.step.sleep("nap", datetime.timedelta(seconds=3))
        return "not cancelled"

    @client.create_function(
        fn_id="batch-key", trigger=_on("batch-key"),
        batch_events=inngest.Batch(max_size=2, timeout=datetime.timedelta(seconds=5),
                                   key="event.data.group"),
    )
    def batch_key(ctx: inngest.ContextSync) -> object:
        return {"groups": sorted({str(event.data.get("group")) for event in ctx.events}),
                "ns": sorted(int(event.data.get("n", -1)) for event in ctx.events)}

    @client.create_function(
        fn_id="concurrency-key", trigger=_on("concurrency-key"),
        concurrency=[inngest.Concurrency(limit=1, key="event.data.group")],
    )
    def concurrency_key(ctx: inngest.ContextSync) -> object:
        group = f"{key(ctx)}/{ctx.event.data.get('group')}"
        ctx.step.run("hold", lambda: record.hold_all((key(ctx), group), 1.0))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(fn_id="sender", trigger=_on("sender"))
    def sender(ctx: inngest.ContextSync) -> object:
        sent = ctx.step.send_event(
            "send", inngest.Event(name="py/sent", data={"key": key(ctx), "from": "sender"}))
        return {"ids": sent}

    @client.create_function(fn_id="sent", trigger=_on("sent"))
    def sent(ctx: inngest.ContextSync) -> object:
        return {"received": ctx.event.data}

    @client.create_function(fn_id="wait-if", trigger=_on("wait-if"))
    def wait_if(ctx: inngest.ContextSync) -> object:
        ready(ctx)
        matched = ctx.step.wait_for_event(
            "resolve", event="py/wait-if.resolve", if_exp=str(ctx.event.data.get("if")),
            timeout=datetime.timedelta(seconds=float(ctx.event.data.get("timeout", 2))),
        )
        return {"matched": None if matched is None else matched.data}

    @client.create_function(fn_id="slow-invokee", trigger=_on("slow-invokee"))
    def slow_invokee(ctx: inngest.ContextSync) -> object:
        ctx.step.sleep("slow", datetime.timedelta(seconds=2))
        return "too late"

    @client.create_function(fn_id="invoke-timeout", trigger=_on("invoke-timeout"))
    def invoke_timeout(ctx: inngest.ContextSync) -> object:
        try:
            answer = ctx.step.invoke("call", function=slow_invokee, data=dict(ctx.event.data),
                                     timeout=datetime.timedelta(seconds=1))
        except inngest.StepError as err:
            return {"invoke_error": {"name": err.name, "message": err.message}}
        return {"invoked": answer}

    @client.create_function(fn_id="finishes", trigger=_on("finishes"), retries=0)
    def finishes(ctx: inngest.ContextSync) -> object:
        if ctx.event.data.get("fail"):
            raise inngest.NonRetriableError("finishes badly")
        return {"done": ctx.event.data.get("key")}

    def keep_event(ctx: inngest.ContextSync) -> object:
        trigger = ctx.event.data.get("event") or {}
        record.keep(str(trigger.get("data", {}).get("key")), {
            "name": ctx.event.name, "id": ctx.event.id, "ts": ctx.event.ts,
            "data": ctx.event.data})
        return "kept"

    on_ended = [
        client.create_function(fn_id=f"on-{name}", trigger=inngest.TriggerEvent(
            event=f"inngest/function.{name}",
            expression='event.data.function_id in ["diff-py-finishes", '
                       '"diff-py-timeout-finish"]',
        ))(keep_event)
        for name in ("finished", "failed", "cancelled")
    ]

    @client.create_function(fn_id="sleep-until", trigger=_on("sleep-until"))
    def sleep_until(ctx: inngest.ContextSync) -> object:
        until = ctx.step.run("when", lambda: (
            datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
        ).isoformat())
        ctx.step.sleep_until("until", datetime.datetime.fromisoformat(until))
        return "woke"

    return [
        timeout_finish, timeout_start, cancel_if, cancel_timeout, batch_key, concurrency_key,
        sender, sent, wait_if, slow_invokee, invoke_timeout, finishes,
        sleep_until, *on_ended,
    ]


def build_flow(client: inngest.Inngest, record: Record) -> list[inngest.Function]:
    """The functions of ``cases_flow`` beside those of ``build``: a debounce with a timeout,
    a batch that times out, and cancel on event for a run waiting for an event."""

    def key(ctx: inngest.ContextSync) -> str:
        return str(ctx.event.data.get("key"))

    @client.create_function(
        fn_id="debounce-timeout", trigger=_on("debounce-timeout"),
        debounce=inngest.Debounce(period=datetime.timedelta(seconds=2), key="event.data.key",
                                  timeout=datetime.timedelta(seconds=3)),
    )
    def debounce_timeout(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="batch-timeout", trigger=_on("batch-timeout"),
        batch_events=inngest.Batch(max_size=5, timeout=datetime.timedelta(seconds=1),
                                   key="event.data.key"),
    )
    def batch_timeout(ctx: inngest.ContextSync) -> object:
        return {"ns": sorted(int(event.data.get("n", -1)) for event in ctx.events)}

    @client.create_function(
        fn_id="cancel-waiting", trigger=_on("cancel-waiting"),
        cancel=[inngest.Cancel(event="py/cancel-waiting.stop",
                               if_exp="async.data.key == event.data.key && async.data.stop",
                               timeout=datetime.timedelta(seconds=4))],
    )
    def cancel_waiting(ctx: inngest.ContextSync) -> object:
        ctx.step.run("ready", lambda: record.hit(key(ctx), "ready"))
        matched = ctx.step.wait_for_event(
            "resolve", event="py/cancel-waiting.resolve",
            if_exp="async.data.key == event.data.key", timeout=datetime.timedelta(seconds=6))
        return {"matched": None if matched is None else matched.data}

    @client.create_function(
        fn_id="rate-limit-two", trigger=_on("rate-limit-two"),
        rate_limit=inngest.RateLimit(limit=2, period=datetime.timedelta(seconds=4),
                                     key="event.data.key"),
    )
    def rate_limit_two(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="throttle-burst", trigger=_on("throttle-burst"),
        throttle=inngest.Throttle(limit=1, period=datetime.timedelta(seconds=2), burst=1,
                                  key="event.data.key"),
    )
    def throttle_burst(ctx: inngest.ContextSync) -> object:
        record.began(key(ctx), ctx.event.data.get("n"))
        return {"n": ctx.event.data.get("n")}

    @client.create_function(
        fn_id="idempotent-limited", trigger=_on("idempotent-limited"),
        idempotency="event.data.key",
        rate_limit=inngest.RateLimit(limit=1, period=datetime.timedelta(minutes=1)),
    )
    def idempotent_limited(ctx: inngest.ContextSync) -> object:
        return {"n": ctx.event.data.get("n")}

    def invoke_answer(ctx: inngest.ContextSync, step_id: str, function_id: str) -> object:
        try:
            return ctx.step.invoke_by_id(step_id, function_id=function_id,
                                         data=dict(ctx.event.data),
                                         timeout=datetime.timedelta(seconds=10))
        except inngest.StepError as err:
            return {"name": err.name, "message": err.message}

    @client.create_function(fn_id="invoke-limited", trigger=_on("invoke-limited"))
    def invoke_limited(ctx: inngest.ContextSync) -> object:
        """Each of ``rate-limited`` and ``idempotent-limited`` invoked twice with one key."""
        return {step_id: invoke_answer(ctx, step_id, function_id)
                for step_id, function_id in (
                    ("rate-1", "rate-limited"), ("rate-2", "rate-limited"),
                    ("idem-1", "idempotent-limited"), ("idem-2", "idempotent-limited"))}

    @client.create_function(fn_id="invoke-buffered", trigger=_on("invoke-buffered"))
    def invoke_buffered(ctx: inngest.ContextSync) -> object:
        """A debounced and a batched function invoked."""
        return {step_id: invoke_answer(ctx, step_id, function_id)
                for step_id, function_id in (("debounced", "debounced"),
                                             ("batched", "batch-timeout"))}

    @client.create_function(fn_id="invoke-singleton", trigger=_on("invoke-singleton"))
    def invoke_singleton(ctx: inngest.ContextSync) -> object:
        """The singleton (skip) invoked while a run of it may hold the key."""
        return {"invoked": invoke_answer(ctx, "call", "singleton")}

    @client.create_function(
        fn_id="cancel-or-wait", trigger=_on("cancel-or-wait"),
        cancel=[inngest.Cancel(event="py/cancel-or-wait.signal",
                               if_exp="async.data.key == event.data.key && async.data.stop")],
    )
    def cancel_or_wait(ctx: inngest.ContextSync) -> object:
        ctx.step.run("ready", lambda: record.hit(key(ctx), "ready"))
        matched = ctx.step.wait_for_event(
            "signal", event="py/cancel-or-wait.signal",
            if_exp="async.data.key == event.data.key", timeout=datetime.timedelta(seconds=5))
        return {"matched": None if matched is None else matched.data}

    @client.create_function(fn_id="cli", trigger=_on("cli"), retries=0)
    def cli(ctx: inngest.ContextSync) -> object:
        """Started only by the ``inngest api`` case, so its run lists hold no other case's."""
        n = ctx.step.run("first", lambda: ctx.event.data.get("n", 0))
        return {"n": n}

    return [debounce_timeout, batch_timeout, cancel_waiting, rate_limit_two, throttle_burst,
            idempotent_limited, invoke_limited, invoke_buffered, invoke_singleton, cancel_or_wait,
            cli]


def build_flow_keys(client: inngest.Inngest, record: Record) -> list[inngest.Function]:
    """The functions of ``cases_flow``'s key cases: each option keyed by ``event.data.k`` (or
    an expression that fails for some values), runs labelled by ``data.g``."""
    second = datetime.timedelta(seconds=1)

    def ns(ctx: inngest.ContextSync) -> object:
        return {"ns": sorted(str(event.data.get("n")) for event in ctx.events)}

    def group(ctx: inngest.ContextSync) -> str:
        return f"keys-{ctx.event.data.get('g')}"

    def flow_fn(fn_id: str, handler: typing.Callable[[inngest.ContextSync], object],
                **options: typing.Any) -> inngest.Function:
        return client.create_function(fn_id=fn_id, trigger=_on(fn_id), **options)(handler)

    def held(ctx: inngest.ContextSync) -> object:
        ctx.step.run("hold", lambda: record.hold_all((group(ctx),), 2.0))
        return ns(ctx)

    def throttled(ctx: inngest.ContextSync) -> object:
        record.began(group(ctx), ctx.event.data.get("n"))
        return ns(ctx)

    def single(ctx: inngest.ContextSync) -> object:
        record.hit(group(ctx), "ready")
        if ctx.event.data.get("hold"):
            time.sleep(2.0)
        return ns(ctx)

    def scoped(fn_id: str, scope: typing.Literal["env", "account"]) -> inngest.Function:
        return flow_fn(fn_id, held, concurrency=[
            inngest.Concurrency(limit=1, key=f'"diff-py-{scope}"', scope=scope)])

    def held_by_keys(ctx: inngest.ContextSync) -> object:
        data = ctx.event.data
        keys = (f"two-a-{data.get('a')}", f"two-b-{data.get('b')}")
        ctx.step.run("hold", lambda: record.hold_all(keys, 1.0))
        return ns(ctx)

    def debounced_nap(ctx: inngest.ContextSync) -> object:
        ctx.step.run("ready", lambda: record.hit(group(ctx), "ready"))
        ctx.step.sleep("nap", 6 * second)
        return "not cancelled"

    batch = {"max_size": 20, "timeout": 2 * second}
    rate = {"limit": 1, "period": datetime.timedelta(minutes=1)}
    return [
        scoped("scope-env-1", "env"), scoped("scope-env-2", "env"),
        scoped("scope-account-1", "account"), scoped("scope-account-2", "account"),
        flow_fn("two-limits", held_by_keys, concurrency=[
            inngest.Concurrency(limit=2, key="event.data.a"),
            inngest.Concurrency(limit=1, key="event.data.b")]),
        flow_fn("batch-if", ns, batch_events=inngest.Batch(
            max_size=3, timeout=2 * second, if_exp="event.data.b == true")),
        flow_fn("debounce-cancel", debounced_nap,
                debounce=inngest.Debounce(period=second, key="event.data.g"),
                cancel=[inngest.Cancel(event="py/debounce-cancel.stop",
                                       if_exp="async.data.g == event.data.g",
                                       timeout=3 * second)]),
        flow_fn("keys-batch", ns, batch_events=inngest.Batch(**batch, key="event.data.k")),
        flow_fn("keys-batch-fails", ns,
                batch_events=inngest.Batch(**batch, key="event.data.k * 2")),
        flow_fn("keys-debounce", ns,
                debounce=inngest.Debounce(period=second, key="event.data.k")),
        flow_fn("keys-rate", ns, rate_limit=inngest.RateLimit(**rate, key="event.data.k")),
        flow_fn("keys-rate-fails", ns,
                rate_limit=inngest.RateLimit(**rate, key="event.data.k * 2")),
        flow_fn("keys-rate-or", ns,
                rate_limit=inngest.RateLimit(**rate, key="event.data.a || event.data.b")),
        flow_fn("keys-rate-cond", ns,
                rate_limit=inngest.RateLimit(**rate, key='event.data.c ? "y" : "n"')),
        flow_fn("keys-concurrency", held,
                concurrency=[inngest.Concurrency(limit=1, key="event.data.k")]),
        flow_fn("keys-throttle", throttled, throttle=inngest.Throttle(
            limit=1, period=2 * second,
            key="event.data.f ? false : event.data.k - event.data.j")),
        flow_fn("keys-singleton", single,
                singleton=inngest.Singleton(key='event.data.k + "x"', mode="skip")),
    ]
