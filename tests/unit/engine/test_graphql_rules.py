"""The GraphQL spec's validation rules at POST /v0/gql, one test per rule, as the real dev
server (gqlgen's validator, gqlparser) applies them to the whole document.

Every expected answer below was measured on the real dev server with
tests/differential/gql_validation_probe.py: a 422 whose errors carry
GRAPHQL_VALIDATION_FAILED, with the same messages, order and locations.
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Client

LOOPBACK = True
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
APPS = "apps { id }"
CONFLICT = 'Fields "{}" conflict because {}. Use different aliases on the fields to fetch both ' \
           "if this was intentional."

Errors = list[tuple[str, int, int]]


def refused(client: Client, document: str, operation: str | None = None) -> Errors:
    """The errors of a request the server refuses before running it."""
    body: dict[str, object] = {"query": document}
    if operation is not None:
        body["operationName"] = operation
    status, answer = client.request("POST", "/v0/gql", body)
    assert status == 422, answer
    assert set(answer) == {"data", "errors"} and answer["data"] is None
    errors = typing.cast("list[dict[str, typing.Any]]", answer["errors"])
    for error in errors:
        assert set(error) == {"message", "locations", "extensions"}, error
        assert error["extensions"] == {"code": VALIDATION}
        assert len(error["locations"]) == 1
    return [(e["message"], e["locations"][0]["line"], e["locations"][0]["column"])
            for e in errors]


def data(client: Client, document: str) -> object:
    status, answer = client.request("POST", "/v0/gql", {"query": document})
    assert status == 200 and "errors" not in answer, answer
    return answer["data"]


def test_no_unused_variables(client: Client) -> None:
    assert refused(client, f"query ($x: Int) {{ {APPS} }}") == [
        ('Variable "$x" is never used.', 1, 8)]
    assert refused(client, f"query Q($x: Int, $y: String) {{ {APPS} }}") == [
        ('Variable "$x" is never used in operation "Q".', 1, 9),
        ('Variable "$y" is never used in operation "Q".', 1, 18)]
    # Used in a fragment the operation spreads: used.
    document = "query Q($f: Boolean!) { ...F } fragment F on Query { apps @skip(if: $f) { id } }"
    status, answer = client.request("POST", "/v0/gql",
                                    {"query": document, "variables": {"f": True}})
    assert (status, answer) == (200, {"data": {}})


def test_no_undefined_variables_names_the_operation_and_points_at_the_variable(
        client: Client) -> None:
    assert refused(client, "query Q { ...F } fragment F on Query { run(runID: $x) { id } }") == [
        ('Variable "$x" is not defined by operation "Q".', 1, 51)]


@pytest.mark.parametrize(("document", "expected"), [
    ("{ a: apps { id } a: functions { id } }",
     [(CONFLICT.format("a", '"apps" and "functions" are different fields'), 1, 18)]),
    ('{ run(runID: "a") { id } run(runID: "b") { id } run(runID: "b") { id } }',
     [(CONFLICT.format("run", "they have differing arguments"), 1, 26),
      (CONFLICT.format("run", "they have differing arguments"), 1, 49)]),
    ("{ apps { id } apps { id: name url: id } }",
     [(CONFLICT.format("apps", 'subfields "id" conflict because "id" and "name" are '
                       "different fields"), 1, 15)]),
    ("{ apps { id ...F } } fragment F on App { id: name }",
     [(CONFLICT.format("id", '"id" and "name" are different fields'), 1, 42)]),
    ("{ apps { ...F ...G } } fragment F on App { x: id } fragment G on App { x: name }",
     [(CONFLICT.format("x", '"id" and "name" are different fields'), 1, 72)]),
    ('{ runTrace(runID: "x") { stepInfo { ... on InvokeStepInfo { x: timedOut } '
     "... on SleepStepInfo { x: sleepUntil } } } }",
     [(CONFLICT.format("x", 'they return conflicting types "Boolean" and "Time!"'), 1, 98)]),
])
def test_overlapping_fields_can_be_merged(client: Client, document: str,
                                          expected: Errors) -> None:
    assert refused(client, document) == expected


def test_fields_of_one_name_merge_when_they_are_the_same_field(client: Client) -> None:
    assert refused(client, "{ a: apps { id } a: apps { name } a: functions { id } }") == 2 * [
        (CONFLICT.format("a", '"apps" and "functions" are different fields'), 1, 35)]
    assert data(client, "{ a: apps { id } a: apps { name } ...F ...F } "
                        "fragment F on Query { apps { id } }") == {"a": [], "apps": []}
    # Members of a union never conflict unless their types do: this one runs (no such run).
    status, answer = client.request("POST", "/v0/gql", {"query": (
        '{ runTrace(runID: "x") { stepInfo { ... on InvokeStepInfo { x: timeout } '
        "... on SleepStepInfo { x: sleepUntil } } } }")})
    assert status == 200 and answer["errors"][0]["path"] == ["runTrace"]


@pytest.mark.parametrize(("document", "expected"), [
    ("{ apps @deprecated { id } }", [('Directive "@deprecated" may not be used on FIELD.', 1, 9)]),
    ("{ apps @nope { id } }", [('Unknown directive "@nope".', 1, 9)]),
    (f"query Q @skip(if: true) {{ {APPS} }}",
     [('Directive "@skip" may not be used on QUERY.', 1, 10)]),
    ("{ ...F } fragment F on Query @include(if: true) { apps { id } }",
     [('Directive "@include" may not be used on FRAGMENT_DEFINITION.', 1, 31)]),
    (f"query Q($x: Int = 1 @deprecated) {{ {APPS} }}",
     [('Directive "@deprecated" may not be used on VARIABLE_DEFINITION.', 1, 22),
      ('Variable "$x" is never used in operation "Q".', 1, 9)]),
    ("{ apps @defer { id } }", [('Directive "@defer" may not be used on FIELD.', 1, 9)]),
])
def test_known_directives_in_their_locations(client: Client, document: str,
                                             expected: Errors) -> None:
    assert refused(client, document) == expected


def test_an_inline_fragment_marked_defer_is_left_out(client: Client) -> None:
    assert data(client, "{ ... @defer { apps { id } } }") == {}
    assert data(client, "{ ...F @defer } fragment F on Query { apps { id } }") == {"apps": []}


def test_unique_directives_per_location(client: Client) -> None:
    assert refused(client, "{ apps @skip(if: false) @skip(if: false) { id } }") == [
        ('The directive "@skip" can only be used once at this location.', 1, 26)]


def test_no_unused_fragments(client: Client) -> None:
    assert refused(client, f"{{ {APPS} }} fragment F on App {{ id }}") == [
        ('Fragment "F" is never used.', 1, 17)]


def test_known_fragment_names(client: Client) -> None:
    assert refused(client, "{ apps { ...F } }") == [('Unknown fragment "F".', 1, 13)]


def test_no_fragment_cycles_names_the_path(client: Client) -> None:
    document = ("{ apps { ...A } } fragment A on App { ...B } fragment B on App { ...C } "
                "fragment C on App { ...A }")
    assert refused(client, document) == [
        ('Cannot spread fragment "A" within itself via "B", "C".', 1, 96)]


def test_possible_fragment_spreads(client: Client) -> None:
    assert refused(client, "{ apps { ...F } } fragment F on Query { apps { id } }") == [
        ('Fragment "F" cannot be spread here as objects of type "App" can never be of type '
         '"Query".', 1, 13)]
    assert refused(client, '{ runTrace(runID: "x") { stepInfo { ... on App { id } } } }') == [
        ('Fragment cannot be spread here as objects of type "StepInfo" can never be of type '
         '"App".', 1, 41)]


def test_fragments_on_composite_types(client: Client) -> None:
    assert refused(client, "{ apps { ...F } } fragment F on String { id }") == [
        ('Cannot query field "id" on type "String".', 1, 42),
        ('Cannot query field "id" on type "String".', 1, 42),
        ('Fragment "F" cannot condition on non composite type "String".', 1, 19)]
    assert refused(client, "{ apps { ... on String { id } } }") == [
        ('Cannot query field "id" on type "String".', 1, 26),
        ('Fragment cannot condition on non composite type "String".', 1, 14)]


def test_unique_fragment_names(client: Client) -> None:
    document = "{ apps { ...F } } fragment F on App { id } fragment F on App { name }"
    assert refused(client, document) == [('There can be only one fragment named "F".', 1, 44)]


def test_lone_anonymous_operation_and_unique_operation_names(client: Client) -> None:
    assert refused(client, f"{{ {APPS} }} query Q {{ {APPS} }}", "Q") == [
        ("This anonymous operation must be the only defined operation.", 1, 1)]
    assert refused(client, f"query Q {{ {APPS} }} query Q {{ {APPS} }}", "Q") == [
        ('There can be only one operation named "Q".', 1, 25)]


def test_operations_not_chosen_are_validated_too(client: Client) -> None:
    assert refused(client, f"query Q {{ {APPS} }} query R {{ nope }}", "Q") == [
        ('Cannot query field "nope" on type "Query".', 1, 35)]
    assert refused(client, f"query Q {{ {APPS} }} subscription S {{ {APPS} }}", "Q") == [
        ('Schema does not support operation type "subscription"', 1, 25)]


@pytest.mark.parametrize(("operation", "message"), [
    (None, "operation  not found"), ("S", "operation S not found")])
def test_an_operation_that_is_not_there(client: Client, operation: str | None,
                                        message: str) -> None:
    body: dict[str, object] = {"query": f"query Q {{ {APPS} }} query R {{ {APPS} }}"}
    if operation is not None:
        body["operationName"] = operation
    assert client.request("POST", "/v0/gql", body) == (422, {"data": None, "errors": [
        {"message": message, "extensions": {"code": VALIDATION}}]})


def test_unique_variable_names(client: Client) -> None:
    assert refused(client, "query Q($x: Boolean, $x: Boolean) { apps @skip(if: $x) { id } }") == [
        ('Variable "$x" of type "Boolean" used in position expecting type "Boolean!".', 1, 52),
        ('Variable "$x" is never used in operation "Q".', 1, 22),
        ('There can be only one variable named "$x".', 1, 22)]


def test_variables_are_input_types(client: Client) -> None:
    assert refused(client, f"query Q($x: [App!]) {{ {APPS} }}") == [
        ('Variable "$x" is never used in operation "Q".', 1, 9),
        ('Variable "$x" cannot be non-input type "[App!]".', 1, 9)]


def test_unique_argument_names_reports_the_second_only(client: Client) -> None:
    assert refused(client, '{ run(runID: "a", runID: "b", runID: "c") { id } }') == [
        ('There can be only one argument named "runID".', 1, 19)]
    assert refused(client, "{ apps @skip(if: true, if: false) { id } }") == [
        ('There can be only one argument named "if".', 1, 24)]


def test_scalar_leafs_name_the_field_type_and_check_below_a_leaf(client: Client) -> None:
    assert refused(client, "{ apps }") == [
        ('Field "apps" of type "[App!]!" must have a selection of subfields. Did you mean '
         '"apps { ... }"?', 1, 3)]
    assert refused(client, "{ apps { id { x } } }") == [
        ('Cannot query field "x" on type "ID".', 1, 15),
        ('Field "id" must not have a selection since type "ID" has no subfields.', 1, 10)]


@pytest.mark.parametrize(("document", "expected"), [
    ("{ apps { nope } }", [('Cannot query field "nope" on type "App". Did you mean "name"?',
                            1, 10)]),
    ('{ runTrace(runID: "x") { stepInfo { timedOut } } }',
     [('Cannot query field "timedOut" on type "StepInfo". Did you mean to use an inline '
       'fragment on "InvokeStepInfo", "WaitForEventStepInfo", or "WaitForSignalStepInfo"?',
       1, 37)]),
    ('{ run(runId: "x") { id } }',
     [('Unknown argument "runId" on field "Query.run". Did you mean "runID"?', 1, 3),
      ('Field "run" argument "runID" of type "String!" is required, but it was not '
       "provided.", 1, 3)]),
    ("{ runs(orderBy: [{field: QUEUED, direction: ASC}], "
     'filter: {from: "2020-01-01T00:00:00Z"}) { totalCount } }',
     [('Value "QUEUED" does not exist in "RunsV2OrderByField!" enum. Did you mean the enum '
       'value "QUEUED_AT"?', 1, 26)]),
    ('{ events(query: {workspaceID: "a"}) { id } }',
     [('Field "workspaceID" is not defined by type "EventsQuery". Did you mean '
       '"workspaceId"?', 1, 18)]),
])
def test_did_you_mean_hints(client: Client, document: str, expected: Errors) -> None:
    assert refused(client, document) == expected


def test_errors_come_in_the_dev_servers_order(client: Client) -> None:
    document = ("query Q($a: Int, $b: Nope) { run(runID: $c) @nope { id x: id x: status } ...F } "
                "fragment F on Query { apps { id } } fragment G on App { id }")
    assert refused(client, document) == [
        ('Unknown type "Nope".', 1, 18),
        ('Variable "$c" is not defined by operation "Q".', 1, 41),
        ('Unknown directive "@nope".', 1, 46),
        (CONFLICT.format("x", '"id" and "status" are different fields'), 1, 62),
        ('Variable "$a" is never used in operation "Q".', 1, 9),
        ('Variable "$b" is never used in operation "Q".', 1, 18),
        ('Fragment "G" is never used.', 1, 117)]


def test_a_mistake_in_a_spread_fragment_is_reported_twice(client: Client) -> None:
    assert refused(client, '{ ...F } fragment F on Query { run(runID: 5) { id } }') == 2 * [
        ("String cannot represent a non string value: 5", 1, 43)]
