"""The one error expressions raise, and the internal failure it wraps."""

from __future__ import annotations

from inngest._engine.errors import EngineError


class ExpressionError(EngineError, ValueError):
    """An expression that does not compile or cannot be evaluated.

    Syntax errors name the 0-based character position of the problem.
    """

    code = "expression_invalid"


class EvaluationFailure(Exception):
    """A runtime problem; reported to callers as ExpressionError with the source."""
