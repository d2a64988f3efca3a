from __future__ import annotations

import dataclasses

import pytest

from inngest._engine.graphql import parser
from inngest._engine.graphql.errors import PARSE_FAILED, VALIDATION_FAILED, GraphQLError
from inngest._engine.graphql.execution import execute
from inngest._engine.graphql.typesystem import Field, Schema

VALIDATION = VALIDATION_FAILED
PARSE = PARSE_FAILED


@dataclasses.dataclass(frozen=True)
class _Run:
    id: str
    status: str
    steps: tuple[str, ...]


_RUNS = {
    "r1": _Run("r1", "COMPLETED", ("a", "b")),
    "r2": _Run("r2", "FAILED", ()),
}


def _run(parent: object, args: dict[str, object], ctx: object) -> object:
    run = _RUNS.get(str(args["runID"]))
    if run is None:
        raise GraphQLError("run not found")
    return run


def _echo(parent: object, args: dict[str, object], ctx: object) -> object:
    return args


def _broken(parent: object, args: dict[str, object], ctx: object) -> object:
    raise GraphQLError("step output unavailable")


def _steps(parent: object, args: dict[str, object], ctx: object) -> object:
    assert isinstance(parent, _Run)
    return [{"name": name} for name in parent.steps]


def _cancel(parent: object, args: dict[str, object], ctx: object) -> object:
    assert isinstance(ctx, list)
    ctx.append(args["runID"])
    return _run(parent, args, ctx)


# "Any" is a custom scalar: it takes every literal as written.
_ECHO_ARGS = {"a": "String", "b": "[ID!]", "ids": "[ID!]", **{
    name: "Any" for name in ("c", "s", "i", "f", "t", "n", "e", "l", "o", "v")}}

SCHEMA = Schema(
    types={
        "Query": {
            "run": Field("Run", _run, {"runID": "String!"}),
            "runs": Field("[Run!]!", lambda p, a, c: list(_RUNS.values())),
            "echo": Field("Map", _echo, _ECHO_ARGS),
            "ctx": Field("String", lambda p, a, c: c),
        },
        "Mutation": {"cancelRun": Field("Run!", _cancel, {"runID": "String!"})},
        "Run": {
            "id": Field("ID!"),
            "status": Field("String!"),
            "steps": Field("[Step!]!", _steps),
            "broken": Field("String", _broken),
            "brokenRequired": Field("String!", _broken),
            "nullRequired": Field("String!", lambda p, a, c: None),
        },
        "Step": {"name": Field("String")},
    },
    query="Query",
    mutation="Mutation",
    scalars=frozenset(("Map", "Any")),
)


def _exec(document: str, variables: dict[str, object] | None = None,
          operation_name: str | None = None, context: object = None) -> dict[str, object]:
    return execute(SCHEMA, document, variables, operation_name, context)


def _echo_args(arguments: str, variables: dict[str, object] | None = None,
               definitions: str = "") -> object:
    result = _exec(f"query Q{definitions} {{ echo{arguments} }}", variables)
    assert "errors" not in result, result
    data = result["data"]
    assert isinstance(data, dict)
    return data["echo"]


def test_shorthand_query_with_nested_lists() -> None:
    result = _exec('{ run(runID: "r1") { id status steps { name } } }')
    assert result == {
        "data": {
            "run": {"id": "r1", "status": "COMPLETED", "steps": [{"name": "a"}, {"name": "b"}]}
        }
    }


def test_aliases_and_typename() -> None:
    result = _exec('{ first: run(runID: "r1") { __typename s: status } '
                   'second: run(runID: "r2") { status } }')
    assert result == {
        "data": {"first": {"__typename": "Run", "s": "COMPLETED"},
                 "second": {"status": "FAILED"}}
    }


def test_literal_arguments() -> None:
    echoed = _echo_args(
        '(s: "a\\"b\\u00e9\\n", i: -12, f: 1.5e2, t: true, n: null, e: DESC, '
        'l: [1, "x", [false]], o: {field: QUEUED_AT, nested: {x: 0.25}})'
    )
    assert echoed == {
        "s": 'a"b\u00e9\n', "i": -12, "f": 150.0, "t": True, "n": None, "e": "DESC",
        "l": [1, "x", [False]], "o": {"field": "QUEUED_AT", "nested": {"x": 0.25}},
    }


def test_block_string_is_dedented() -> None:
    echoed = _echo_args('(s: """\n    first\n      indented \\""" quote\n    last\n  """)')
    assert echoed == {"s": 'first\n  indented """ quote\nlast'}


def test_comments_and_commas_are_ignored() -> None:
    result = _exec('# leading comment\n{ run(runID: "r2",) { id, status } # trailing\n }')
    assert result == {"data": {"run": {"id": "r2", "status": "FAILED"}}}


def test_variables_with_defaults_and_types() -> None:
    echoed = _echo_args(
        "(a: $a, b: $b, l: [$a], o: {k: $b})",
        {"a": "given"},
        '($a: String!, $b: [ID!] = ["d1", "d2"])',
    )
    assert echoed == {"a": "given", "b": ["d1", "d2"], "l": ["given"], "o": {"k": ["d1", "d2"]}}


def test_unset_optional_variable_omits_the_argument() -> None:
    assert _echo_args("(a: $a, c: 1)", {}, "($a: String)") == {"c": 1}


def test_variable_explicit_null_overrides_default() -> None:
    assert _echo_args("(a: $a)", {"a": None}, '($a: String = "x")') == {"a": None}


def test_missing_required_variable() -> None:
    # gqlgen's words and path, without locations (measured on the real server).
    result = _exec("query GetRun($run_id: String!) { run(runID: $run_id) { id } }", {})
    assert result == {
        "data": None,
        "errors": [{"message": "must be defined", "path": ["variable", "run_id"],
                    "extensions": {"code": VALIDATION}}],
    }


def test_null_for_non_null_variable() -> None:
    result = _exec("query Q($ids: [ID!]!) { echo(ids: $ids) }", {"ids": None})
    assert result["errors"] == [{"message": "cannot be null", "path": ["variable", "ids"],
                                 "extensions": {"code": VALIDATION}}]


def test_undefined_variable() -> None:
    result = _exec("{ echo(a: $nope) }")
    assert result["data"] is None
    assert result["errors"] == [{
        "message": 'Variable "$nope" is not defined.',
        "locations": [{"line": 1, "column": 11}],
        "extensions": {"code": VALIDATION},
    }]


def test_named_fragments_and_inline_fragments() -> None:
    document = """
        query Q { run(runID: "r1") { ...RunBits ... on Run { steps { ...StepBits } } } }
        fragment RunBits on Run { id ... { status } }
        fragment StepBits on Step { name }
    """
    assert _exec(document) == {
        "data": {"run": {"id": "r1", "status": "COMPLETED",
                         "steps": [{"name": "a"}, {"name": "b"}]}}
    }


def test_same_field_selected_twice_is_merged() -> None:
    result = _exec('{ run(runID: "r1") { steps { name } ... on Run { steps { __typename } } } }')
    assert result == {"data": {"run": {"steps": [
        {"name": "a", "__typename": "Step"}, {"name": "b", "__typename": "Step"}
    ]}}}


@pytest.mark.parametrize(
    ("directive", "variables", "expected"),
    [
        ("@include(if: true) @skip(if: $flag)", {}, {"id": "r1", "status": "COMPLETED"}),
        ("@include(if: false) @skip(if: $flag)", {}, {"id": "r1"}),
        ("@skip(if: $flag)", {"flag": True}, {"id": "r1"}),
        ("@skip(if: $flag)", {"flag": False}, {"id": "r1", "status": "COMPLETED"}),
    ],
)
def test_include_and_skip(directive: str, variables: dict[str, object],
                          expected: dict[str, object]) -> None:
    document = (
        f'query Q($flag: Boolean = false) {{ run(runID: "r1") {{ id status {directive} }} }}'
    )
    assert _exec(document, variables) == {"data": {"run": expected}}


def test_directive_on_fragment_spread() -> None:
    document = '{ run(runID: "r1") { id ...F @skip(if: true) } } fragment F on Run { status }'
    assert _exec(document) == {"data": {"run": {"id": "r1"}}}


def test_operation_name_selects_among_many() -> None:
    document = 'query A { run(runID: "r1") { id } } query B { run(runID: "r2") { id } }'
    assert _exec(document, operation_name="B") == {"data": {"run": {"id": "r2"}}}
    assert _exec(document)["errors"] == [
        {"message": "operation  not found", "extensions": {"code": VALIDATION}}
    ]
    assert _exec(document, operation_name="C")["errors"] == [
        {"message": "operation C not found", "extensions": {"code": VALIDATION}}
    ]


def test_mutation_runs_resolver_with_context() -> None:
    calls: list[object] = []
    result = _exec('mutation { cancelRun(runID: "r2") { id status } }', context=calls)
    assert result == {"data": {"cancelRun": {"id": "r2", "status": "FAILED"}}}
    assert calls == ["r2"]


def test_context_reaches_resolvers() -> None:
    assert _exec("{ ctx }", context="engine") == {"data": {"ctx": "engine"}}


def test_unknown_field_is_a_validation_error() -> None:
    calls: list[object] = []
    result = _exec('mutation {\n  cancelRun(runID: "r1") {\n    id\n    nope\n  }\n}',
                   context=calls)
    assert result == {
        "data": None,
        "errors": [{
            "message": 'Cannot query field "nope" on type "Run".',
            "locations": [{"line": 4, "column": 5}],
            "extensions": {"code": VALIDATION},
        }],
    }
    assert calls == []


def test_unknown_field_inside_fragment_is_reported_where_spread_and_where_defined() -> None:
    result = _exec("{ runs { ...F } } fragment F on Run { bogus }")
    assert result["errors"] == 2 * [{
        "message": 'Cannot query field "bogus" on type "Run".',
        "locations": [{"line": 1, "column": 39}],
        "extensions": {"code": VALIDATION},
    }]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{ runs }", 'Field "runs" of type "[Run!]!" must have a selection of subfields. '
                     'Did you mean "runs { ... }"?'),
        ("{ runs { id { __typename } } }",
         'Field "id" must not have a selection since type "ID" has no subfields.'),
        ("{ runs { ...Missing } }", 'Unknown fragment "Missing".'),
        ("{ runs { ...F } } fragment F on Run { ...F }",
         'Cannot spread fragment "F" within itself.'),
        ("{ runs { ... on Nope { id } } }", 'Unknown type "Nope".'),
        ("{ runs { id @nope } }", 'Unknown directive "@nope".'),
        ("subscription { runs { id } }", 'Schema does not support operation type "subscription"'),
    ],
)
def test_validation_errors(document: str, message: str) -> None:
    result = _exec(document)
    assert result["data"] is None
    errors = result["errors"]
    assert isinstance(errors, list)
    assert [error["message"] for error in errors] == [message]


@pytest.mark.parametrize(
    ("document", "message", "line", "column"),
    [
        ("{ run(runID: ) { id } }", "Unexpected )", 1, 14),
        ("query Q {\n  run(runID: \"x\") {\n    id\n", "Expected Name, found <EOF>", 4, 1),
        ('{ run(runID: "open) { id } }', "Syntax Error: Unterminated string.", 1, 14),
        ("{ a: }", "Expected Name, found }", 1, 6),
        ("{ x % }", "Syntax Error: Unexpected character: '%'.", 1, 5),
        ("{ echo(a: 12abc) }", "Syntax Error: Invalid number '12'.", 1, 11),
        ("garbage { x }", 'Unexpected Name "garbage"', 1, 1),
        ("query Q($v: String = $w) { x }", "Unexpected $", 1, 22),
        ("query Q($a String) { x }", "Expected :, found Name", 1, 12),
        ("fragment F T { x }", 'Expected "on", found Name "T"', 1, 12),
        ("query { }", "expected at least one definition, found }", 1, 9),
        ("{ x() }", "expected at least one definition, found )", 1, 5),
    ],
)
def test_syntax_errors_have_line_and_column(document: str, message: str, line: int,
                                            column: int) -> None:
    assert _exec(document) == {
        "data": None,
        "errors": [{"message": message, "locations": [{"line": line, "column": column}],
                    "extensions": {"code": PARSE}}],
    }


def test_resolver_error_nulls_field_and_reports_path() -> None:
    result = _exec('{ runs { id broken } missing: run(runID: "zz") { id } }')
    assert result["data"] == {
        "runs": [{"id": "r1", "broken": None}, {"id": "r2", "broken": None}],
        "missing": None,
    }
    assert result["errors"] == [
        {"message": "step output unavailable", "locations": [{"line": 1, "column": 13}],
         "path": ["runs", 0, "broken"]},
        {"message": "step output unavailable", "locations": [{"line": 1, "column": 13}],
         "path": ["runs", 1, "broken"]},
        {"message": "run not found", "locations": [{"line": 1, "column": 22}],
         "path": ["missing"]},
    ]


def test_an_error_in_a_non_null_field_nulls_its_nullable_parent() -> None:
    result = _exec('{ run(runID: "r1") { id brokenRequired } other: run(runID: "r2") { id } }')
    assert result["data"] == {"run": None, "other": {"id": "r2"}}
    assert [(e["message"], e["path"]) for e in result["errors"]] == [  # type: ignore[union-attr]
        ("step output unavailable", ["run", "brokenRequired"])]


def test_a_null_non_null_list_item_nulls_the_list_up_to_data() -> None:
    # runs: [Run!]!, so a Run nulled by its non-null field nulls the list, then `data`.
    result = _exec('{ runs { id brokenRequired } other: run(runID: "r2") { id } }')
    assert result["data"] is None
    assert [e["path"] for e in result["errors"]] == [  # type: ignore[union-attr]
        ["runs", 0, "brokenRequired"], ["runs", 1, "brokenRequired"]]


def test_a_non_null_field_answering_null_is_gqlgens_must_not_be_null() -> None:
    result = _exec('{ run(runID: "r1") { nullRequired } }')
    assert result == {"data": {"run": None}, "errors": [
        {"message": "must not be null", "locations": [{"line": 1, "column": 22}],
         "path": ["run", "nullRequired"]}]}


def test_a_failed_mutation_nulls_data_and_the_next_one_still_runs() -> None:
    done: list[object] = []
    result = _exec('mutation { a: cancelRun(runID: "zz") { id } b: cancelRun(runID: "r1") { id } }',
                   context=done)
    assert result["data"] is None
    assert [(e["message"], e["path"]) for e in result["errors"]] == [  # type: ignore[union-attr]
        ("run not found", ["a"])]
    assert done == ["zz", "r1"]


def test_parse_is_cached_and_bounded() -> None:
    document = '{ run(runID: "r1") { id } }'
    assert parser.parse(document) is parser.parse(document)
    cache = parser.parse.cache_info()
    assert cache.maxsize is not None and cache.maxsize > 0


def test_parse_type_notation() -> None:
    assert str(parser.parse_type("[ID!]!")) == "[ID!]!"
    assert parser.parse_type("[[Run]]").named() == "Run"


# Found by tests/property/test_graphql_props.py: these raised RecursionError or ValueError
# (the engine's /v0/gql answered 500), or took minutes.
@pytest.mark.parametrize("document", [
    "{ runs " + "{ steps " * 150 + "{ name }" + " }" * 151,
    "{ echo(v: " + "[" * 150 + "]" * 150 + ") }",
    "query Q($v: " + "[" * 150 + "Int" + "]" * 150 + ") { runs { id } }",
    "{ echo(v: " + "{a: " * 150 + "1" + "}" * 150 + ") }",
])
def test_nesting_past_the_limit_is_a_syntax_error(document: str) -> None:
    result = _exec(document)
    assert result["data"] is None
    [error] = result["errors"]  # type: ignore[misc]
    assert error["message"] == "Syntax Error: Document is nested more than 100 levels deep."
    assert error["extensions"] == {"code": PARSE}


def test_nesting_up_to_the_limit_parses() -> None:
    # The selection set and the argument list are two of the 100 levels.
    assert _echo_args("(v: " + "[" * 98 + "1" + "]" * 98 + ")")


def test_an_int_literal_too_long_to_convert_is_a_syntax_error() -> None:
    result = _exec("{ echo(v: " + "1" * 5000 + ") }")
    assert result["errors"][0]["message"].startswith(  # type: ignore[index]
        "Syntax Error: Int 11111111111111111111... has too many digits")
    assert _echo_args("(v: " + "1" * 1000 + ")") == {"v": int("1" * 1000)}


def test_a_chain_of_fragments_past_the_limit_is_a_validation_error() -> None:
    chain = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(2000))
    result = _exec("{ ...F0 } " + chain + " fragment F2000 on Query { ctx }")
    assert result == {"data": None, "errors": [{
        "message": "Document is nested more than 100 levels deep.",
        "locations": [{"line": 1, "column": 1}], "extensions": {"code": VALIDATION}}]}


def test_a_fragment_spread_many_times_is_validated_and_collected_once() -> None:
    # 2**60 spreads if each were followed: this answers at once.
    fan_out = " ".join(f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    result = _exec("{ ...F0 } " + fan_out + " fragment F60 on Query { ctx runs { id } }",
                   context="c")
    assert result == {"data": {"ctx": "c", "runs": [{"id": "r1"}, {"id": "r2"}]}}
