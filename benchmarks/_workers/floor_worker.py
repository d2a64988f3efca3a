"""The floor for request handling: parse the body, check the HMAC, hash the step ids.

Nothing an SDK does per request can be cheaper than this. Ours goes through a WSGI call the
floor does not make: the WSGI no-op app below, timed in turns with it, is subtracted from ours
for the floor rows, as the Flask rows subtract a Flask no-op route. A second, fuller floor, the
protocol floor, is the least a WSGI app must do to answer the request correctly (the work
above, plus finding the memos, encoding the reply and, signed, signing it). ``sdk_worker.py
--with-floors`` times both in turns with our SDK's request (the floor as bare calls, the
protocol floor through the same WSGI call as the SDK).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import typing

import _common


def floor_call(body: bytes, k: int, signed: bool) -> typing.Callable[[], object]:
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


def wsgi_noop_app(environ: dict[str, typing.Any],
                  start_response: typing.Callable[..., object]) -> list[bytes]:
    """A WSGI app that reads the body and answers it: what the WSGI call alone costs (the
    worker's copy of the environ, the body stream, start_response, the join), the plain-WSGI
    counterpart of the Flask no-op route."""
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"]))
    start_response("206 Partial Content", [("content-type", "application/json"),
                                           ("content-length", str(len(body)))])
    return [body]


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
