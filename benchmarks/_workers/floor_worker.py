"""The floor for request handling: parse the body, check the HMAC, hash the step ids.

Nothing an SDK does per request can be cheaper than this; Flask's own cost for a no-op
route that reads the body is measured too, for context. Prints one ``BENCH-JSON`` line.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import _common


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


def flask_noop_us() -> dict[str, float]:
    import flask
    import sdk_worker

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
    results["flask_noop"] = flask_noop_us()
    _common.emit(results)


if __name__ == "__main__":
    main()
