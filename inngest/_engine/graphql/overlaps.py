"""The validation rule OverlappingFieldsCanBeMerged."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

from inngest._engine.graphql.syntax import (
    Arguments, Document, EnumValue, FieldNode, FragmentSpread, ListValue, Location,
    ObjectValue, Selection, TypeRef, Value, Variable,
)
from inngest._engine.graphql.parser import parse_type
from inngest._engine.graphql.typesystem import Field, Schema


# A field's response name mapped to the fields giving it, in the order they are written.
_FieldMap = dict[str, list[FieldNode]]


def _fields_and_spreads(
        selections: tuple[Selection, ...]) -> tuple[_FieldMap, list[FragmentSpread]]:
    """The fields of a selection set and of its inline fragments, and its spreads."""
    fields: _FieldMap = {}
    spreads: list[FragmentSpread] = []
    pending = list(selections)
    pending.reverse()
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            fields.setdefault(selection.key, []).append(selection)
        elif isinstance(selection, FragmentSpread):
            spreads.append(selection)
        else:
            pending.extend(reversed(selection.selections))
    return fields, spreads


def _same_fields(first: _FieldMap, second: _FieldMap) -> bool:
    """Whether two field maps hold the very same fields (those of one fragment)."""
    return first.keys() == second.keys() and all(
        len(nodes) == len(second[key]) and all(a is b for a, b in zip(nodes, second[key]))
        for key, nodes in first.items())


def _raw(value: Value) -> tuple[str, str]:
    """A value as gqlparser compares arguments: its kind and its text (none for lists and
    objects, so any two of those compare equal there)."""
    if isinstance(value, (ListValue, ObjectValue)):
        return type(value).__name__, ""
    if isinstance(value, (Variable, EnumValue)):
        return type(value).__name__, value.name
    return type(value).__name__, json.dumps(value)


@dataclasses.dataclass
class _Conflict:
    response_name: str
    loc: Location
    reason: str = ""
    within: list[_Conflict] = dataclasses.field(default_factory=list)

    def explain(self) -> str:
        if not self.within:
            return self.reason
        return " and ".join(f'subfields "{sub.response_name}" conflict because {sub.explain()}'
                            for sub in self.within)


class Overlaps:
    """The spec's OverlappingFieldsCanBeMerged, as gqlparser runs it: fields of one
    response name must be the same field with the same arguments and compatible types."""

    def __init__(self, schema: Schema, document: Document,
                 selected_on: Mapping[int, tuple[str | None, Field | None]]) -> None:
        self._schema = schema
        self._document = document
        self._selected_on = selected_on  # id(FieldNode) -> (parent type, definition)
        self._compared_pairs: dict[tuple[str, str], bool] = {}
        self._compared: set[str] = set()
        # Fields written alike compare alike: each shape gets a number, each pair of shapes
        # is compared once, so that copies of one field, however nested, cost no more than a
        # pair. (gqlparser compares every pair, and a pair of fragments only the first time,
        # so it can report fewer copies of a conflict found through fragments.)
        self._shapes: dict[object, int] = {}
        self._shape_of: dict[int, int] = {}
        self._outcomes: dict[tuple[bool, int, int], _Conflict | None] = {}

    def within(self, selections: tuple[Selection, ...]) -> list[_Conflict]:
        if not selections:
            return []
        fields, spreads = _fields_and_spreads(selections)
        conflicts: list[_Conflict] = []
        for same_name in fields.values():
            for index, first in enumerate(same_name):
                for second in same_name[index + 1:]:
                    self._add(conflicts, self._conflict(False, first, second))
        self._compared = set()
        for index, spread in enumerate(spreads):
            self._with_fragment(conflicts, False, fields, spread)
            for other in spreads[index + 1:]:
                self._between_fragments(conflicts, False, spread, other)
        return conflicts

    @staticmethod
    def _add(conflicts: list[_Conflict], conflict: _Conflict | None) -> None:
        if conflict is not None:
            conflicts.append(conflict)

    def _between(self, conflicts: list[_Conflict], exclusive: bool, fields: _FieldMap,
                 others: _FieldMap) -> None:
        for name, same_name in fields.items():
            for first in same_name:
                for second in others.get(name, ()):
                    self._add(conflicts, self._conflict(exclusive, first, second))

    def _with_fragment(self, conflicts: list[_Conflict], exclusive: bool, fields: _FieldMap,
                       spread: FragmentSpread) -> None:
        if spread.name in self._compared:
            return
        self._compared.add(spread.name)
        fragment = self._document.fragments.get(spread.name)
        if fragment is None:
            return
        others, nested = _fields_and_spreads(fragment.selections)
        if _same_fields(others, fields):
            return
        self._between(conflicts, exclusive, fields, others)
        for inner in nested:
            if inner.name != spread.name:
                self._with_fragment(conflicts, exclusive, fields, inner)

    def _between_fragments(self, conflicts: list[_Conflict], exclusive: bool,
                           first: FragmentSpread, second: FragmentSpread) -> None:
        if first.name == second.name:
            return
        compared = self._compared_pairs.get((first.name, second.name))
        if compared is not None and (exclusive or not compared):
            return
        self._compared_pairs[first.name, second.name] = exclusive
        self._compared_pairs[second.name, first.name] = exclusive
        fragment_a = self._document.fragments.get(first.name)
        fragment_b = self._document.fragments.get(second.name)
        if fragment_a is None or fragment_b is None:
            return
        fields_a, spreads_a = _fields_and_spreads(fragment_a.selections)
        fields_b, spreads_b = _fields_and_spreads(fragment_b.selections)
        self._between(conflicts, exclusive, fields_a, fields_b)
        for spread in spreads_b:
            self._between_fragments(conflicts, exclusive, first, spread)
        for spread in spreads_a:
            self._between_fragments(conflicts, exclusive, spread, second)

    def _between_subselections(self, exclusive: bool, first: tuple[Selection, ...],
                               second: tuple[Selection, ...]) -> list[_Conflict]:
        conflicts: list[_Conflict] = []
        fields_a, spreads_a = _fields_and_spreads(first)
        fields_b, spreads_b = _fields_and_spreads(second)
        self._between(conflicts, exclusive, fields_a, fields_b)
        for spread in spreads_b:
            self._compared = set()
            self._with_fragment(conflicts, exclusive, fields_a, spread)
        for spread in spreads_a:
            self._compared = set()
            self._with_fragment(conflicts, exclusive, fields_b, spread)
        for spread_a in spreads_a:
            for spread_b in spreads_b:
                self._between_fragments(conflicts, exclusive, spread_a, spread_b)
        return conflicts

    def _shape(self, node: FieldNode) -> int:
        """The number of the field's shape: what comparing it depends on."""
        if id(node) in self._shape_of:
            return self._shape_of[id(node)]
        fields, spreads = _fields_and_spreads(node.selections)
        below = tuple(self._shape(child) for same_name in fields.values() for child in same_name)
        parent, field = self._selected_on.get(id(node), (None, None))
        args = tuple((arg.name, _raw(arg.value)) for arg in node.args)
        key = (parent, field is None, node.key, node.name, args, below,
               tuple(spread.name for spread in spreads))
        shape = self._shape_of[id(node)] = self._shapes.setdefault(key, len(self._shapes))
        return shape

    def _conflict(self, exclusive: bool, first: FieldNode, second: FieldNode) -> _Conflict | None:
        pair = (exclusive, self._shape(first), self._shape(second))
        if pair not in self._outcomes:
            self._outcomes[pair] = self._compare(exclusive, first, second)
        outcome = self._outcomes[pair]
        return None if outcome is None else dataclasses.replace(outcome, loc=second.loc)

    def _compare(self, exclusive: bool, first: FieldNode, second: FieldNode) -> _Conflict | None:
        parent_a, field_a = self._selected_on.get(id(first), (None, None))
        parent_b, field_b = self._selected_on.get(id(second), (None, None))
        if parent_a is None or parent_b is None:
            return None
        exclusive = exclusive or (
            parent_a != parent_b and self._schema.kind(parent_a) == "OBJECT"
            and self._schema.kind(parent_b) == "OBJECT"
            and field_a is not None and field_b is not None)
        conflict = _Conflict(first.key, second.loc)
        if not exclusive and first.name != second.name:
            conflict.reason = f'"{first.name}" and "{second.name}" are different fields'
            return conflict
        if not exclusive and not self._same_arguments(first.args, second.args):
            conflict.reason = "they have differing arguments"
            return conflict
        if field_a is not None and field_b is not None and self._types_conflict(
                parse_type(field_a.type), parse_type(field_b.type)):
            conflict.reason = (f'they return conflicting types "{field_a.type}" and '
                               f'"{field_b.type}"')
            return conflict
        conflict.within = self._between_subselections(
            exclusive, first.selections, second.selections)
        return conflict if conflict.within else None

    @staticmethod
    def _same_arguments(first: Arguments, second: Arguments) -> bool:
        return len(first) == len(second) and all(
            any(a.name == b.name and _raw(a.value) == _raw(b.value) for b in second)
            for a in first)

    def _types_conflict(self, first: TypeRef, second: TypeRef) -> bool:
        if first.of is not None or second.of is not None:
            if first.of is None or second.of is None:
                return True
            return self._types_conflict(first.of, second.of)
        if first.non_null != second.non_null:
            return True
        leaves = ("SCALAR", "ENUM")
        return (self._schema.kind(str(first.name)) in leaves
                and self._schema.kind(str(second.name)) in leaves and first.name != second.name)
