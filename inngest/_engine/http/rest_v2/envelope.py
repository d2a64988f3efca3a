"""REST v2 answers: ``{"data", "metadata", "page"}`` or ``{"errors": [{"code", "message"}]}``,
encoded as the real server's gateway writes them (keys sorted, no spaces)."""

from __future__ import annotations

import json
import typing

from inngest._engine import registration
from inngest._engine.payload import escape_html, escape_separators
from inngest._protocol.headers import Header

Object = dict[str, object]
Response = tuple[int, dict[str, str], bytes]
# The engine's own headers (as http/api.py sends them), which imports this package.
_HEADERS = {"content-type": "application/json", Header.SERVER_KIND: registration.SERVER_KIND}

# Codes the real server uses (its apiv2base errors), and the gateway's own for what never
# reached a handler (unknown path, wrong method, unreadable parameter or body).
API_ERROR = "api_error"
FUNCTION_SKIPPED = "function_skipped"
INTERNAL_ERROR = "internal_error"
INVALID_FIELD_FORMAT = "invalid_field_format"
INVALID_REQUEST = "invalid_request"
MISSING_FIELD = "missing_field"
NOT_FOUND = "not_found"
NOT_IMPLEMENTED = "not_implemented"
VALIDATION_ERROR = "validation_error"
RUN_ALREADY_CANCELLED = "run_already_cancelled"
RUN_ALREADY_ENDED = "run_already_ended"


class V2Error(Exception):
    """A refused request: its status and one or more ``(code, message)``."""

    def __init__(self, status: int, code: str, message: str,
                 *more: tuple[str, str]) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [(code, message), *more]

    def response(self) -> Response:
        return encode(self.status, {"errors": [{"code": code, "message": message}
                                               for code, message in self.errors]},
                      html_escaped=True)


class Answered(Exception):
    """An answer with data and another status than 200 (the dev server's 409 for an invoke
    whose idempotency key started a run already)."""

    def __init__(self, status: int, body: Object) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def encode(status: int, body: Object, html_escaped: bool = False) -> Response:
    """An answer as the real server writes it: data by an encoder told not to escape HTML
    characters (U+2028 and U+2029 it escapes all the same), errors by ``json.Marshal``,
    which escapes them (``html_escaped``)."""
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    payload = escape_html(payload) if html_escaped else escape_separators(payload)
    # Stored text has no lone surrogates (bodies are read with them replaced); never fail on one.
    return status, dict(_HEADERS), payload.encode("utf-8", "replace")


def proto(**fields: object) -> Object:
    """A message as protobuf's JSON writes it: fields at their zero value are left out.
    ``None`` is an unset optional field; an optional set to a zero value is passed wrapped
    in ``Keep``."""
    out: Object = {}
    for name, value in fields.items():
        if isinstance(value, Keep):
            out[name] = value.value
        elif value not in (None, False, 0, "", [], {}):
            out[name] = value
    return out


class Keep(typing.NamedTuple):
    value: object
