"""Times whichever ``inngest`` is importable: serve requests through Flask and event sends.

Run by benchmarks/run.py under each SDK's interpreter; prints one ``BENCH-JSON`` line.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import traceback
import typing

import _common

Call = typing.Callable[[], tuple[int, bytes]]


def _environ(method: str, query: str, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    environ: dict[str, object] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _common.SERVE_PATH,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "localhost",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


def wsgi_call(app: typing.Any, method: str, query: str, body: bytes,
              headers: dict[str, str]) -> Call:
    """A call that sends one request straight into the WSGI callable ``app`` (no sockets)."""
    base = _environ(method, query, body, headers)
    status: list[str] = []

    def start_response(line: str, _headers: object, _exc: object = None) -> None:
        status.append(line)

    def call() -> tuple[int, bytes]:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(body)
        status.clear()
        chunks = app(environ, start_response)
        try:
            out = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        return int(status[0].split()[0]), out

    return call


def _one() -> int:
    return 1


def make_functions(inngest: typing.Any, client: typing.Any) -> list[typing.Any]:
    """One function per k: it calls step.run k + 1 times with distinct ids."""
    functions = []
    for k in _common.STEP_COUNTS:
        @client.create_function(
            fn_id=_common.fn_slug(k), trigger=inngest.TriggerEvent(event="bench/run")
        )
        def steps(ctx: typing.Any, _k: int = k) -> int:
            total = 0
            for i in range(_k + 1):
                total += ctx.step.run(_common.step_id(i), _one)
            return total

        functions.append(steps)
    return functions


def make_app(cloud: bool, api_url: str, adapter: str) -> typing.Any:
    """The WSGI callable serving the bench functions through ``adapter``: ``flask`` (Flask's
    ``app.wsgi_app``, both SDKs) or ``wsgi`` (our plain ``inngest.wsgi.serve``)."""
    import inngest

    client = inngest.Inngest(
        app_id=_common.APP_ID,
        is_production=cloud,
        signing_key=_common.SIGNING_KEY if cloud else None,
        api_base_url=api_url,
    )
    functions = make_functions(inngest, client)
    if adapter == "wsgi":
        import inngest.wsgi

        return inngest.wsgi.serve(client, functions)
    import flask
    import inngest.flask

    app = flask.Flask(f"bench-{'cloud' if cloud else 'dev'}")
    inngest.flask.serve(app, client, functions)
    return app.wsgi_app


def flask_noop_call() -> Call:
    """A POST to a Flask route that reads the body and answers it: what Flask alone costs."""
    import flask

    app = flask.Flask("noop")

    @app.route(_common.SERVE_PATH, methods=["POST"])
    def noop() -> tuple[bytes, int]:
        return flask.request.get_data(), 206

    body = _common.execution_body(0)
    return checked(wsgi_call(app.wsgi_app, "POST", "", body, {}), 206)


def flask_noop() -> dict[str, float]:
    return _common.measure(flask_noop_call())


def checked(call: Call, expected: int) -> Call:
    """Fail fast (with the SDK's answer) if a request does not get the expected status."""
    status, body = call()
    if status != expected:
        raise RuntimeError(f"expected {expected}, got {status}: {body[:300]!r}")
    return call


def bench_post(app: typing.Any, cloud: bool) -> dict[str, object]:
    results: dict[str, object] = {}
    for k in _common.STEP_COUNTS:
        results[str(k)] = _common.measure(post_call(app, k, cloud))
    return results


def bench_post_flask(app: typing.Any, cloud: bool) -> dict[str, dict[str, object]]:
    """``bench_post`` for an app served through Flask, each k timed in turns with the Flask
    no-op route, so that the no-op subtracted from each k was timed with it (the machine's
    speed drifts by up to 2x over minutes here)."""
    noop = flask_noop_call()
    results: dict[str, dict[str, object]] = {"post": {}, "noop": {}}
    for k in _common.STEP_COUNTS:
        # A k=1000 request takes up to ~80 ms: smaller turns keep its minimum short.
        timed = _common.measure_alternating(
            {"post": post_call(app, k, cloud), "noop": noop}, block=25 if k < 1000 else 3)
        results["post"][str(k)] = timed["post"]
        results["noop"][str(k)] = timed["noop"]
    return results


def bench_post_with_floors(app: typing.Any, cloud: bool) -> dict[str, dict[str, object]]:
    """``bench_post``, each k timed in turns with the floor, the protocol floor and the WSGI
    no-op for the same request (``floor_worker``), so that the ratios compare timings made
    together."""
    import floor_worker

    results: dict[str, dict[str, object]] = {"ours": {}, "floor": {}, "protocol": {},
                                             "noop": {}}
    for k in _common.STEP_COUNTS:
        body = _common.execution_body(k)
        protocol = floor_worker.protocol_floor_app(k, cloud)
        timed = _common.measure_alternating({
            "ours": post_call(app, k, cloud),
            "floor": floor_worker.floor_call(body, k, cloud),
            "protocol": post_call(protocol, k, cloud),
            "noop": post_call(floor_worker.wsgi_noop_app, k, cloud),
        })
        for name, timing in timed.items():
            results[name][str(k)] = timing
    return results


def post_call(app: typing.Any, k: int, cloud: bool) -> Call:
    """The bench's execution request for k memos, checked once, as a call into ``app``."""
    body = _common.execution_body(k)
    headers = {"x-inngest-signature": _common.sign(body)} if cloud else {}
    query = f"fnId={_common.APP_ID}-{_common.fn_slug(k)}&stepId=step"
    return checked(wsgi_call(app, "POST", query, body, headers), 206)


def bench_get(app: typing.Any, cloud: bool) -> dict[str, float]:
    headers = {"x-inngest-signature": _common.sign(b"")} if cloud else {}
    return _common.measure(checked(wsgi_call(app, "GET", "", b"", headers), 200))


def bench_put(app: typing.Any) -> dict[str, float]:
    call = checked(wsgi_call(app, "PUT", "", b"", {}), 200)
    return _common.measure(call, budget_s=1.0, max_n=500)


def bench_send(event_url: str) -> dict[str, object]:
    import inngest

    client = inngest.Inngest(
        app_id=_common.APP_ID, is_production=False, event_key="bench-key",
        event_api_base_url=event_url,
    )
    single = inngest.Event(name="bench/evt", data={"i": 1})
    batch = [inngest.Event(name="bench/evt", data={"i": i}) for i in range(100)]
    return {
        "single_eps": _events_per_second(lambda: client.send_sync(single), 1),
        "batch100_eps": _events_per_second(lambda: client.send_sync(batch), 100),
    }


def _events_per_second(send: typing.Callable[[], object], per_call: int,
                       budget_s: float = 1.5) -> float:
    for _ in range(3):
        send()
    calls = 0
    start = time.perf_counter()
    while time.perf_counter() - start < budget_s:
        send()
        calls += 1
    return calls * per_call / (time.perf_counter() - start)


def _section(results: dict[str, object], name: str, run: typing.Callable[[], object]) -> None:
    try:
        results[name] = run()
    except Exception as err:  # report and keep measuring the other sections
        results[name] = {"error": f"{type(err).__name__}: {err}"}
        traceback.print_exc(file=sys.stderr)


def _flask_section(results: dict[str, object], key: str,
                   app: typing.Callable[[], typing.Any], cloud: bool) -> None:
    """``key``: POST through Flask; ``key``_noop: the Flask no-op timed in turns with it."""
    try:
        timed = bench_post_flask(app(), cloud)
    except Exception as err:  # report and keep measuring the other sections
        error: dict[str, object] = {"error": f"{type(err).__name__}: {err}"}
        timed = {"post": error, "noop": error}
        traceback.print_exc(file=sys.stderr)
    results[key] = timed["post"]
    results[f"{key}_noop"] = timed["noop"]


def _floored_section(results: dict[str, object], mode: str,
                     app: typing.Callable[[], typing.Any]) -> None:
    try:
        timed = bench_post_with_floors(app(), mode == "cloud")
    except Exception as err:  # report and keep measuring the other sections
        error: dict[str, object] = {"error": f"{type(err).__name__}: {err}"}
        timed = {"ours": error, "floor": error, "protocol": error, "noop": error}
        traceback.print_exc(file=sys.stderr)
    results[f"post_{mode}"] = timed["ours"]
    results[f"floor_{mode}"] = timed["floor"]
    results[f"protocol_floor_{mode}"] = timed["protocol"]
    results[f"wsgi_noop_{mode}"] = timed["noop"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--api-url", required=True, help="stub with /fn/register")
    parser.add_argument("--event-url", required=True, help="stub event API origin")
    parser.add_argument("--adapter", choices=("flask", "wsgi"), default="flask",
                        help="the entry point measured as the SDK's own (lightest) one")
    parser.add_argument("--also-flask", action="store_true",
                        help="also time POST through Flask (post_<mode>_flask)")
    parser.add_argument("--with-floors", action="store_true",
                        help="time POST in turns with the floors (floor_<mode>, "
                             "protocol_floor_<mode>) and a WSGI no-op (wsgi_noop_<mode>)")
    args = parser.parse_args()
    results: dict[str, object] = {"adapter": args.adapter}
    apps: dict[tuple[str, str], typing.Any] = {}

    def app_for(mode: str, adapter: str = args.adapter) -> typing.Any:
        if (mode, adapter) not in apps:
            apps[mode, adapter] = make_app(mode == "cloud", args.api_url, adapter)
        return apps[mode, adapter]

    for mode in ("dev", "cloud"):
        if args.with_floors:
            _floored_section(results, mode, lambda m=mode: app_for(m))
        elif args.adapter == "flask":
            _flask_section(results, f"post_{mode}", lambda m=mode: app_for(m), mode == "cloud")
        else:
            _section(results, f"post_{mode}",
                     lambda m=mode: bench_post(app_for(m), m == "cloud"))
        if args.also_flask and args.adapter != "flask":
            _flask_section(results, f"post_{mode}_flask", lambda m=mode: app_for(m, "flask"),
                           mode == "cloud")
        _section(results, f"get_{mode}", lambda m=mode: bench_get(app_for(m), m == "cloud"))
        _section(results, f"put_{mode}", lambda m=mode: bench_put(app_for(m)))
    # Flask's own cost in this process (this SDK's Flask), on its own; the Flask rows
    # subtract the no-op timed in turns with each of them.
    _section(results, "flask_noop", flask_noop)
    _section(results, "send", lambda: bench_send(args.event_url))
    _common.emit(results)


if __name__ == "__main__":
    main()
