"""Why Go's ``time.ParseDuration`` (as str2duration extends it, with ``d`` and ``w``) refuses
a text, in its words: the real server answers a registration whose throttle period it cannot
parse with that message (``Invalid request: time: invalid duration "abc"``)."""

from __future__ import annotations

_UNIT_NS = {
    "ns": 1, "us": 10**3, "\u00b5s": 10**3, "\u03bcs": 10**3, "ms": 10**6, "s": 10**9,
    "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9,
}
_MAX = 2**63 - 1


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    for char, escape in (("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        escaped = escaped.replace(char, escape)
    return f'"{escaped}"'


def _number_end(text: str, at: int) -> int:
    while at < len(text) and "0" <= text[at] <= "9":
        at += 1
    return at


def _unit_end(text: str, at: int) -> int:
    while at < len(text) and not (text[at] == "." or "0" <= text[at] <= "9"):
        at += 1
    return at


def parse_error(original: str) -> str | None:
    """Go's error for ``original``, or None when Go parses it."""
    invalid = f"time: invalid duration {_quote(original)}"
    text = original[1:] if original[:1] in ("-", "+") else original
    if text == "0":
        return None
    if not text:
        return invalid
    total, at = 0, 0
    while at < len(text):
        if not (text[at] == "." or "0" <= text[at] <= "9"):
            return invalid
        whole_end = _number_end(text, at)
        whole, fraction = int(text[at:whole_end] or "0"), ""
        has_whole, at = whole_end > at, whole_end
        if at < len(text) and text[at] == ".":
            fraction_end = _number_end(text, at + 1)
            fraction, at = text[at + 1:fraction_end], fraction_end
        if not has_whole and not fraction:
            return invalid
        unit_end = _unit_end(text, at)
        if unit_end == at:
            return f"time: missing unit in duration {_quote(original)}"
        unit, at = text[at:unit_end], unit_end
        if unit not in _UNIT_NS:
            return f"time: unknown unit {_quote(unit)} in duration {_quote(original)}"
        scale = _UNIT_NS[unit]
        if whole > _MAX // scale:
            return invalid
        total += whole * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction
                                  else 0)
        if total > _MAX:
            return invalid
    return None
