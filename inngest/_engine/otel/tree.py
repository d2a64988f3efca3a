"""Userland spans in ``runTrace``, placed as the dev server places them.

A call's spans hang under the span of its attempt (each ``Attempt N`` child of a step, or
the step itself when its one attempt succeeded). The SDK wraps each call's spans in one
``inngest.execution`` span, which is not shown: when it is the attempt's only span, its
children take its place. Each span lists the spans whose parent it is, by start time.
"""

from __future__ import annotations

import collections
import typing

from inngest._engine.models import JSON
from inngest._engine.payload import Object, escape_html, to_int
from inngest._protocol import jcs

Span = dict[str, object]
SDK_EXECUTION_SPAN = "inngest.execution"


class Userland:
    """A run's userland spans, by the span they hang under."""

    def __init__(self, spans: typing.Iterable[Object]) -> None:
        self._by_parent: dict[str, list[Object]] = collections.defaultdict(list)
        for span in spans:
            self._by_parent[str(span.get("parentSpanID"))].append(span)

    def of_call(self, call_span_id: str) -> list[Span]:
        """The spans shown under the call's attempt."""
        spans = self._children(call_span_id, set())
        if len(spans) == 1 and spans[0]["name"] == SDK_EXECUTION_SPAN:
            return typing.cast(list[Span], spans[0]["childrenSpans"])
        return spans

    def _children(self, parent: str, seen: set[str]) -> list[Span]:
        if parent in seen:
            return []
        seen.add(parent)
        ordered = sorted(self._by_parent.get(parent, []),
                         key=lambda span: to_int(span.get("startedAt"), "startedAt"))
        return [_shown(span, self._children(str(span.get("spanID")), seen))
                for span in ordered]


def _shown(span: Object, children: list[Span]) -> Span:
    started = to_int(span.get("startedAt"), "startedAt")
    ended = to_int(span.get("endedAt"), "endedAt")
    return {
        "spanID": span.get("spanID"), "parentSpanID": span.get("parentSpanID"),
        "name": span.get("name"), "status": span.get("status"), "isRoot": False,
        "isUserland": True, "attempts": 0, "stepOp": None, "stepID": None, "outputID": None,
        "stepInfo": None, "queuedAt": started, "startedAt": started, "endedAt": ended,
        "duration": ended - started, "childrenSpans": children,
        "userlandSpan": {
            "spanName": span.get("name"), "spanKind": span.get("kind"),
            "serviceName": span.get("serviceName"), "scopeName": span.get("scopeName"),
            "scopeVersion": span.get("scopeVersion"), "resourceAttrs": None,
            "spanAttrs": _attributes_text(span.get("attributes")),
        },
    }


def _attributes_text(attributes: JSON) -> str:
    """Attributes as the server's Go JSON encoder writes a map of them (keys sorted)."""
    return escape_html(jcs.canonicalize(attributes).decode())
