"""The floor for request handling: parse the body, check the HMAC, hash the step ids.

Nothing an SDK does per request can be cheaper than this; Flask's own cost for a no-op
route that reads the body is measured too, for context. So is a second, fuller floor, the
protocol floor: the least a WSGI app must do to answer the request correctly (the work above,
plus finding the memos, encoding the reply and, signed, signing it), timed through the same
WSGI call as the SDK. Prints one ``BENCH-JSON`` line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import typing

import _common
import sdk_worker


def floor_call(body: bytes, k: int, signed: bool) -> object:
    key = _common.raw_key(_common.SIGNING_KEY)
    timestamp = b"1700000000"

    def call() -> object:
        payload = json.loads(body)
        if signed:
            hmac.new(key, body + timestamp, "sha256").hexdigest()
        for i in range(k + 1):
            hashlib.sha1(_common.step_id(i).encode("utf-8")).hexdigest()
        return payload

    return call


def protocol_floor_app(k: int, signed: bool) -> typing.Callable[..., list[bytes]]:
    """A WSGI app answering the bench's k-memo request as the SDK must, and nothing more."""
    key = _common.raw_key(_common.SIGNING_KEY)

    def app(environ: dict[str, typing.Any],
            start_response: typing.Callable[..., object]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
        if signed:
            fields = dict(part.split("=", 1)
                          for part in environ["HTTP_X_INNGEST_SIGNATURE"].split("&"))
            expected = hmac.new(key, body + fields["t"].encode(), "sha256").hexdigest()
            if not hmac.compare_digest(expected, fields["s"]):
                raise ValueError("bad signature")
        steps = json.loads(body)["steps"]
        for i in range(k):
            steps[hashlib.sha1(_common.step_id(i).encode("utf-8")).hexdigest()]["data"]
        name = _common.step_id(k)
        op = {"displayName": name, "id": hashlib.sha1(name.encode("utf-8")).hexdigest(),
              "name": name, "op": "StepRun", "opts": None,
              "userland": {"id": name, "index": None}, "data": 1}
        out = json.dumps([op]).encode("utf-8")
        headers = [("content-type", "application/json"), ("x-inngest-sdk", "floor:v0"),
                   ("x-inngest-req-version", "2"), ("content-length", str(len(out)))]
        if signed:
            timestamp = str(int(time.time()))
            digest = hmac.new(key, out + timestamp.encode(), "sha256").hexdigest()
            headers.append(("x-inngest-signature", f"t={timestamp}&s={digest}"))
        start_response("206 Partial Content", headers)
        return [out]

    return app


def protocol_floor_us(k: int, signed: bool) -> dict[str, float]:
    body = _common.execution_body(k)
    headers = {"x-inngest-signature": _common.sign(body)} if signed else {}
    call = sdk_worker.wsgi_call(protocol_floor_app(k, signed), "POST", "", body, headers)
    return _common.measure(sdk_worker.checked(call, 206))


def flask_noop_us() -> dict[str, float]:
    import flask

    app = flask.Flask("noop")

    @app.route(_common.SERVE_PATH, methods=["POST"])
    def noop() -> tuple[bytes, int]:
        return flask.request.get_data(), 206

    body = _common.execution_body(0)
    return _common.measure(sdk_worker.wsgi_call(app.wsgi_app, "POST", "", body, {}))


def main() -> None:
    results: dict[str, object] = {}
    for mode, signed in (("dev", False), ("cloud", True)):
        results[mode] = {
            str(k): _common.measure(floor_call(_common.execution_body(k), k, signed))
            for k in _common.STEP_COUNTS
        }
        results[f"protocol_{mode}"] = {
            str(k): protocol_floor_us(k, signed) for k in _common.STEP_COUNTS
        }
    results["flask_noop"] = flask_noop_us()
    _common.emit(results)


if __name__ == "__main__":
    main()
