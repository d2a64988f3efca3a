"""Durations for the ``server-timing`` response header."""

from __future__ import annotations

import operator
import time

now = time.perf_counter


class ServerTimings:
    """The spans of one request after ``comm_handler`` (which encloses them all), each added
    when it ends; spans run one after another, so they are kept in the order they started."""

    __slots__ = ("started", "spans")

    def __init__(self) -> None:
        self.started = now()
        # (name, start, end) of each span, appended when it ends.
        self.spans: list[tuple[str, float, float]] = []

    def header(self) -> str:
        """The header value, with ``comm_handler`` ending now. Durations are whole
        milliseconds as ``round`` gives them."""
        milliseconds = (now() - self.started) * 1000
        if milliseconds <= 0.5:
            # The usual case: every span lies within comm_handler's, so each is 0 as well.
            names = tuple(map(_name, self.spans))
            return _ZERO_HEADERS.get(names) or _zero_header(names)
        value = "comm_handler;dur=" + str(round(milliseconds))
        for name, started, ended in self.spans:
            milliseconds = (ended - started) * 1000
            duration = "0" if milliseconds <= 0.5 else str(round(milliseconds))
            value += ", " + name + ";dur=" + duration
        return value


_name = operator.itemgetter(0)


# By span names; the handler's requests have a few sets of spans. A dict, not an lru_cache:
# a hit is one lookup, without the cache's bookkeeping (about 450 fewer instructions per
# request, counted with cachegrind).
_ZERO_HEADERS: dict[tuple[str, ...], str] = {}


def _zero_header(names: tuple[str, ...]) -> str:
    """The header of spans ``names`` that all took 0 ms, kept for the next request."""
    header = ", ".join(name + ";dur=0" for name in ("comm_handler", *names))
    if len(_ZERO_HEADERS) >= 32:
        _ZERO_HEADERS.clear()
    _ZERO_HEADERS[names] = header
    return header
