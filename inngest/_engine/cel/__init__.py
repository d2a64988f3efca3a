"""A safe evaluator for the CEL subset used in Inngest expressions.

Sources are tokenized and parsed into a tree of frozen dataclasses, which is
evaluated against plain values: ``None``, ``bool``, ``int``, ``float``,
``str``, lists, mappings and aware ``datetime``s. As on the Inngest server,
missing fields evaluate to ``null`` (but two missing fields, one of them on the
incoming event ``async``, are not equal) and comparing values of unrelated
types gives ``false`` rather than an error. Nothing is ever run through
Python's ``eval``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from inngest._engine.cel.errors import EvaluationFailure, ExpressionError, ExpressionSyntaxError
from inngest._engine.cel.evaluator import Node, absent
from inngest._engine.cel.gofmt import go_string
from inngest._engine.cel.parser import Parser

__all__ = [
    "Expression", "ExpressionError", "ExpressionSyntaxError", "compile_expression", "evaluate",
    "INVALID_KEY", "evaluate_key", "go_string", "key_value", "matches", "validate",
]

_CACHE_SIZE = 1024
# The debounce key of an expression that fails, as on the real server.
INVALID_KEY = "<invalid>"


@dataclass(frozen=True)
class Expression:
    """A compiled expression, safe to evaluate many times and from many threads."""

    source: str
    tree: Node

    def evaluate(self, variables: Mapping[str, object]) -> object:
        """The expression's value; raises ExpressionError on runtime errors."""
        try:
            return self.tree.evaluate(variables)
        except (EvaluationFailure, ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            raise ExpressionError(f"cannot evaluate {self.source!r}: {exc}") from exc


@functools.lru_cache(maxsize=_CACHE_SIZE)
def compile_expression(source: str) -> Expression:
    """Parse ``source``; raises ExpressionError naming the position of a syntax error."""
    try:
        return Expression(source, Parser(source).parse())
    except RecursionError:
        raise ExpressionError(f"expression {source!r} is nested too deeply") from None


def evaluate(source: str, variables: Mapping[str, object]) -> object:
    """Compile (cached) and evaluate ``source``."""
    return compile_expression(source).evaluate(variables)


def matches(source: str, variables: Mapping[str, object]) -> bool:
    """True only if ``source`` evaluates to boolean true; errors count as false."""
    try:
        return evaluate(source, variables) is True
    except ExpressionError:
        return False


def key_value(source: str, variables: Mapping[str, object]) -> object:
    """A flow-control key's value: ``false`` when ``source`` as a whole reads a field (or
    variable) that is not there, as ``event.data.a`` of an event without ``a``: cel-go's
    value is unknown then, which the real server takes as false. Raises ExpressionError."""
    value = evaluate(source, variables)
    return False if value is None and _reads_absent(source, variables) else value


def evaluate_key(source: str, variables: Mapping[str, object],
                 invalid: str = INVALID_KEY) -> str:
    """A flow-control key as the real server writes it (``go_string``): ``1`` and ``"1"``,
    a missing field and ``false``, are one key; ``invalid`` when ``source`` fails."""
    try:
        return go_string(key_value(source, variables))
    except ExpressionError:
        return invalid


def _reads_absent(source: str, variables: Mapping[str, object]) -> bool:
    try:
        return absent(compile_expression(source).tree, variables)
    except (ExpressionError, EvaluationFailure, ValueError, TypeError, ArithmeticError,
            RecursionError):
        return False


def validate(source: str) -> None:
    """Raise ExpressionError if ``source`` does not compile."""
    compile_expression(source)
