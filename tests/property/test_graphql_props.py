"""The engine's GraphQL endpoint: any string, and queries generated from the schema's own
field and argument names with random values, nesting and edits, give a result or GraphQL
errors (a 200 or a 422 with a GraphQL body), never an exception, a RecursionError or a 500."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.graphql import parser
from inngest._engine.graphql.errors import GraphQLError
from inngest._engine.graphql.schema import SCHEMA
from inngest._engine.http.api import Api
from inngest._engine.store import Store

# The main test runs the profile's 10,000 cases; whole generated operations cost more to
# draw, so those tests run fewer.
FEW = 2_000
NEAR = 1_000
FIELDS = sorted({name for fields in SCHEMA.types.values() for name in fields}) + [
    "__typename", "nope"]
ARGUMENTS = ["after", "appIDs", "data", "direction", "eventId", "field", "filter", "first",
             "from", "functionIDs", "functionRunId", "functionSlug", "id", "limit", "name",
             "orderBy", "outputID", "query", "runID", "slug", "spanID", "status", "timeField",
             "until", "user", "if", "x"]
TYPES = ["String", "Int", "ID", "Boolean", "Time", "ULID", "Map", "RunsFilterV2", "Nope"]
_names = st.sampled_from(FIELDS)
_strings = st.text(max_size=8).map(json.dumps) | st.sampled_from(
    ['"\\u00e9"', '"\\ud800"', '"\\x"', '"""block\n  "quoted" """', '"unterminated', '"""'])
_numbers = st.integers().map(str) | st.sampled_from(["1" * 5000, "-0", "1e999", "1.5e-3", "01",
                                                     "1.", ".5", "0x1F", "1_000"])
_scalars = st.one_of(_numbers, _strings, st.sampled_from(
    ["true", "false", "null", "QUEUED_AT", "ASC", "$x", "$runID", "$"]))
values = st.recursive(_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
    st.lists(st.tuples(st.sampled_from(ARGUMENTS), inner), max_size=3).map(
        lambda pairs: "{" + " ".join(f"{k}: {v}" for k, v in pairs) + "}")), max_leaves=4)
_arguments = st.lists(st.tuples(st.sampled_from(ARGUMENTS), values), max_size=2).map(
    lambda pairs: "(" + ", ".join(f"{k}: {v}" for k, v in pairs) + ")" if pairs else "")
_directives = st.sampled_from(["", " @skip(if: true)", " @include(if: false)", " @include",
                               " @skip(if: $x)", " @nope"])


def _selection_set(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(inner, min_size=1, max_size=3).map(lambda items: "{ " + " ".join(items) + " }")


_leaf = st.builds(lambda alias, name, args, directive: f"{alias}{name}{args}{directive}",
                  st.sampled_from(["", "a: ", "b:"]), _names, _arguments, _directives)
selections = st.recursive(_leaf, lambda inner: st.one_of(
    st.builds("{} {}".format, _leaf, _selection_set(inner)),
    _selection_set(inner).map("... on Query {}".format),
    st.just("...F")), max_leaves=5)
_types = st.builds("{}{}{}{}".format, st.sampled_from(["", "["]), st.sampled_from(TYPES),
                   st.sampled_from(["", "]"]), st.sampled_from(["", "!"]))
_variables = st.lists(st.builds("${}: {}{}".format, st.sampled_from(["x", "runID", "q"]), _types,
                                st.sampled_from(["", " = 1", ' = "a"', " = null"])),
                      max_size=2).map(lambda defs: "(" + ", ".join(defs) + ")" if defs else "")
operations = st.builds(
    "{}{} {}{}".format,
    st.sampled_from(["", "query Q", "mutation M", "subscription S", "query", "query Q"]),
    _variables, _selection_set(selections),
    st.sampled_from(["", " fragment F on Query { apps { id } }", " fragment F on Nope { x }",
                     " fragment F on Query { ...F }", " query Q { apps { id } }"]))


def _edit(text: str, edits: list[tuple[int, str]]) -> str:
    """Near-valid: insert or delete at a few places, as a typo or a cut-off paste would."""
    for position, token in edits:
        position %= len(text) + 1
        text = text[:position] + token + text[position + (token == ""):]
    return text


_tokens = st.sampled_from(["", "{", "}", "(", ")", "[", "]", ":", "$", "!", "=", "@", "...",
                           '"', "#", "\n", "1", "query", "on", "fragment", "\\", "\x00", "é"])
near_valid = st.builds(_edit, operations, st.lists(st.tuples(st.integers(0, 10**4), _tokens),
                                                   max_size=3))
_openers = st.sampled_from(["{a", "[", "{ runs(filter: ", "... on Query {"])
deep = st.builds(lambda depth, open_, close: open_ * depth + close * depth,
                 st.integers(1, 1_000), _openers, st.sampled_from(["}", "]", ")", ""])).map(
    lambda body: "{ x(v: " + body + ") }" if body.startswith("[") else body)
# Token soups: the language's punctuation, keywords and the schema's names in any order.
_words = FIELDS + ARGUMENTS + ["mutation", "true", "-1", '"s"', '"""b"""', "1.5e3"]
soups = st.lists(_tokens | st.sampled_from(_words), max_size=24).map(" ".join)
API: list[Api] = []


def _api() -> Api:
    if not API:
        API.append(Api(Engine(Store(), Settings())))
    return API[0]


@given(st.one_of(st.text(max_size=60), soups, deep))
def test_any_query_text_gets_data_or_graphql_errors(query: str) -> None:
    _assert_graphql_answer(json.dumps({"query": query}).encode())


@settings(max_examples=NEAR)
@given(near_valid)
def test_near_valid_queries_get_data_or_graphql_errors(query: str) -> None:
    _assert_graphql_answer(json.dumps({"query": query}).encode())


@settings(max_examples=NEAR)
@given(operations, st.one_of(st.none(), st.dictionaries(
    st.sampled_from(["x", "runID", "q"]), st.none() | st.integers() | st.text(max_size=4)
    | st.lists(st.integers(), max_size=2), max_size=3), st.integers(), st.text(max_size=4)),
    st.none() | st.sampled_from(["Q", "M", "nope"]) | st.integers())
def test_generated_operations_with_any_variables(
    query: str, variables: object, operation: object
) -> None:
    _assert_graphql_answer(json.dumps(
        {"query": query, "variables": variables, "operationName": operation}).encode())


@settings(max_examples=FEW)
@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_any_request_body_gets_a_4xx_or_an_answer(body: bytes) -> None:
    status, _, payload = _api().handle("POST", "/v0/gql", {}, _JSON, body)
    assert status in (200, 400, 422)
    assert isinstance(json.loads(payload), dict)


# The engine reads a GraphQL body only when it is sent as JSON, as the dev server does.
_JSON = {"content-type": "application/json"}


def _assert_graphql_answer(body: bytes) -> None:
    status, _, payload = _api().handle("POST", "/v0/gql", {}, _JSON, body)
    answer = json.loads(payload)
    assert status in (200, 400, 422), answer
    if status != 400:
        assert "data" in answer
        for error in answer.get("errors", []):
            assert isinstance(error["message"], str)


@settings(max_examples=FEW)
@given(st.one_of(st.text(max_size=60), soups, deep))
def test_the_parser_alone_raises_only_graphql_errors(query: str) -> None:
    parser.parse.cache_clear()
    try:
        parser.parse(query)
    except GraphQLError as error:
        assert error.message.startswith(
            ("Syntax Error", "Document", "Unexpected", "Expected", "expected at least one"))
