"""``POST`` and ``DELETE`` ``/fn/step-limit`` and ``/fn/state-size-limit``: the dev server's
test hooks that set or drop one function's step or state size limit (``functionId``, the
function's UUID, and ``limit``, from the query or a form body), answered as it answers."""

from __future__ import annotations

import re

from inngest._engine import registration
from inngest._engine.http.query import parse as parse_query
from inngest._engine.http.replies import Headers, Response, respond
from inngest._engine.run_limits import Overrides
from inngest._protocol.headers import Header

# Go's strconv.Atoi on a 64-bit machine: a sign, digits, within an int64.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64 = range(-(2 ** 63), 2 ** 63)
_FORM = "application/x-www-form-urlencoded"


class LimitRoutes:
    """The two routes of one limit; ``noun`` names it in the 404 (``step limit``)."""

    def __init__(self, overrides: Overrides, noun: str) -> None:
        self.overrides = overrides
        self.noun = noun

    def set(self, query: dict[str, str], headers: Headers, body: bytes,
            **_: object) -> Response:
        form = _form(query, headers, body)
        text = form.get("limit", "")
        limit = int(text) if _INTEGER.fullmatch(text) else None
        if limit is None or limit not in _INT64:
            return _error(400, f"Invalid limit: {text}")
        self.overrides.set(form.get("functionId", ""), limit)
        return _ok()

    def remove(self, query: dict[str, str], **_: object) -> Response:
        # Go reads a form body only for POST, PUT and PATCH: a DELETE's is left unread.
        function_id = query.get("functionId", "")
        if not self.overrides.remove(function_id):
            return _error(404, f"No {self.noun} set for function: {function_id}")
        return _ok()


def _form(query: dict[str, str], headers: Headers, body: bytes) -> dict[str, str]:
    """The request's form values as Go's ``FormValue`` reads them: a form body's first,
    then the query's."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _FORM:
        return query
    return {**query, **parse_query(body.decode("latin-1"))}


def _ok() -> Response:
    return 200, {Header.SERVER_KIND: registration.SERVER_KIND}, b""


def _error(status: int, message: str) -> Response:
    return respond(status, {"error": message, "data": None, "status": status})
