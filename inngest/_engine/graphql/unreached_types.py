"""Types the dev server's schema declares that no field or argument reaches (measured by
introspection): no query can use them, but introspection lists them, and code generators
read them. Declared here as there, with nothing to resolve."""

from __future__ import annotations

from inngest._engine.graphql.typesystem import Field

TYPES = {
    "FunctionEvent": {
        "workspace": Field("Workspace"), "functionRun": Field("FunctionRun"),
        "type": Field("FunctionEventType"), "output": Field("String"),
        "createdAt": Field("Time"),
    },
    "StepEvent": {
        "workspace": Field("Workspace"), "functionRun": Field("FunctionRun"),
        "stepID": Field("String"), "name": Field("String"), "type": Field("StepEventType"),
        "output": Field("String"), "createdAt": Field("Time"),
        "waitingFor": Field("StepEventWait"),
    },
    "FunctionVersion": {
        "functionId": Field("ID!"), "version": Field("Uint!"), "config": Field("String!"),
        "validFrom": Field("Time"), "validTo": Field("Time"), "createdAt": Field("Time!"),
        "updatedAt": Field("Time!"),
    },
    "RunStep": {"stepID": Field("String!"), "name": Field("String!"), "stepOp": Field("StepOp")},
    # A union: its members are in UNIONS.
    "FunctionRunEvent": {},
}
UNIONS = {"FunctionRunEvent": ("FunctionEvent", "StepEvent")}
ENUMS = {
    "FunctionEventType": ("STARTED", "COMPLETED", "FAILED", "CANCELLED"),
    "FunctionStatus": ("RUNNING", "COMPLETED", "FAILED", "CANCELLED"),
    "StepEventType": ("SCHEDULED", "STARTED", "COMPLETED", "ERRORED", "FAILED", "WAITING"),
}
INPUTS = {
    "ActionVersionQuery": {"dsn": "String!", "versionMajor": "Int", "versionMinor": "Int"},
    "FunctionRunsQuery": {"workspaceId": 'ID! = "local"'},
}
SCALARS = ("Environment",)
