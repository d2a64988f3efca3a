"""Field arguments and variable values at POST /v0/gql, checked as the real server checks them.

Every expected answer below was measured on the real dev server (`inngest dev`): the HTTP
status, the error code, the message and, where it gives one, the location or path (some
documents are spaced differently here; their columns follow the spacing).
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Client

LOOPBACK = True
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
FROM = 'filter: {from: "2020-01-01T00:00:00Z"}'

# (document, [(message, line, column)]): 422 GRAPHQL_VALIDATION_FAILED on the real server.
LITERAL_ERRORS: list[tuple[str, list[tuple[str, int, int]]]] = [
    ('{ run(runID: "01J0000000000000000000000A", bogus: 1) { id } }',
     [('Unknown argument "bogus" on field "Query.run".', 1, 3)]),
    ("{ events(zzz: 1) { name } }",
     [('Unknown argument "zzz" on field "Query.events".', 1, 3),
      ('Field "events" argument "query" of type "EventsQuery!" is required, but it was not '
       "provided.", 1, 3)]),
    ("{ run { id } }",
     [('Field "run" argument "runID" of type "String!" is required, but it was not provided.',
       1, 3)]),
    ("{ runs(first: 1, orderBy: []) { edges { node { id } } } }",
     [('Field "runs" argument "filter" of type "RunsFilterV2!" is required, but it was not '
       "provided.", 1, 3)]),
    ("{ run(runID: 5) { id } }", [("String cannot represent a non string value: 5", 1, 14)]),
    ("{ run(runID: RUN) { id } }",
     [("String cannot represent a non string value: RUN", 1, 14)]),
    ('{ run(runID: ["x"]) { id } }',
     [('String cannot represent a non string value: ["x"]', 1, 14)]),
    ("{ run(runID: {a: 1}) { id } }", [('Field "a" is not defined by type "String".', 1, 15)]),
    ("{ run(runID: null) { id } }", [('Expected value of type "String!", found null.', 1, 14)]),
    ('{ run(runID: "x", runID: "y") { id } }',
     [('There can be only one argument named "runID".', 1, 19)]),
    (f'{{ runs(first: "x", orderBy: [], {FROM}) {{ totalCount }} }}',
     [('Int cannot represent non-integer value: "x"', 1, 15)]),
    (f"{{ runs(first: 1.5, orderBy: [], {FROM}) {{ totalCount }} }}",
     [("Int cannot represent non-integer value: 1.5", 1, 15)]),
    (f"{{ runs(first: null, orderBy: [], {FROM}) {{ totalCount }} }}",
     [('Expected value of type "Int!", found null.', 1, 15)]),
    ('{ runs(orderBy: [], filter: {from: "2020-01-01T00:00:00Z", status: [NOPE]}) '
     "{ totalCount } }",
     [('Value "NOPE" does not exist in "FunctionRunStatus!" enum.', 1, 69)]),
    ('{ runs(orderBy: [], filter: {from: "2020-01-01T00:00:00Z", status: NOPE}) '
     "{ totalCount } }",
     [('Value "NOPE" does not exist in "[FunctionRunStatus!]" enum.', 1, 68)]),
    (f"{{ runs(orderBy: [{{field: NOPE, direction: UP}}], {FROM}) {{ totalCount }} }}",
     [('Value "NOPE" does not exist in "RunsV2OrderByField!" enum.', 1, 26),
      ('Value "UP" does not exist in "RunsOrderByDirection!" enum.', 1, 43)]),
    (f'{{ runs(orderBy: [{{field: "QUEUED_AT", direction: ASC}}], {FROM}) {{ totalCount }} }}',
     [('Enum "RunsV2OrderByField!" cannot represent non-enum value: "QUEUED_AT". Did you '
       'mean the enum value "QUEUED_AT" or "ENDED_AT"?', 1, 26)]),
    (f"{{ runs(orderBy: [{{field: QUEUED_AT}}], {FROM}) {{ totalCount }} }}",
     [('Field "RunsV2OrderBy.direction" of required type "RunsOrderByDirection!" was not '
       "provided.", 1, 18)]),
    (f"{{ runs(orderBy: [5], {FROM}) {{ totalCount }} }}",
     [('Expected value of type "RunsV2OrderBy!", found 5.', 1, 18)]),
    ("{ runs(orderBy: [], filter: {}) { totalCount } }",
     [('Field "RunsFilterV2.from" of required type "Time!" was not provided.', 1, 29)]),
    ('{ runs(orderBy: [], filter: "x") { totalCount } }',
     [('Expected value of type "RunsFilterV2!", found "x".', 1, 29)]),
    ("{ events(query: {limit: 1.5}) { name } }",
     [('Field "limit" is not defined by type "EventsQuery".', 1, 18)]),
    ("{ events(query: {lastEventId: 1.5}) { name } }",
     [("ID cannot represent a non-string and non-integer value: 1.5", 1, 31)]),
    ('{ events(query: {lastEventId: ["a", 1]}) { id } }',
     [('ID cannot represent a non-string and non-integer value: ["a",1]', 1, 31)]),
    ("{ functionBySlug(query: {}) { id } }",
     [('Field "FunctionQuery.functionSlug" of required type "String!" was not provided.',
       1, 25)]),
    ('{ run(runID: "x") { trace(preview: 1) { spanID } } }',
     [("Boolean cannot represent a non boolean value: 1", 1, 36)]),
    ('{ run(runID: "x") { id(a: 1) } }',
     [('Unknown argument "a" on field "FunctionRunV2.id".', 1, 21)]),
    ("mutation { createApp(input: {}) { id } }",
     [('Field "CreateAppInput.url" of required type "String!" was not provided.', 1, 29)]),
    ('{ run(runID: "x") @skip { id } }',
     [('Directive "@skip" argument "if" of type "Boolean!" is required, but it was not '
       "provided.", 1, 20)]),
    ('{ run(runID: "x") @skip(if: true, x: 1) { id } }',
     [('Unknown argument "x" on directive "@skip".', 1, 20)]),
    ('query Q($x: Int = "s") { run(runID: "x") { id } }',
     [('Int cannot represent non-integer value: "s"', 1, 19),
      ('Variable "$x" is never used in operation "Q".', 1, 9)]),
    ("query Q($x: String) { run(runID: $x) { id } }",
     [('Variable "$x" of type "String" used in position expecting type "String!".', 1, 34)]),
    ('query Q($f: RunsFilterV2) { runs(orderBy: [], filter: $f) { totalCount } }',
     [('Variable "$f" of type "RunsFilterV2" used in position expecting type '
       '"RunsFilterV2!".', 1, 55)]),
]


def post(client: Client, body: object) -> tuple[int, dict[str, typing.Any]]:
    status, answer = client.request("POST", "/v0/gql", body)
    return status, dict(answer)


def failures(answer: dict[str, typing.Any]) -> list[tuple[object, ...]]:
    """Each error as (message, line, column), or (message, path) when it has no location."""
    assert answer["data"] is None
    assert {error["extensions"]["code"] for error in answer["errors"]} == {VALIDATION}
    return [
        (error["message"], error["locations"][0]["line"], error["locations"][0]["column"])
        if "locations" in error else (error["message"], error["path"])
        for error in answer["errors"]
    ]


@pytest.mark.parametrize(("document", "expected"), LITERAL_ERRORS)
def test_arguments_that_do_not_fit_the_schema_are_refused(
        client: Client, document: str, expected: list[tuple[object, ...]]) -> None:
    status, answer = post(client, {"query": document})
    assert status == 422, answer
    assert failures(answer) == expected


RUNS_FIRST = f"query Q($n: Int!) {{ runs(first: $n, orderBy: [], {FROM}) {{ totalCount }} }}"
RUNS_FILTER = "query Q($f: RunsFilterV2!) { runs(orderBy: [], filter: $f) { totalCount } }"
RUNS_ORDER = f"query Q($o: [RunsV2OrderBy!]!) {{ runs(orderBy: $o, {FROM}) {{ totalCount }} }}"
RUN = "query Q($id: String!) { run(runID: $id) { id } }"
EVENTS = "query Q($q: EventsQuery!) { events(query: $q) { id } }"
SINCE_2020 = "2020-01-01T00:00:00Z"

# (document, variables, message, path): 422 GRAPHQL_VALIDATION_FAILED on the real server,
# without locations; only the first variable that does not fit is reported.
VARIABLE_ERRORS: list[tuple[str, dict[str, object], str, list[object]]] = [
    (RUN, {"id": {"a": 1}}, "cannot use map as String", ["variable", "id"]),
    (RUN, {"id": [1]}, "cannot use slice as String", ["variable", "id"]),
    (RUN, {"id": True}, "cannot use bool as String", ["variable", "id"]),
    (RUN, {"id": None}, "cannot be null", ["variable", "id"]),
    (RUN, {}, "must be defined", ["variable", "id"]),
    (RUNS_FIRST, {"n": "x"}, "cannot use string as Int", ["variable", "n"]),
    (RUNS_FIRST, {"n": 1.5}, "cannot use value 0 as Int", ["variable", "n"]),
    (RUNS_FIRST, {"n": True}, "cannot use bool as Int", ["variable", "n"]),
    (RUNS_FILTER, {"f": {}}, "must be defined", ["variable", "f", "from"]),
    (RUNS_FILTER, {"f": "x"}, "must be a RunsFilterV2", ["variable", "f"]),
    (RUNS_FILTER, {"f": {"from": SINCE_2020, "zz": 1}}, "unknown field",
     ["variable", "f", "zz"]),
    (RUNS_FILTER, {"f": {"from": SINCE_2020, "status": ["NOPE"]}},
     "NOPE is not a valid FunctionRunStatus", ["variable", "f", "status", 0]),
    (RUNS_FILTER, {"f": {"from": SINCE_2020, "status": [None]}}, "cannot be null",
     ["variable", "f", "status", 0]),
    (RUNS_FILTER, {"f": {"from": SINCE_2020, "isDeferred": "x"}},
     "cannot use string as Boolean", ["variable", "f", "isDeferred"]),
    (RUNS_FILTER, {"f": {"a": 1}}, "unknown field", ["variable", "f", "a"]),
    (RUNS_ORDER, {"o": [{"field": "QUEUED_AT"}]}, "must be defined",
     ["variable", "o", 0, "direction"]),
    (RUNS_ORDER, {"o": "x"}, "must be a RunsV2OrderBy", ["variable", "o", 0]),
    (EVENTS, {"q": {"lastEventId": True}}, "cannot use bool as ID",
     ["variable", "q", "lastEventId"]),
    (EVENTS, {"q": {"workspaceId": None}}, "cannot be null", ["variable", "q", "workspaceId"]),
]


@pytest.mark.parametrize(("document", "variables", "message", "path"), VARIABLE_ERRORS)
def test_variable_values_that_do_not_fit_their_type_are_refused(
        client: Client, document: str, variables: dict[str, object], message: str,
        path: list[object]) -> None:
    status, answer = post(client, {"query": document, "variables": variables})
    assert status == 422, answer
    assert failures(answer) == [(message, path)]


@pytest.mark.parametrize("body", [
    {}, {"query": None}, {"query": ""}, {"query": "   "}, {"query": "# only a comment"},
    {"query": "fragment F on Query { apps { id } }"},
])
def test_a_request_without_an_operation_is_refused(client: Client, body: object) -> None:
    status, answer = post(client, body)
    assert status == 422
    assert answer == {"data": None, "errors": [
        {"message": "no operation provided", "extensions": {"code": VALIDATION}}]}
