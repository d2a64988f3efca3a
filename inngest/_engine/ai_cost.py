"""The estimated cost the dev server adds to ``inngest.ai`` metadata that comes without one:
the tokens used priced by the model that answered (else the one asked for).

The dev server prices thousands of models; ours knows a few common ones (docs/compatibility.md),
in US dollars per million tokens as their vendors list them. A model not known by its full
name is looked up without its last ``-`` part, then the one before (a dated snapshot such
as ``gpt-4o-2024-08-06`` is priced as ``gpt-4o``); a model not known at all gets no cost.
"""

from __future__ import annotations

import math

from inngest._engine.models import JSON

# (input, output) in USD per million tokens.
_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o": (2.5, 10), "gpt-4o-mini": (0.15, 0.6),
    "gpt-4.1": (2, 8), "gpt-4.1-mini": (0.4, 1.6), "gpt-4.1-nano": (0.1, 0.4),
    "gpt-5": (1.25, 10), "gpt-5-mini": (0.25, 2), "gpt-5-nano": (0.05, 0.4),
    "gpt-5.4": (2.5, 15), "gpt-5.4-mini": (0.75, 4.5), "gpt-5.4-nano": (0.2, 1.25),
    "o3": (2, 8), "o3-mini": (1.1, 4.4), "o4-mini": (1.1, 4.4),
    "claude-opus-4-1": (15, 75), "claude-sonnet-4-5": (3, 15), "claude-haiku-4-5": (1, 5),
    "gemini-2.5-pro": (1.25, 10), "gemini-2.5-flash": (0.3, 2.5),
    "gemini-2.5-flash-lite": (0.1, 0.4),
}


def backfill(values: dict[str, JSON]) -> None:
    """Add ``estimated_cost`` to ``values`` unless it holds a number already. Values of the
    wrong type read as absent (tokens must be whole numbers, models strings)."""
    if _number(values.get("estimated_cost")):
        return
    model = _text(values.get("response_model")) or _text(values.get("request_model"))
    price = _price(model.lower()) if model else None
    if price is None:
        return
    cost = (_tokens(values.get("input_tokens")) * price[0]
            + _tokens(values.get("output_tokens")) * price[1]) / 1_000_000
    values["estimated_cost"] = _round6(cost)


def _price(model: str) -> tuple[float, float] | None:
    while model not in _PRICES:
        model, dash, _ = model.rpartition("-")
        if not dash:
            return None
    return _PRICES[model]


def _round6(value: float) -> float:
    """To 6 decimals, halves away from zero (as Go's ``math.Round``)."""
    return math.copysign(math.floor(abs(value) * 1_000_000 + 0.5), value) / 1_000_000


def _number(value: JSON) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tokens(value: JSON) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: JSON) -> str:
    return value if isinstance(value, str) else ""
