"""Validation of a document against a ``Schema``, rule by rule as gqlparser (the real
server's validator) validates.
"""

from __future__ import annotations

import dataclasses
import json
import math
import typing
from collections.abc import Iterable, Mapping, Sequence

from inngest._engine.graphql.syntax import (
    Arguments, Directive, Document, EnumValue, FieldNode, FloatLiteral, Fragment, FragmentSpread,
    InlineFragment, ListValue, Location, ObjectValue, Operation, Selection, TypeRef, Value,
    Variable, VariableDef,
)
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.overlaps import Overlaps
from inngest._engine.graphql.parser import parse_input_decl, parse_type
from inngest._engine.graphql.typesystem import BUILT_IN_SCALARS, KNOWN_DIRECTIVES, Field, Schema


def _variables_at(value: Value, loc: Location) -> Iterable[tuple[Variable, Location]]:
    """Each variable in a value starting at ``loc``, with where it is."""
    if isinstance(value, Variable):
        yield value, loc
    elif isinstance(value, ListValue):
        for item, item_loc in zip(value.items, value.locs):
            yield from _variables_at(item, item_loc)
    elif isinstance(value, ObjectValue):
        for field in value.fields:
            yield from _variables_at(field.value, field.value_loc)


def render_value(value: Value) -> str:
    """A literal as gqlparser prints it in messages: no spaces inside lists and objects."""
    if isinstance(value, ListValue):
        return "[" + ",".join(render_value(item) for item in value.items) + "]"
    if isinstance(value, ObjectValue):
        return "{" + ",".join(f"{f.name}:{render_value(f.value)}" for f in value.fields) + "}"
    if isinstance(value, (Variable, EnumValue)):
        return f"${value.name}" if isinstance(value, Variable) else value.name
    return value.text if isinstance(value, FloatLiteral) else json.dumps(value)


# What a literal of each built-in scalar may be (exact types: a bool is no Int), and the
# message gqlparser gives for anything else (measured on the real server).
_SCALAR_LITERALS: Mapping[str, tuple[tuple[type, ...], str]] = {
    "Int": ((int,), "Int cannot represent non-integer value: {}"),
    "Float": ((int, FloatLiteral), "Float cannot represent non numeric value: {}"),
    "String": ((str,), "String cannot represent a non string value: {}"),
    "Boolean": ((bool,), "Boolean cannot represent a non boolean value: {}"),
    "ID": ((str, int), "ID cannot represent a non-string and non-integer value: {}"),
}

_INT64 = range(-2 ** 63, 2 ** 63)


def _out_of_range(value: Value) -> bool:
    """A number literal gqlparser cannot read: a float past a float64, an int past an int64
    (checked before the literal's kind: the dev server reports both, measured)."""
    if type(value) is int:
        return value not in _INT64
    return isinstance(value, FloatLiteral) and math.isinf(value)


def _fits(given: TypeRef, expected: TypeRef) -> bool:
    """Whether a variable of type ``given`` may be used where ``expected`` is."""
    if expected.non_null and not given.non_null:
        return False
    if given.of is None or expected.of is None:
        return given.of is None and expected.of is None and given.name == expected.name
    return _fits(given.of, expected.of)


def _distance(typed: str, option: str) -> int:
    """gqlparser's lexical distance: Levenshtein's, a change of case counting as one edit."""
    if typed == option:
        return 0
    a, b = typed.lower(), option.lower()
    if a == b:
        return 1
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def did_you_mean(typed: str, options: Iterable[str], prefix: str = "Did you mean") -> str:
    """The hint gqlparser appends to a message: the options close to ``typed``, closest
    first, at most five; empty when none is close."""
    threshold = len(typed) * 2 // 5 + 1
    scored = [(distance, option) for option in options
              if abs(len(option) - len(typed)) <= threshold  # else too far, and quicker
              and (distance := _distance(typed, option)) <= threshold]
    found = [f'"{option}"' for _, option in sorted(scored, key=lambda pair: pair[0])]
    return f" {prefix} {_or_list(found)}?" if found else ""


def _or_list(items: Sequence[str]) -> str:
    """``A, B, or C`` of the first five items; ``A or B`` of two."""
    items = items[:5]
    if len(items) <= 2:
        return " or ".join(items)
    return ", ".join(items[:-1]) + ", or " + items[-1]


def _spreads_in(selections: tuple[Selection, ...]) -> list[FragmentSpread]:
    """The fragment spreads below a selection set, in the order gqlparser's cycle check
    visits them (each set's own spreads, then nested sets from the last)."""
    spreads: list[FragmentSpread] = []
    pending = [selections]
    while pending:
        for selection in pending.pop():
            if isinstance(selection, FragmentSpread):
                spreads.append(selection)
            else:
                pending.append(selection.selections)
    return spreads


class Validator:
    """gqlparser's validation of a whole document: every operation is walked (each fragment
    it spreads once), then every fragment definition on its own, so that a mistake inside a
    spread fragment is reported twice, as there. Each rule reports when the walk reaches
    what it checks, which gives the dev server's order of errors."""

    def __init__(self, schema: Schema, document: Document) -> None:
        self._schema = schema
        self._document = document
        self._operation: Operation | None = None
        self._defined: dict[str, VariableDef] = {}
        self._used: set[str] = set()
        self._walked: set[str] = set()  # fragments spread so far in this walk
        self._spread: set[str] = set()  # fragments reached from operations
        self._counting_spreads = True
        self._cycle_checked: set[str] = set()
        self._directives_reported: set[tuple[str, Location]] = set()
        self._selected_on: dict[int, tuple[str | None, Field | None]] = {}
        self._overlaps = Overlaps(schema, document, self._selected_on)
        self.errors: list[GraphQLError] = []

    def _error(self, message: str, loc: Location) -> None:
        self.errors.append(GraphQLError(message, [loc]))

    def document(self) -> list[GraphQLError]:
        operation_names: set[str] = set()
        for operation in self._document.operations:
            self._walk_operation(operation, operation_names)
        fragment_names: set[str] = set()
        for fragment in self._document.definitions:
            self._walk_fragment(fragment)
            if fragment.name in fragment_names:
                self._error(f'There can be only one fragment named "{fragment.name}".',
                            fragment.loc)
            fragment_names.add(fragment.name)
        return self.errors

    # -------------------------------------------------------------- operations

    def _walk_operation(self, operation: Operation, names: set[str]) -> None:
        self._operation = operation
        self._defined = {}
        for definition in operation.variables:
            self._defined.setdefault(definition.name, definition)
        self._used, self._walked = set(), set()
        for definition in operation.variables:
            if self._schema.kind(definition.type.named()) is None:
                self._error(f'Unknown type "{definition.type.named()}".', definition.loc)
        for definition in operation.variables:
            if definition.has_default:
                self._walk_value(definition.default, definition.type, definition.default_loc)
            self._directives(definition.directives, "VARIABLE_DEFINITION")
        roots = {"query": self._schema.query, "mutation": self._schema.mutation}
        root = roots.get(operation.kind)
        self._directives(operation.directives, operation.kind.upper())
        self._selection_set(root, operation.selections)
        self._operation_rules(operation, root, names)
        self._operation = None

    def _operation_rules(self, operation: Operation, root: str | None, names: set[str]) -> None:
        if root is None:
            self._error(f'Schema does not support operation type "{operation.kind}"',
                        operation.loc)
        if operation.name is None and len(self._document.operations) > 1:
            self._error("This anonymous operation must be the only defined operation.",
                        operation.loc)
        in_operation = f' in operation "{operation.name}"' if operation.name else ""
        for definition in operation.variables:
            used = definition.name in self._used
            if not used or self._defined[definition.name] is not definition:
                self._error(f'Variable "${definition.name}" is never used{in_operation}.',
                            definition.loc)
        self._report_overlaps(operation.selections)
        name = operation.name or ""
        if name in names:
            self._error(f'There can be only one operation named "{name}".', operation.loc)
        names.add(name)
        counts: dict[str, int] = {}
        for definition in operation.variables:
            if counts.get(definition.name) == 1:
                self._error(f'There can be only one variable named "${definition.name}".',
                            definition.loc)
            counts[definition.name] = counts.get(definition.name, 0) + 1
        for definition in operation.variables:
            kind = self._schema.kind(definition.type.named())
            if kind is not None and not self._schema.is_input_type(definition.type.named()):
                self._error(f'Variable "${definition.name}" cannot be non-input type '
                            f'"{definition.type}".', definition.loc)

    # --------------------------------------------------------------- fragments

    def _walk_fragment(self, fragment: Fragment) -> None:
        self._walked, self._defined = set(), {}
        condition = fragment.type_condition
        kind = self._schema.kind(condition)
        self._directives(fragment.directives, "FRAGMENT_DEFINITION")
        self._selection_set(condition if kind else None, fragment.selections)
        if kind not in (None, "OBJECT", "UNION"):
            self._error(f'Fragment "{fragment.name}" cannot condition on non composite type '
                        f'"{condition}".', fragment.loc)
        if kind is None:
            hint = did_you_mean(condition, sorted(self._all_types()))
            self._error(f'Unknown type "{condition}".{hint}', fragment.loc)
        self._fragment_cycles(fragment)
        self._counting_spreads = False
        if fragment.name not in self._spread:
            self._error(f'Fragment "{fragment.name}" is never used.', fragment.loc)
        self._report_overlaps(fragment.selections)

    def _all_types(self) -> set[str]:
        schema = self._schema
        return {*schema.types, *schema.enums, *schema.inputs, *schema.scalars,
                *BUILT_IN_SCALARS}

    def _fragment_cycles(self, fragment: Fragment) -> None:
        path: list[FragmentSpread] = []
        index: dict[str, int] = {}

        def visit(current: Fragment) -> None:
            if current.name in self._cycle_checked:
                return
            self._cycle_checked.add(current.name)
            spreads = _spreads_in(current.selections)
            if not spreads:
                return
            index[current.name] = len(path)
            for spread in spreads:
                start = index.get(spread.name)
                path.append(spread)
                if start is None:
                    target = self._document.fragments.get(spread.name)
                    if target is not None:
                        visit(target)
                else:
                    via = ", ".join(f'"{step.name}"' for step in path[start:-1])
                    self._error(f'Cannot spread fragment "{spread.name}" within itself'
                                f'{" via " + via if via else ""}.', spread.loc)
                path.pop()
            del index[current.name]

        visit(fragment)

    # -------------------------------------------------------------- selections

    def _selection_set(self, parent: str | None, selections: tuple[Selection, ...]) -> None:
        for selection in selections:
            if isinstance(selection, FieldNode):
                self._field(parent, selection)
            elif isinstance(selection, FragmentSpread):
                self._spread_fragment(parent, selection)
            else:
                self._inline_fragment(parent, selection)

    def _field(self, parent: str | None, node: FieldNode) -> None:
        field: Field | None = None
        if node.name == "__typename":
            field = Field("String")
        elif parent is not None:
            field = self._schema.types.get(parent, {}).get(node.name)
        self._selected_on[id(node)] = (parent, field)
        declared = field.args if field is not None else {}
        self._walk_arguments(node.args, declared)
        result = parse_type(field.type) if field is not None else None
        child = result.named() if result and self._schema.kind(result.named()) else None
        self._directives(node.directives, "FIELD")
        self._selection_set(child, node.selections)
        if parent is not None and field is None:
            self._error(f'Cannot query field "{node.name}" on type "{parent}".'
                        f"{self._field_hint(parent, node.name)}", node.loc)
        if parent is not None and field is not None:
            self._unknown_arguments(node.args, declared, f'field "{parent}.{node.name}"',
                                    node.loc)
        if self._operation is not None:
            self._report_overlaps(node.selections)
        if field is not None:
            self._required_arguments(node.args, declared, f'Field "{node.name}"', node.loc)
        if result is not None and child is not None:
            self._leaf_selections(node, result, child)
        self._unique_arguments(node.args)

    def _field_hint(self, parent: str, name: str) -> str:
        if self._schema.kind(parent) == "UNION":
            members = sorted(member for member in self._schema.possible_types(parent)
                             if name in self._schema.types.get(member, {}))
            listed = _or_list([f'"{member}"' for member in members])
            return f" Did you mean to use an inline fragment on {listed}?" if members else ""
        return did_you_mean(name, self._schema.types.get(parent, {}))

    def _leaf_selections(self, node: FieldNode, result: TypeRef, child: str) -> None:
        leaf = self._schema.kind(child) in ("SCALAR", "ENUM")
        if leaf and node.selections:
            self._error(f'Field "{node.name}" must not have a selection since type "{child}" '
                        "has no subfields.", node.loc)
        if not leaf and not node.selections:
            self._error(f'Field "{node.name}" of type "{result}" must have a selection of '
                        f'subfields. Did you mean "{node.name} {{ ... }}"?', node.loc)

    def _inline_fragment(self, parent: str | None, node: InlineFragment) -> None:
        condition = node.type_condition
        kind = None if condition is None else self._schema.kind(condition)
        child = parent if condition is None else (condition if kind else None)
        self._directives(node.directives, "INLINE_FRAGMENT")
        self._selection_set(child, node.selections)
        if kind not in (None, "OBJECT", "UNION"):
            self._error(f'Fragment cannot condition on non composite type "{condition}".',
                        node.loc)
        if condition is not None and kind is None:
            self._error(f'Unknown type "{condition}".', node.loc)
        self._report_overlaps(node.selections)
        if condition is not None and parent is not None and self._never(parent, condition):
            self._error(f'Fragment cannot be spread here as objects of type "{parent}" can '
                        f'never be of type "{condition}".', node.loc)

    def _spread_fragment(self, parent: str | None, node: FragmentSpread) -> None:
        fragment = self._document.fragments.get(node.name)
        condition = None if fragment is None else fragment.type_condition
        child = condition if condition and self._schema.kind(condition) else None
        self._directives(node.directives, "FRAGMENT_SPREAD")
        if fragment is not None and node.name not in self._walked:
            self._walked.add(node.name)
            self._selection_set(child, fragment.selections)
        if fragment is None:
            self._error(f'Unknown fragment "{node.name}".', node.loc)
        if self._counting_spreads:
            self._spread.add(node.name)
        if condition is not None and parent is not None and self._never(parent, condition):
            self._error(f'Fragment "{node.name}" cannot be spread here as objects of type '
                        f'"{parent}" can never be of type "{condition}".', node.loc)

    def _never(self, parent: str, condition: str) -> bool:
        """Whether no object of the ``parent`` type can be of the ``condition`` type."""
        composite = ("OBJECT", "UNION")
        if (self._schema.kind(parent) not in composite
                or self._schema.kind(condition) not in composite):
            return False
        possible = self._schema.possible_types(parent)
        return not any(name in possible for name in self._schema.possible_types(condition))

    def _report_overlaps(self, selections: tuple[Selection, ...]) -> None:
        for conflict in self._overlaps.within(selections):
            self._error(f'Fields "{conflict.response_name}" conflict because '
                        f"{conflict.explain()}. Use different aliases on the fields to fetch "
                        "both if this was intentional.", conflict.loc)

    # ------------------------------------------------------ arguments and values

    def _directives(self, directives: tuple[Directive, ...], location: str) -> None:
        for directive in directives:
            known = KNOWN_DIRECTIVES.get(directive.name)
            declared = known.args if known is not None else {}
            self._walk_arguments(directive.args, declared)
            name = f'"@{directive.name}"'
            if known is not None:
                self._unknown_arguments(directive.args, declared, f"directive {name}",
                                        directive.loc)
            if known is None:
                self._error(f"Unknown directive {name}.", directive.loc)
            elif (location not in known.locations
                  and (directive.name, directive.loc) not in self._directives_reported):
                self._directives_reported.add((directive.name, directive.loc))
                self._error(f"Directive {name} may not be used on {location}.", directive.loc)
            if known is not None:
                self._required_arguments(directive.args, declared, f"Directive {name}",
                                         directive.loc)
            self._unique_arguments(directive.args)
        seen: set[str] = set()
        for directive in directives:
            if directive.name in seen:
                self._error(f'The directive "@{directive.name}" can only be used once at this '
                            "location.", directive.loc)
            seen.add(directive.name)

    def _walk_arguments(self, args: Arguments, declared: Mapping[str, str]) -> None:
        for arg in args:
            text = declared.get(arg.name)
            expected = None if text is None else parse_input_decl(text).type
            self._walk_value(arg.value, expected, arg.value_loc)

    def _walk_value(self, value: Value, expected: TypeRef | None, loc: Location) -> None:
        if self._operation is not None:
            for variable, at in _variables_at(value, loc):
                if variable.name in self._defined:
                    self._used.add(variable.name)
                    continue
                by = f' by operation "{self._operation.name}"' if self._operation.name else ""
                self._error(f'Variable "${variable.name}" is not defined{by}.', at)
        if expected is not None and self._schema.is_input_type(expected.named()):
            self._check_value(value, expected, loc)

    def _unknown_arguments(self, args: Arguments, declared: Mapping[str, str], owner: str,
                           loc: Location) -> None:
        """``owner`` names where the arguments are: ``field "Query.run"``."""
        for arg in args:
            if arg.name not in declared:
                self._error(f'Unknown argument "{arg.name}" on {owner}.'
                            f"{did_you_mean(arg.name, declared)}", loc)

    def _required_arguments(self, args: Arguments, declared: Mapping[str, str], subject: str,
                            loc: Location) -> None:
        """``subject`` names the field or directive: ``Field "run"``."""
        given = {arg.name for arg in args}
        for name, text in declared.items():
            decl = parse_input_decl(text)
            if decl.required and name not in given:
                self._error(f'{subject} argument "{name}" of type "{decl.type}" is required, '
                            "but it was not provided.", loc)

    def _unique_arguments(self, args: Arguments) -> None:
        counts: dict[str, int] = {}
        for arg in args:
            if counts.get(arg.name) == 1:
                self._error(f'There can be only one argument named "{arg.name}".', arg.loc)
            counts[arg.name] = counts.get(arg.name, 0) + 1

    def _check_value(self, value: Value, expected: TypeRef, loc: Location,
                     shown: TypeRef | None = None) -> None:
        """``shown`` is the type messages name: a list's, where one item stands for it."""
        shown = shown or expected
        if isinstance(value, Variable):
            self._check_variable_position(value, expected, loc)
        elif value is None:
            if expected.non_null:
                self._error(f'Expected value of type "{shown}", found null.', loc)
        elif expected.of is not None:
            self._check_list(value, expected, loc)
        elif str(expected.name) in self._schema.inputs:
            self._check_input_object(value, str(expected.name), shown, loc)
        elif isinstance(value, ObjectValue) and not self._custom_scalar(expected):
            for field in value.fields:
                self._error(f'Field "{field.name}" is not defined by type "{expected.name}".',
                            field.loc)
        elif str(expected.name) in self._schema.enums:
            self._check_enum(value, str(expected.name), shown, loc)
        elif str(expected.name) in _SCALAR_LITERALS:
            kinds, message = _SCALAR_LITERALS[str(expected.name)]
            if _out_of_range(value):  # gqlparser cannot read it, and says so first
                if expected.name == "Int" and type(value) is int:
                    message = "Int cannot represent non 32-bit signed integer value: {}"
                self._error(message.format(render_value(value)), loc)
            if type(value) not in kinds:
                self._error(message.format(render_value(value)), loc)

    def _custom_scalar(self, expected: TypeRef) -> bool:
        return str(expected.name) in self._schema.scalars

    def _check_list(self, value: Value, expected: TypeRef, loc: Location) -> None:
        item_type = typing.cast(TypeRef, expected.of)
        if isinstance(value, ListValue):
            for item, item_loc in zip(value.items, value.locs):
                self._check_value(item, item_type, item_loc)
        else:  # one value stands for a list of it
            self._check_value(value, item_type, loc, shown=expected)

    def _check_enum(self, value: Value, enum: str, shown: TypeRef, loc: Location) -> None:
        values = self._schema.enums[enum]
        prefix = "Did you mean the enum value"
        if not isinstance(value, EnumValue):
            hint = did_you_mean(value, values, prefix) if isinstance(value, str) else ""
            self._error(f'Enum "{shown}" cannot represent non-enum value: '
                        f"{render_value(value)}.{hint}", loc)
        elif value.name not in values:
            self._error(f'Value "{value.name}" does not exist in "{shown}" enum.'
                        f"{did_you_mean(value.name, values, prefix)}", loc)

    def _check_input_object(self, value: Value, name: str, shown: TypeRef,
                            loc: Location) -> None:
        if not isinstance(value, ObjectValue):
            self._error(f'Expected value of type "{shown}", found {render_value(value)}.', loc)
            return
        declared = self._schema.inputs[name]
        given: set[str] = set()
        for field in value.fields:
            if field.name in given:
                self._error(f'There can be only one input field named "{field.name}".',
                            field.loc)
            elif field.name not in declared:
                self._error(f'Field "{field.name}" is not defined by type "{name}".'
                            f"{did_you_mean(field.name, declared)}", field.loc)
            else:
                self._check_value(field.value, parse_input_decl(declared[field.name]).type,
                                  field.value_loc)
            given.add(field.name)
        for field_name, text in declared.items():
            decl = parse_input_decl(text)
            if decl.required and field_name not in given:
                self._error(f'Field "{name}.{field_name}" of required type "{decl.type}" was '
                            "not provided.", value.loc)

    def _check_variable_position(self, variable: Variable, expected: TypeRef,
                                 loc: Location) -> None:
        definition = self._defined.get(variable.name)
        if definition is None:
            return  # reported as not defined
        allowed = expected
        if definition.has_default and definition.default is not None:
            allowed = dataclasses.replace(expected, non_null=False)
        if not _fits(definition.type, allowed):
            self._error(f'Variable "${variable.name}" of type "{definition.type}" used in '
                        f'position expecting type "{expected}".', loc)
