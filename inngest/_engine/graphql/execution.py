"""Running one GraphQL request: parse, validate, choose the operation, coerce its
variables and resolve its fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from inngest._engine.graphql.syntax import (
    Arguments, Document, FieldNode, FragmentSpread, InlineFragment, Operation, Selection,
    TypeRef, Variable,
)
from inngest._engine.graphql.coercion import InputError, coerce_input, coerce_variables, literal
from inngest._engine.graphql.errors import PARSE_FAILED, VALIDATION_FAILED, GraphQLError, PathKey
from inngest._engine.graphql.parser import MAX_NESTING, parse, parse_input_decl, parse_type
from inngest._engine.graphql.typesystem import DIRECTIVE_ARGS, Resolver, Schema, is_list, is_mapping
from inngest._engine.graphql.validation import Validator


# The real server's answer to a request without an operation: no query, an empty one, only
# comments or only fragments (measured).
NO_OPERATION = "no operation provided"


def _select_operation(document: Document, operation_name: str | None) -> Operation:
    """gqlgen's choice: the operation of that name, or the only one when none is named."""
    operations = document.operations
    if not operation_name and len(operations) == 1:
        return operations[0]
    for operation in operations:
        if (operation.name or "") == (operation_name or ""):
            return operation
    raise GraphQLError(f"operation {operation_name or ''} not found")


def _root_type(schema: Schema, operation: Operation) -> str:
    """The root of a validated operation: validation refuses those the schema has not."""
    return schema.query if operation.kind == "query" else str(schema.mutation)


class OperationNotAllowed(Exception):
    """The request's operation is of a kind its transport does not run (a mutation sent by
    ``GET``): found once the request is valid, as gqlgen finds it."""


class _NullField(Exception):
    """A non-null field or list item is null: the null goes to the nearest nullable field
    above it, or to ``data`` (spec section 6.4.4), as the real server's gqlgen does."""


# gqlgen's error for a non-null field whose resolver answered null without an error.
MUST_NOT_BE_NULL = "must not be null"


def _default_resolver(name: str) -> Resolver:
    def resolve(parent: object, args: dict[str, object], ctx: object) -> object:
        if is_mapping(parent):
            return parent.get(name)
        return getattr(parent, name, None)

    return resolve


class _Executor:
    def __init__(
        self,
        schema: Schema,
        document: Document,
        variables: Mapping[str, object],
        context: object,
    ) -> None:
        self._schema = schema
        self._document = document
        self._variables = variables
        self._context = context
        self.errors: list[GraphQLError] = []

    def _arguments(self, args: Arguments, declared: Mapping[str, str]) -> dict[str, object]:
        """The arguments as resolvers take them: defaults filled in, lists where one value
        stood for a list, numbers given for a String as their text."""
        values = {
            arg.name: literal(arg.value, self._variables)
            for arg in args
            if not isinstance(arg.value, Variable) or arg.value.name in self._variables
        }
        for name, text in declared.items():
            decl = parse_input_decl(text)
            if name not in values and decl.has_default:
                values[name] = literal(decl.default, {})
            if name in values:
                values[name] = coerce_input(self._schema, values[name], decl.type, [name])
        return values

    def _included(self, selection: Selection) -> bool:
        """@skip and @include; an inline fragment marked @defer is left out, as the dev
        server leaves it out of a plain POST's answer (measured, whatever its ``if``)."""
        for directive in selection.directives:
            if directive.name == "defer":
                if isinstance(selection, InlineFragment):
                    return False
                continue
            args = self._arguments(directive.args, DIRECTIVE_ARGS[directive.name])
            condition = bool(args.get("if"))
            if condition == (directive.name == "skip"):
                return False
        return True

    def _collect(
        self,
        type_name: str,
        selections: Iterable[Selection],
        fields: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> dict[str, list[FieldNode]]:
        """The spec's CollectFields: each fragment is spread once per selection set."""
        for selection in selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                fields.setdefault(selection.key, []).append(selection)
            elif isinstance(selection, FragmentSpread):
                fragment = self._document.fragments[selection.name]
                if (self._schema.matches(fragment.type_condition, type_name)
                        and selection.name not in visited):
                    visited.add(selection.name)
                    self._collect(type_name, fragment.selections, fields, visited)
            elif self._schema.matches(selection.type_condition, type_name):
                self._collect(type_name, selection.selections, fields, visited)
        return fields

    def execute_object(
        self,
        type_name: str,
        parent: object,
        selections: Iterable[Selection],
        path: list[PathKey],
    ) -> dict[str, object]:
        """The object's fields; every field runs (each mutation is applied) before a null
        in a non-null one nulls the whole object."""
        result: dict[str, object] = {}
        nulled = False
        for key, nodes in self._collect(type_name, selections, {}, set()).items():
            try:
                result[key] = self._field(type_name, parent, nodes, path + [key])
            except _NullField:
                nulled = True
        if nulled:
            raise _NullField
        return result

    def _field(
        self, type_name: str, parent: object, nodes: list[FieldNode], path: list[PathKey]
    ) -> object:
        node = nodes[0]
        if node.name == "__typename":
            return type_name
        field = self._schema.types[type_name][node.name]
        resolve = field.resolve or _default_resolver(node.name)
        type_ref = parse_type(field.type)
        try:
            value = resolve(parent, self._arguments(node.args, field.args), self._context)
        except InputError as error:  # validated before, so not expected
            self.errors.append(GraphQLError(error.message, [node.loc], path))
            return self._failed(type_ref)
        except GraphQLError as error:  # its path, if any, is within the field's arguments
            self.errors.append(GraphQLError(error.message, [node.loc], path + (error.path or [])))
            return self._failed(type_ref)
        selections = [s for n in nodes for s in n.selections]
        return self._complete(type_ref, value, selections, path, node)

    @staticmethod
    def _failed(type_ref: TypeRef) -> None:
        if type_ref.non_null:
            raise _NullField
        return None

    def _complete(
        self,
        type_ref: TypeRef,
        value: object,
        selections: list[Selection],
        path: list[PathKey],
        node: FieldNode,
    ) -> object:
        completed = None
        if value is not None:
            try:
                completed = self._complete_value(type_ref, value, selections, path, node)
            except _NullField:
                pass
        if completed is None and type_ref.non_null:
            if value is None:  # else the error below it is reported already
                self.errors.append(GraphQLError(MUST_NOT_BE_NULL, [node.loc], path))
            raise _NullField
        return completed

    def _complete_list(
        self,
        item_type: TypeRef,
        value: object,
        selections: list[Selection],
        path: list[PathKey],
        node: FieldNode,
    ) -> list[object]:
        """Every item, each error reported, before a null non-null item nulls the list."""
        items, nulled = [], False
        for index, item in enumerate(value if is_list(value) else [value]):
            try:
                items.append(self._complete(item_type, item, selections, path + [index], node))
            except _NullField:
                nulled = True
        if nulled:
            raise _NullField
        return items

    def _complete_value(
        self,
        type_ref: TypeRef,
        value: object,
        selections: list[Selection],
        path: list[PathKey],
        node: FieldNode,
    ) -> object:
        if type_ref.of is not None:
            return self._complete_list(type_ref.of, value, selections, path, node)
        name = str(type_ref.name)
        if name in self._schema.unions and isinstance(value, Mapping):
            name = str(value["__typename"])
        if name in self._schema.types:
            return self.execute_object(name, value, selections, path)
        return value


def execute(
    schema: Schema,
    document: str,
    variables: Mapping[str, object] | None,
    operation_name: str | None,
    context: object,
    *,
    queries_only: bool = False,
) -> dict[str, object]:
    """Run one GraphQL request; every problem is reported in ``errors``, never raised, but a
    valid operation other than a query when ``queries_only`` (``OperationNotAllowed``)."""
    try:
        parsed = parse(document)
    except GraphQLError as error:
        return _request_failure([error], PARSE_FAILED)
    if not parsed.operations:
        return _request_failure([GraphQLError(NO_OPERATION)], VALIDATION_FAILED)
    try:
        errors = Validator(schema, parsed).document()
        if errors:
            return _request_failure(errors, VALIDATION_FAILED)
        operation = _select_operation(parsed, operation_name)
        return _run(schema, parsed, operation, variables or {}, context, queries_only)
    except GraphQLError as error:
        return _request_failure([error], VALIDATION_FAILED)
    except RecursionError:  # fragments spread inside each other past the parser's limit
        return _request_failure([GraphQLError(
            f"Document is nested more than {MAX_NESTING} levels deep.",
            [parsed.operations[0].loc])], VALIDATION_FAILED)


def _run(
    schema: Schema,
    parsed: Document,
    operation: Operation,
    variables: Mapping[str, object],
    context: object,
    queries_only: bool,
) -> dict[str, object]:
    coerced, variable_errors = coerce_variables(schema, operation, variables)
    if variable_errors:
        return _request_failure(variable_errors, VALIDATION_FAILED)
    if queries_only and operation.kind != "query":
        raise OperationNotAllowed(operation.kind)
    root = _root_type(schema, operation)
    executor = _Executor(schema, parsed, coerced, context)
    data: dict[str, object] | None
    try:
        data = executor.execute_object(root, None, operation.selections, [])
    except _NullField:
        data = None
    if not executor.errors:
        return {"data": data}
    # gqlgen writes ``errors`` before ``data`` (measured, 200 and 422 answers alike).
    return {"errors": [error.to_dict() for error in executor.errors], "data": data}


def _request_failure(errors: list[GraphQLError], code: str) -> dict[str, object]:
    """Errors found before execution: nothing ran, so ``data`` is null."""
    return {"errors": [{**error.to_dict(), "extensions": {"code": code}} for error in errors],
            "data": None}


def failed_before_execution(response: Mapping[str, object]) -> bool:
    """Whether the request never ran: the HTTP answer is then 422, as the real server's."""
    errors = response.get("errors")
    return response.get("data") is None and is_list(errors) and any(
        is_mapping(error) and _error_code(error) in (PARSE_FAILED, VALIDATION_FAILED)
        for error in errors)


def _error_code(error: Mapping[object, object]) -> object:
    extensions = error.get("extensions")
    return extensions.get("code") if is_mapping(extensions) else None
