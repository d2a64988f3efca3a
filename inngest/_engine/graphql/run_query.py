"""``runs(filter: {query})``: the CEL filter on a run's triggering event.

The real dev server turns the expression into SQL over its events table, so it reads only
comparisons of ``event.name``, ``event.id``, ``event.ts`` and ``event.data.<path>`` with a
literal, joined by ``&&``, ``||`` and ``!``, under SQL's three-valued logic: a missing (or
JSON null) data field makes a comparison unknown, and a run is listed only when the whole
is true. A comparison of anything else (``output``, ``status``, an unknown name) is dropped,
as if it were not written. Each line of the filter is an expression of its own, and a run is
listed only when every line is true; empty lines are skipped (the real server never answers
a filter with one). Every rule here was measured on the real server; see
tests/unit/engine/test_graphql_run_query.py.
"""

from __future__ import annotations

import json
import re
import typing

from inngest._engine import cel
from inngest._engine.cel import evaluator as ast
from inngest._engine.cel.lifting import lift_literals
from inngest._engine.models import JSON

Truth = typing.Optional[bool]  # None: SQL's unknown
Condition = typing.Callable[[typing.Mapping[str, JSON]], Truth]


class RunQueryError(ValueError):
    """The expression compiles as CEL but is not one the real server's translation takes."""


class _ConversionError(RunQueryError):
    """Refused as the real server turns a line into SQL, once every line has parsed."""


_INVALID = "invalid syntax detected"
_MACROS = "macros are currently not supported"
_UNSUPPORTED = (ast.Call, ast.Index, ast.In, ast.Arithmetic, ast.Conditional, ast.Negate,
                ast.ListLiteral)
_SQL_REAL_PREFIX = re.compile(r"\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def compile_run_query(source: str) -> Condition:
    """A condition on a triggering event, true when each line's is; raises
    ``cel.ExpressionError`` or ``RunQueryError`` as the real server refuses the filter."""
    conditions = _line_conditions(source)
    if not conditions:
        return _always
    if len(conditions) == 1:
        return conditions[0]
    return lambda event: _and(condition(event) for condition in conditions)


def _line_conditions(source: str) -> list[Condition]:
    """The non-empty lines' conditions. As on the real server, a line that does not parse
    is reported before any line's SQL translation refused."""
    conditions: list[Condition] = []
    refused: _ConversionError | None = None
    for line in filter(None, source.split("\n")):
        try:
            condition = _line_condition(line)
        except _ConversionError as err:
            refused = refused or err
            continue
        if condition is not None:
            conditions.append(condition)
    if refused is not None:
        raise refused
    return conditions


def _line_condition(line: str) -> Condition | None:
    tree = _parsed(line)
    if isinstance(tree, ast.Literal):
        raise RunQueryError(_INVALID)
    if isinstance(tree, (ast.Variable, ast.Select)):
        raise RunQueryError(_MACROS)
    return _condition(tree)


def _parsed(source: str) -> ast.Node:
    """The line's tree. The real server parses it with its literals lifted out
    (``lifting``), so a syntax error is the lifted text's, shown with the line as written
    (or as cel-go words it, when lifting left nothing); a line that parses only once lifted
    (a string left open) is read lifted."""
    lifted = lift_literals(source)
    try:
        lifted_tree = cel.compile_expression(lifted).tree
    except cel.ExpressionSyntaxError as err:
        if not lifted:
            raise
        raise cel.ExpressionSyntaxError(source, 0, err.detail, syntax=False) from None
    try:
        return cel.compile_expression(source).tree
    except cel.ExpressionSyntaxError:
        return lifted_tree


def _always(event: typing.Mapping[str, JSON]) -> Truth:
    return True


def _condition(node: ast.Node) -> Condition | None:
    """None for a part the real server leaves out of its SQL."""
    _reject_unsupported(node)
    if isinstance(node, ast.Logical):
        return _logical(node)
    if isinstance(node, ast.Not):
        return _negation(node)
    if isinstance(node, ast.Comparison):
        return _comparison(node)
    return None


def _reject_unsupported(node: ast.Node) -> None:
    if isinstance(node, ast.Has):
        raise RunQueryError(_MACROS)
    if isinstance(node, ast.MapLiteral):
        raise _ConversionError("unsupported literal type: *ast.baseMapExpr")
    if isinstance(node, _UNSUPPORTED):
        raise RunQueryError(_INVALID)


def _logical(node: ast.Logical) -> Condition | None:
    left, right = _condition(node.left), _condition(node.right)
    if left is None or right is None:
        return left or right
    both = (left, right)
    return (lambda event: _and(c(event) for c in both)) if node.op == "&&" \
        else (lambda event: _or(c(event) for c in both))


def _and(truths: typing.Iterable[Truth]) -> Truth:
    values = list(truths)
    return False if False in values else None if None in values else True


def _or(truths: typing.Iterable[Truth]) -> Truth:
    values = list(truths)
    return True if True in values else None if None in values else False


def _negation(node: ast.Not) -> Condition | None:
    operand = _condition(node.operand)
    if operand is None:
        return None
    return lambda event: None if (truth := operand(event)) is None else not truth


def _comparison(node: ast.Comparison) -> Condition | None:
    for operand in (node.left, node.right):
        _reject_unsupported(operand)
    left, right = _field_path(node.left), _field_path(node.right)
    if left is not None and right is not None:
        return lambda event: None  # two columns: the real server lists no run
    path, literal = (left, node.right) if left is not None else (right, node.left)
    if path is None or not isinstance(literal, ast.Literal):
        return None
    op = node.op if left is not None else _MIRRORED.get(node.op, node.op)
    return _field_comparison(path, op, literal.value)


_MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<="}


def _field_path(node: ast.Node) -> tuple[str, ...] | None:
    names: list[str] = []
    while isinstance(node, ast.Select):
        names.insert(0, node.field)
        node = node.operand
    return tuple(names) if isinstance(node, ast.Variable) and node.name == "event" else None


def _field_comparison(path: tuple[str, ...], op: str, literal: object) -> Condition | None:
    if path in (("name",), ("id",)):
        return _text_column(path[0], op, literal)
    if path == ("ts",):
        return _data_comparison(lambda event: event.get("ts"), op, literal)
    if len(path) > 1 and path[0] == "data":
        return _data_comparison(lambda event: _data_at(event, path[1:]), op, literal)
    return None


def _text_column(column: str, op: str, literal: object) -> Condition | None:
    if not isinstance(literal, str):
        raise _ConversionError(f"expects 'event.{column}' to be a string: {_go_text(literal)}")
    if op not in ("==", "!="):
        return None  # ordering on these columns is not filtered on there
    return lambda event: (event.get(column) == literal) == (op == "==")


def _go_text(value: object) -> str:
    return "<nil>" if value is None else json.dumps(value)


def _data_at(event: typing.Mapping[str, JSON], path: tuple[str, ...]) -> JSON:
    value: JSON = event.get("data")
    for name in path:
        if not isinstance(value, typing.Mapping):
            return None
        value = value.get(name)
    return value


def _data_comparison(read: typing.Callable[[typing.Mapping[str, JSON]], JSON], op: str,
                     literal: object) -> Condition:
    if isinstance(literal, str) and op not in ("==", "!="):
        raise _ConversionError(f"unsupported string operator: _{op}_")

    def compare(event: typing.Mapping[str, JSON]) -> Truth:
        value = read(event)
        if value is None:
            return None
        if literal is None:  # only ``!= null`` is translated to a test (IS NOT NULL)
            return True if op == "!=" else None
        return _compare(_operand(value, literal), op, _sql_value(literal))

    return compare


def _operand(value: JSON, literal: object) -> object:
    """The field as SQLite compares it with ``literal``: a number literal casts it to a
    number ("a" is 0), a string or boolean literal compares the stored JSON value."""
    if isinstance(literal, (int, float)) and not isinstance(literal, bool):
        return _sql_real(value)
    return _sql_value(value)


def _sql_value(value: object) -> object:
    return int(value) if isinstance(value, bool) else value


def _sql_real(value: JSON) -> float:
    if isinstance(value, (bool, int, float)):
        return float(value)
    match = _SQL_REAL_PREFIX.match(value) if isinstance(value, str) else None
    return float(match.group(0)) if match else 0.0


def _compare(left: object, op: str, right: object) -> Truth:
    if op in ("==", "!="):
        same = type(left) is type(right) or _is_number(left) and _is_number(right)
        return (same and left == right) == (op == "==")
    if not (_is_number(left) and _is_number(right)):
        return False
    a, b = typing.cast(float, left), typing.cast(float, right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
