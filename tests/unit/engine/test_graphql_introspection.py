"""GraphQL introspection at POST /v0/gql: ``__schema``, ``__type(name:)`` and the meta-types.

Ours describes only the types it serves. Where a type is also the real dev server's, the
shapes (kinds, wrapping, default value text, order) are its answers, measured on
`inngest dev` with the queries below.
"""

from __future__ import annotations

import typing

import pytest
from engine_fakes import Client

LOOPBACK = True

# graphql-js getIntrospectionQuery() with its default options, as GraphiQL and codegen send it.
INTROSPECTION_QUERY = """
    query IntrospectionQuery {
      __schema {
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        kind
        name
        ofType {
          kind
          name
          ofType {
            kind
            name
            ofType {
              kind
              name
              ofType {
                kind
                name
                ofType {
                  kind
                  name
                  ofType {
                    kind
                    name
                  }
                }
              }
            }
          }
        }
      }
    }
"""

TYPE_REF = "type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }"


def gql(client: Client, query: str) -> dict[str, typing.Any]:
    status, answer = client.request("POST", "/v0/gql", {"query": query})
    assert status == 200, answer
    assert "errors" not in answer, answer
    return typing.cast(dict[str, typing.Any], answer["data"])


def sdl(ref: dict[str, typing.Any]) -> str:
    """An introspected type reference in SDL notation: ``[Event!]!``."""
    if ref["kind"] == "NON_NULL":
        assert ref["name"] is None
        return sdl(ref["ofType"]) + "!"
    if ref["kind"] == "LIST":
        assert ref["name"] is None
        return "[" + sdl(ref["ofType"]) + "]"
    return str(ref["name"])


def declarations(values: list[dict[str, typing.Any]]) -> dict[str, str]:
    """Arguments or input fields as ``{name: "Type = default"}``."""
    return {value["name"]: sdl(value["type"]) + (
        "" if value["defaultValue"] is None else f" = {value['defaultValue']}")
        for value in values}


def full_schema(client: Client) -> dict[str, typing.Any]:
    return typing.cast(dict[str, typing.Any], gql(client, INTROSPECTION_QUERY)["__schema"])


def type_named(schema: dict[str, typing.Any], name: str) -> dict[str, typing.Any]:
    return next(t for t in schema["types"] if t["name"] == name)


# ---------------------------------------------------------------------------- __schema


def test_the_standard_introspection_query_runs_and_names_the_roots(client: Client) -> None:
    schema = full_schema(client)
    assert schema["queryType"] == {"name": "Query"}
    assert schema["mutationType"] == {"name": "Mutation"}
    assert schema["subscriptionType"] is None


def test_query_fields_and_their_arguments_are_described(client: Client) -> None:
    query = type_named(full_schema(client), "Query")
    fields = {field["name"]: field for field in query["fields"]}
    assert query["kind"] == "OBJECT"
    assert "__schema" not in fields and "__type" not in fields
    assert sdl(fields["run"]["type"]) == "FunctionRunV2"
    assert declarations(fields["run"]["args"]) == {"runID": "String!"}
    # Measured: the real server's Query.runs arguments and defaults.
    assert declarations(fields["runs"]["args"]) == {
        "first": "Int! = 100", "after": "String", "orderBy": "[RunsV2OrderBy!]!",
        "filter": "RunsFilterV2!", "preview": "Boolean"}
    assert all(not field["isDeprecated"] and field["deprecationReason"] is None
               for field in fields.values())


def test_types_are_sorted_by_name_without_the_meta_types(client: Client) -> None:
    names = [t["name"] for t in full_schema(client)["types"]]
    assert names == sorted(names)
    assert not [name for name in names if name.startswith("__")]
    assert {"Boolean", "Float", "ID", "Int", "String", "Time", "ULID", "Query", "Mutation",
            "StepInfo", "FunctionRunStatus", "RunsFilterV2"} <= set(names)


def test_kinds_and_the_lists_a_kind_has_not_are_empty(client: Client) -> None:
    schema = full_schema(client)
    kinds = {name: type_named(schema, name)["kind"] for name in (
        "Query", "StepInfo", "FunctionRunStatus", "RunsFilterV2", "Time", "Int")}
    assert kinds == {"Query": "OBJECT", "StepInfo": "UNION", "FunctionRunStatus": "ENUM",
                     "RunsFilterV2": "INPUT_OBJECT", "Time": "SCALAR", "Int": "SCALAR"}
    time = type_named(schema, "Time")
    # Measured: the real server answers [] (not null) for what a kind does not have.
    assert [time[key] for key in ("fields", "inputFields", "interfaces", "enumValues",
                                  "possibleTypes")] == [[], [], [], [], []]


def test_directives_are_those_the_real_server_knows_as_it_describes_them(
        client: Client) -> None:
    directives = {d["name"]: d for d in full_schema(client)["directives"]}
    assert list(directives) == ["defer", "deprecated", "include", "skip", "specifiedBy"]
    for name in ("include", "skip"):
        assert directives[name]["locations"] == ["FIELD", "FRAGMENT_SPREAD", "INLINE_FRAGMENT"]
        assert declarations(directives[name]["args"]) == {"if": "Boolean!"}
    assert directives["defer"]["locations"] == ["FRAGMENT_SPREAD", "INLINE_FRAGMENT"]
    assert [(arg["name"], arg["defaultValue"]) for arg in directives["defer"]["args"]] == [
        ("if", "true"), ("label", None)]
    assert directives["deprecated"]["locations"] == [
        "FIELD_DEFINITION", "ARGUMENT_DEFINITION", "INPUT_FIELD_DEFINITION", "ENUM_VALUE"]
    assert directives["deprecated"]["args"][0]["defaultValue"] == '"No longer supported"'
    assert directives["specifiedBy"]["locations"] == ["SCALAR"]
    assert declarations(directives["specifiedBy"]["args"]) == {"url": "String!"}
    assert directives["skip"]["description"].startswith("The @skip directive may be provided")
    assert directives["defer"]["description"].endswith(
        "@include and @skip take precedence over @defer.")


def test_schema_description_and_directive_repeatability(client: Client) -> None:
    schema = gql(client, "{ __schema { description directives { name isRepeatable } } }")
    assert schema["__schema"] == {"description": None, "directives": [
        {"name": name, "isRepeatable": False}
        for name in ("defer", "deprecated", "include", "skip", "specifiedBy")]}


# ---------------------------------------------------------------------------- __type


def test_type_of_an_object(client: Client) -> None:
    answer = gql(client, '{ __type(name: "RunsV2Connection") { kind name description fields '
                         f"{{ name {TYPE_REF} args {{ name {TYPE_REF} defaultValue }} }} }} }}")
    found = answer["__type"]
    assert (found["kind"], found["name"], found["description"]) == (
        "OBJECT", "RunsV2Connection", None)
    fields = {f["name"]: (sdl(f["type"]), declarations(f["args"])) for f in found["fields"]}
    assert fields == {"edges": ("[FunctionRunV2Edge!]!", {}), "pageInfo": ("PageInfo!", {}),
                      "totalCount": ("Int!", {"preview": "Boolean"})}


def test_type_of_an_enum_lists_its_values_in_the_real_servers_order(client: Client) -> None:
    answer = gql(client, '{ __type(name: "FunctionRunStatus") { kind enumValues { name '
                         "description isDeprecated deprecationReason } } }")
    # Measured on the real server.
    assert answer["__type"] == {"kind": "ENUM", "enumValues": [
        {"name": name, "description": None, "isDeprecated": False, "deprecationReason": None}
        for name in ("COMPLETED", "FAILED", "CANCELLED", "RUNNING", "QUEUED", "SKIPPED")]}


def test_type_of_an_input_object_gives_defaults_as_literals(client: Client) -> None:
    answer = gql(client, '{ e: __type(name: "EventsQuery") { kind inputFields { name '
                         f'{TYPE_REF} defaultValue }} }} r: __type(name: "RunsFilterV2") '
                         f"{{ inputFields {{ name {TYPE_REF} defaultValue }} }} }}")
    assert answer["e"]["kind"] == "INPUT_OBJECT"
    # Measured: a String default is quoted, an enum one bare.
    assert declarations(answer["e"]["inputFields"]) == {
        "workspaceId": 'ID! = "local"', "lastEventId": "ID"}
    assert declarations(answer["r"]["inputFields"]) == {
        "from": "Time!", "until": "Time", "timeField": "RunsV2OrderByField = QUEUED_AT",
        "status": "[FunctionRunStatus!]", "functionIDs": "[UUID!]", "appIDs": "[UUID!]",
        "isDeferred": "Boolean", "query": "String"}


def test_type_of_a_non_null_list_field_is_wrapped_as_declared(client: Client) -> None:
    answer = gql(client, '{ __type(name: "App") { fields { name ' + TYPE_REF + " } } }")
    functions = next(f for f in answer["__type"]["fields"] if f["name"] == "functions")
    # Measured on the real server (TYPE_REF reads three levels of ofType).
    assert functions["type"] == {"kind": "NON_NULL", "name": None, "ofType": {
        "kind": "LIST", "name": None, "ofType": {"kind": "NON_NULL", "name": None, "ofType": {
            "kind": "OBJECT", "name": "Function"}}}}


def test_type_of_a_union_lists_its_members_in_the_real_servers_order(client: Client) -> None:
    answer = gql(client, '{ __type(name: "StepInfo") { kind possibleTypes { kind name } } }')
    # Measured.
    assert answer["__type"] == {"kind": "UNION", "possibleTypes": [
        {"kind": "OBJECT", "name": name} for name in (
            "InvokeStepInfo", "SleepStepInfo", "WaitForEventStepInfo", "RunStepInfo",
            "WaitForSignalStepInfo")]}


def test_type_of_a_built_in_and_a_custom_scalar(client: Client) -> None:
    answer = gql(client, '{ i: __type(name: "Int") { kind description specifiedByURL } '
                         't: __type(name: "Time") { kind description specifiedByURL } }')
    assert answer["i"]["kind"] == "SCALAR"
    assert answer["i"]["description"].startswith("The `Int` scalar type represents")
    assert answer["t"] == {"kind": "SCALAR", "description": None, "specifiedByURL": None}


def test_type_of_an_unknown_name_is_null(client: Client) -> None:
    assert gql(client, '{ __type(name: "Nope") { name } }') == {"__type": None}


def test_meta_types_are_described_too(client: Client) -> None:
    answer = gql(client, '{ __type(name: "__Type") { kind fields { name '
                         f"{TYPE_REF} args {{ name {TYPE_REF} defaultValue }} }} }} }}")
    fields = {f["name"]: (sdl(f["type"]), declarations(f["args"]))
              for f in answer["__type"]["fields"]}
    # Measured: the real server's __Type (the October 2021 meta-schema).
    deprecated = {"includeDeprecated": "Boolean = false"}
    assert fields == {
        "kind": ("__TypeKind!", {}), "name": ("String", {}), "description": ("String", {}),
        "fields": ("[__Field!]", deprecated), "interfaces": ("[__Type!]", {}),
        "possibleTypes": ("[__Type!]", {}), "enumValues": ("[__EnumValue!]", deprecated),
        "inputFields": ("[__InputValue!]", {}), "ofType": ("__Type", {}),
        "specifiedByURL": ("String", {})}


def test_typename_and_fragments_work_inside_introspection(client: Client) -> None:
    answer = gql(client, '{ __schema { __typename queryType { ...named } } '
                         '__type(name: "Query") { __typename } } '
                         "fragment named on __Type { name kind }")
    assert answer == {"__schema": {"__typename": "__Schema", "queryType": {
        "name": "Query", "kind": "OBJECT"}}, "__type": {"__typename": "__Type"}}


def test_type_without_its_name_argument_is_refused(client: Client) -> None:
    status, answer = client.request("POST", "/v0/gql", {"query": "{ __type { name } }"})
    assert status == 422
    assert answer["errors"][0]["message"] == (
        'Field "__type" argument "name" of type "String!" is required, but it was not provided.')


# ---------------------------------------------------------------------------- real server

# Measured on the real server: `__type(name: T) { fields(includeDeprecated: true) { name
# type { kind name ofType {...} } args { name type {...} defaultValue } } }`, in SDL notation.
REAL_FIELDS: dict[str, dict[str, str]] = {
    "FunctionRun": {
        "id": "ID!", "functionID": "String!", "function": "Function", "workspace": "Workspace",
        "event": "Event", "events": "[Event!]!", "batchID": "ULID", "batchCreatedAt": "Time",
        "status": "FunctionRunStatus", "waitingFor": "StepEventWait", "pendingSteps": "Int",
        "startedAt": "Time", "finishedAt": "Time", "output": "String",
        "history": "[RunHistoryItem!]!", "historyItemOutput": "String (id: ULID!)",
        "eventID": "ID!", "cron": "String"},
    "FunctionRunV2": {
        "id": "ULID!", "appID": "UUID!", "app": "App!", "functionID": "UUID!",
        "function": "Function!", "traceID": "String!", "queuedAt": "Time!", "startedAt": "Time",
        "endedAt": "Time", "status": "FunctionRunStatus!", "sourceID": "String",
        "triggerIDs": "[ULID!]!", "eventName": "String", "isBatch": "Boolean!",
        "batchCreatedAt": "Time", "cronSchedule": "String", "output": "Bytes",
        "trace": "RunTraceSpan (preview: Boolean)", "hasAI": "Boolean!",
        "defers": "[RunDefer!]!", "siblingDefers": "[RunDefer!]!",
        "deferredFrom": "[RunDeferredFrom!]!", "isDeferred": "Boolean!"},
    "App": {
        "id": "ID!", "externalID": "String!", "name": "String!", "sdkLanguage": "String!",
        "sdkVersion": "String!", "framework": "String", "url": "String", "checksum": "String",
        "error": "String", "functions": "[Function!]!", "method": "AppMethod!",
        "appVersion": "String", "sdkFeatureReadiness": "SDKFeatureReadiness!",
        "connected": "Boolean!", "functionCount": "Int!", "autodiscovered": "Boolean!"},
    "EventsConnection": {
        "edges": "[EventsEdge!]!", "pageInfo": "PageInfo!", "totalCount": "Int!"},
    "EventsEdge": {"node": "EventV2!", "cursor": "String!"},
    "EventV2": {
        "envID": "UUID!", "id": "ULID!", "idempotencyKey": "String", "name": "String!",
        "occurredAt": "Time!", "raw": "String!", "receivedAt": "Time!",
        "runs": "[FunctionRunV2!]!", "source": "EventSource", "version": "String"},
    "EventSource": {"id": "ID!", "name": "String", "sourceKind": "String!"},
    "UserlandSpan": {
        "spanName": "String", "spanKind": "String", "serviceName": "String",
        "resourceAttrs": "Bytes", "scopeName": "String", "scopeVersion": "String",
        "spanAttrs": "Bytes"},
    "RunTraceSpan": {
        "appID": "UUID!", "functionID": "UUID!", "runID": "ULID!", "run": "FunctionRun!",
        "spanID": "String!", "traceID": "String!", "groupID": "String", "name": "String!",
        "status": "RunTraceSpanStatus!", "attempts": "Int", "duration": "Int",
        "outputID": "String", "queuedAt": "Time!", "scheduledAt": "Time", "startedAt": "Time",
        "endedAt": "Time", "childrenSpans": "[RunTraceSpan!]!", "stepOp": "StepOp",
        "stepID": "String", "stepInfo": "StepInfo", "stepType": "String!", "isRoot": "Boolean!",
        "parentSpanID": "String", "parentSpan": "RunTraceSpan", "isUserland": "Boolean!",
        "userlandSpan": "UserlandSpan", "debugRunID": "ULID", "debugSessionID": "ULID",
        "debugPaused": "Boolean!", "skipReason": "String", "skipExistingRunID": "String",
        "metadata": "[SpanMetadata!]!", "response": "RunTraceSpanResponseInfo"},
    "Event": {
        "id": "ULID!", "externalID": "String", "workspace": "Workspace", "name": "String",
        "createdAt": "Time", "payload": "String", "schema": "String", "status": "EventStatus",
        "pendingRuns": "Int", "totalRuns": "Int", "raw": "String",
        "functionRuns": "[FunctionRun!]"},
    "RunHistoryItem": {
        "attempt": "Int!", "cancel": "RunHistoryCancel", "createdAt": "Time!",
        "functionVersion": "Int!", "groupID": "UUID", "id": "ULID!",
        "result": "RunHistoryResult", "sleep": "RunHistorySleep", "stepName": "String",
        "stepType": "HistoryStepType", "type": "HistoryType!", "url": "String",
        "waitForEvent": "RunHistoryWaitForEvent", "waitResult": "RunHistoryWaitResult",
        "invokeFunction": "RunHistoryInvokeFunction",
        "invokeFunctionResult": "RunHistoryInvokeFunctionResult"},
}
# Fields ours alone has (docs/compatibility.md, "GraphQL introspection").
OURS_ALONE = {"FunctionRun": {"cancellationReason"}, "FunctionRunV2": {"cancellationReason"}}


def field_shapes(found: dict[str, typing.Any]) -> dict[str, str]:
    """Each field as ``Type`` or ``Type (arg: ArgType = default, ...)``."""
    shapes = {}
    for field in found["fields"]:
        args = ", ".join(f"{name}: {text}" for name, text in declarations(field["args"]).items())
        shapes[field["name"]] = sdl(field["type"]) + (f" ({args})" if args else "")
    return shapes


@pytest.mark.parametrize("type_name", sorted(REAL_FIELDS))
def test_fields_both_servers_have_are_typed_as_the_real_server_types_them(
        client: Client, type_name: str) -> None:
    found = gql(client, f'{{ __type(name: "{type_name}") {{ fields(includeDeprecated: true) '
                        f"{{ name {TYPE_REF} args {{ name {TYPE_REF} defaultValue }} }} }} }}")
    ours = field_shapes(found["__type"])
    shared = set(ours) & set(REAL_FIELDS[type_name])
    assert shared, type_name
    assert {name: ours[name] for name in shared} == {
        name: REAL_FIELDS[type_name][name] for name in shared}


@pytest.mark.parametrize("type_name", sorted(REAL_FIELDS))
def test_a_type_has_the_real_servers_fields_in_its_order(client: Client, type_name: str) -> None:
    found = gql(client, f'{{ __type(name: "{type_name}") {{ fields(includeDeprecated: true) '
                        "{ name } } }")
    names = [field["name"] for field in found["__type"]["fields"]]
    assert [name for name in names if name not in OURS_ALONE.get(type_name, ())] == list(
        REAL_FIELDS[type_name])


def test_deprecated_fields_are_listed_only_when_asked_for(client: Client) -> None:
    """Measured: ``FunctionRun.pendingSteps`` is deprecated without a reason."""
    found = gql(client, '{ __type(name: "FunctionRun") { shown: fields { name } '
                        "all: fields(includeDeprecated: true) { name isDeprecated "
                        "deprecationReason } } }")["__type"]
    assert "pendingSteps" not in [field["name"] for field in found["shown"]]
    assert [field for field in found["all"] if field["isDeprecated"]] == [
        {"name": "pendingSteps", "isDeprecated": True, "deprecationReason": None}]
    assert len(found["all"]) == len(found["shown"]) + 1


def test_events_v2_and_its_filter_are_declared_as_the_real_servers(client: Client) -> None:
    found = gql(client, '{ __type(name: "EventsFilter") { inputFields { name defaultValue '
                        + TYPE_REF + " } } }")
    assert declarations(found["__type"]["inputFields"]) == {  # measured
        "eventNames": "[String!]", "from": "Time!", "includeInternalEvents": "Boolean! = false",
        "query": "String", "until": "Time"}
    query = gql(client, '{ __type(name: "Query") { fields { name args { name defaultValue '
                        + TYPE_REF + " } " + TYPE_REF + " } } }")
    shapes = field_shapes(query["__type"])
    assert shapes["eventsV2"] == (
        "EventsConnection! (first: Int! = 40, after: String, filter: EventsFilter!)")


def test_app_mutations_are_typed_as_the_real_server_types_them(client: Client) -> None:
    found = gql(client, '{ __type(name: "Mutation") { fields { name ' + TYPE_REF + " } } }")
    types = {field["name"]: sdl(field["type"]) for field in found["__type"]["fields"]}
    assert (types["createApp"], types["deleteApp"]) == ("App!", "String!")  # measured
