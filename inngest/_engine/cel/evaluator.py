"""The syntax tree: frozen nodes that evaluate themselves against the top-level variables."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass

from inngest._engine.cel.errors import EvaluationFailure
from inngest._engine.cel.gofmt import go_string
from inngest._engine.cel.operations import (
    ARITHMETIC,
    FUNCTIONS,
    get_field,
    get_item,
    is_list,
    is_number,
    no_overload,
    ordered,
    type_name,
    values_equal,
)

_Scope = Mapping[str, object]
# The variable that holds the incoming event in wait and cancel expressions.
_INCOMING = "async"


class Node(ABC):
    @abstractmethod
    def evaluate(self, scope: _Scope) -> object:
        """The node's value given the top-level variables."""


@dataclass(frozen=True)
class Literal(Node):
    value: object

    def evaluate(self, scope: _Scope) -> object:
        return self.value


@dataclass(frozen=True)
class Variable(Node):
    name: str

    def evaluate(self, scope: _Scope) -> object:
        return scope.get(self.name)


@dataclass(frozen=True)
class Select(Node):
    operand: Node
    field: str

    def evaluate(self, scope: _Scope) -> object:
        return get_field(self.operand.evaluate(scope), self.field)


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    key: Node

    def evaluate(self, scope: _Scope) -> object:
        return get_item(self.operand.evaluate(scope), self.key.evaluate(scope))


@dataclass(frozen=True)
class Has(Node):
    operand: Node
    field: str

    def evaluate(self, scope: _Scope) -> object:
        container = self.operand.evaluate(scope)
        return isinstance(container, Mapping) and self.field in container


@dataclass(frozen=True)
class Call(Node):
    function: str
    arguments: tuple[Node, ...]

    def evaluate(self, scope: _Scope) -> object:
        if self.function not in FUNCTIONS:
            raise EvaluationFailure(f"unknown function {self.function!r}")
        arity, implementation = FUNCTIONS[self.function]
        if len(self.arguments) != arity:
            raise EvaluationFailure(
                f"{self.function!r} takes {arity} argument(s), got {len(self.arguments)}"
            )
        return implementation(*(argument.evaluate(scope) for argument in self.arguments))


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def evaluate(self, scope: _Scope) -> object:
        value = self.operand.evaluate(scope)
        if value is None and absent(self.operand, scope):
            return False  # as the real server, for which the field's value is unknown
        if not isinstance(value, bool):
            raise no_overload("!", value)
        return not value


@dataclass(frozen=True)
class Negate(Node):
    operand: Node

    def evaluate(self, scope: _Scope) -> object:
        value = self.operand.evaluate(scope)
        if not is_number(value):
            raise no_overload("-", value)
        return -value


@dataclass(frozen=True)
class Logical(Node):
    """``&&`` or ``||``: like CEL, a deciding operand wins even over an error in the other.
    With an operand that is not a boolean, as the real server's evaluator (measured): ``||``
    gives the first truthy operand, ``&&`` the first that is not, else the last."""

    op: str
    left: Node
    right: Node

    def evaluate(self, scope: _Scope) -> object:
        deciding = self.op == "||"  # true decides ||, false decides &&
        left, right = _attempt(self.left, scope), _attempt(self.right, scope)
        if isinstance(left, bool) and isinstance(right, bool):
            return deciding if deciding in (left, right) else not deciding
        if isinstance(left, bool) and left is deciding:
            return deciding
        if isinstance(right, bool) and right is deciding and isinstance(left, EvaluationFailure):
            return deciding
        node, value = (self.left, left) if truthy(left) is deciding else (self.right, right)
        # A field that is not there is unknown to the server's evaluator, false in the end.
        return False if value is None and absent(node, scope) else _value(value)


def _attempt(node: Node, scope: _Scope) -> object:
    try:
        return node.evaluate(scope)
    except EvaluationFailure as failure:
        return failure


def _value(value: object) -> object:
    if isinstance(value, EvaluationFailure):
        raise value
    return value


def truthy(value: object) -> bool:
    """The real server's truthiness: false, null, errors, zero and "" are not truthy."""
    if value is None or isinstance(value, EvaluationFailure):
        return False
    if isinstance(value, (bool, int, float, str)):
        return bool(value)
    return True


@dataclass(frozen=True)
class Conditional(Node):
    """``c ? a : b``; a condition that is not a boolean counts by its truthiness, as on the
    real server (measured), one that fails as false."""

    condition: Node
    then: Node
    otherwise: Node

    def evaluate(self, scope: _Scope) -> object:
        condition = truthy(_attempt(self.condition, scope))
        return (self.then if condition else self.otherwise).evaluate(scope)


@dataclass(frozen=True)
class Comparison(Node):
    op: str
    left: Node
    right: Node

    def evaluate(self, scope: _Scope) -> object:
        left, right = self.left.evaluate(scope), self.right.evaluate(scope)
        if self.op == "==":
            return values_equal(left, right) and not self._absent_on_both_sides(left, right, scope)
        if self.op == "!=":
            return not values_equal(left, right) or self._absent_on_both_sides(left, right, scope)
        return ordered(self.op, left, right)

    def _absent_on_both_sides(self, left: object, right: object, scope: _Scope) -> bool:
        """Whether both sides read fields that are not there, one of them on the incoming
        event: the real server (measured) finds ``async.data.a == event.data.b`` false and
        ``async.data.a != async.data.b`` true then, though either absent field equals null."""
        return left is None and right is None \
            and _INCOMING in (_root(self.left), _root(self.right)) \
            and absent(self.left, scope) and absent(self.right, scope)


@dataclass(frozen=True)
class In(Node):
    item: Node
    container: Node

    def evaluate(self, scope: _Scope) -> object:
        item, container = self.item.evaluate(scope), self.container.evaluate(scope)
        if isinstance(container, Mapping):
            return any(values_equal(item, key) for key in container)
        if is_list(container):
            return any(values_equal(item, element) for element in container)
        return False


@dataclass(frozen=True)
class Arithmetic(Node):
    op: str
    left: Node
    right: Node

    def evaluate(self, scope: _Scope) -> object:
        left, right = self.left.evaluate(scope), self.right.evaluate(scope)
        try:
            return ARITHMETIC[self.op](left, right)
        except EvaluationFailure as failure:
            return self._lenient(left, right, scope, failure)

    def _lenient(self, left: object, right: object, scope: _Scope,
                 failure: EvaluationFailure) -> object:
        """What the real server's evaluator (measured) makes of an operation it cannot do:
        with a field that is not there, ``+`` gives the other operand and the others
        false; ``+`` of two types joins them as Go writes them (``1 + "x"`` is ``"1x"``)."""
        missing = absent(self.left, scope), absent(self.right, scope)
        if any(missing):
            if self.op != "+" or all(missing):
                return False
            return right if missing[0] else left
        if self.op == "+" and type_name(left) != type_name(right):
            return go_string(left) + go_string(right)
        raise failure


@dataclass(frozen=True)
class ListLiteral(Node):
    items: tuple[Node, ...]

    def evaluate(self, scope: _Scope) -> object:
        if any(absent(item, scope) for item in self.items):
            # The real server (measured) fails a list built from a field that is not there.
            raise EvaluationFailure("a list item reads a field that is not there")
        return [item.evaluate(scope) for item in self.items]


@dataclass(frozen=True)
class MapLiteral(Node):
    entries: tuple[tuple[Node, Node], ...]

    def evaluate(self, scope: _Scope) -> object:
        result: dict[object, object] = {}
        for key_node, value_node in self.entries:
            key = key_node.evaluate(scope)
            if not isinstance(key, (str, int)):  # CEL map keys: string, int, bool
                raise EvaluationFailure(f"invalid map key type {type_name(key)}")
            result[key] = value_node.evaluate(scope)
        return result


def _root(node: Node) -> str | None:
    """The variable a chain of field reads starts from (``async`` for ``async.data.a``)."""
    while isinstance(node, (Select, Index)):
        node = node.operand
    return node.name if isinstance(node, Variable) else None


def absent(node: Node, scope: _Scope) -> bool:
    """Whether ``node`` reads a field, or a variable, that is not there."""
    if isinstance(node, Variable):
        return node.name not in scope
    if isinstance(node, Select):
        key: object = node.field
    elif isinstance(node, Index):
        key = node.key.evaluate(scope)
    else:
        return False
    if absent(node.operand, scope):
        return True
    parent = node.operand.evaluate(scope)
    if isinstance(parent, Mapping):
        return key not in parent
    return not is_list(parent)  # an element of a list that is there is not absent
