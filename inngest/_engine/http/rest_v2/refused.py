"""REST v2 routes the real dev server leaves to Inngest Cloud, answered as it answers them
(measured): a fixed refusal, or the fixed account and environment a dev server has."""

from __future__ import annotations

import typing

from inngest._engine.http.rest_v2.envelope import (
    API_ERROR, MISSING_FIELD, NOT_IMPLEMENTED, Object, V2Error,
)
from inngest._engine.payload import load_body

_SEGMENT = "[^/]+"
_CREATED = "2021-05-13T09:30:04Z"
ACCOUNT: Object = {"createdAt": _CREATED, "email": "dev@inngest.local",
                   "id": "00000000-0000-4000-a000-000000000000", "name": "Dev Server",
                   "updatedAt": _CREATED}
ENVS: list[Object] = [{"createdAt": _CREATED, "id": "00000000-0000-4000-b000-000000000000",
                       "name": "dev", "type": "TEST"}]


def _oss(what: str) -> typing.Callable[..., Object]:
    def refuse(**_: object) -> Object:
        raise V2Error(501, NOT_IMPLEMENTED, f"{what} not implemented in OSS")
    return refuse


def _unimplemented(method: str) -> typing.Callable[..., Object]:
    def refuse(**_: object) -> Object:
        raise V2Error(501, API_ERROR, f"method {method} not implemented")
    return refuse


def _streaming(**_: object) -> Object:
    raise V2Error(501, API_ERROR,
                  "streaming calls are not yet supported in the in-process transport")


def _partner_accounts(**_: object) -> Object:
    raise V2Error(501, NOT_IMPLEMENTED, "Accounts not implemented in OSS",
                  (NOT_IMPLEMENTED, "Partners not implemented in OSS"))


def _create_env(body: bytes, **_: object) -> Object:
    try:
        request = load_body(body) if body.strip() else {}
    except ValueError as err:
        raise V2Error(400, API_ERROR, str(err)) from None
    if not (isinstance(request, typing.Mapping) and request.get("name")):
        raise V2Error(400, MISSING_FIELD, "Environment name is required")
    raise V2Error(501, NOT_IMPLEMENTED, "Environments not implemented in OSS")


def _webhooks(headers: typing.Mapping[str, str], **_: object) -> Object:
    if not headers.get("x-inngest-env"):
        raise V2Error(400, MISSING_FIELD, "X-Inngest-Env header is required")
    raise V2Error(501, NOT_IMPLEMENTED, "Webhooks not implemented in OSS")


def _sandbox(path: str) -> str:
    return "/sandboxes/" + _SEGMENT + path


_PROCESS = "/processes/" + _SEGMENT
ROUTES: list[tuple[str, str, typing.Callable[..., Object]]] = [
    ("GET", "/partner/accounts", _oss("Accounts")),
    ("POST", "/partner/accounts", _partner_accounts),
    ("POST", "/envs", _create_env),
    ("PATCH", "/envs/" + _SEGMENT, _oss("Environments")),
    ("GET", "/env/webhooks", _webhooks),
    ("POST", "/env/webhooks", _webhooks),
    ("POST", "/apps/" + _SEGMENT + "/syncs", _oss("App sync")),
    ("GET", "/insights/tables", _oss("Insights")),
    ("GET", "/insights/events/schemas", _oss("Insights")),
    ("POST", "/insights/query", _oss("Insights")),
    ("POST", "/insights/query/prompt", _oss("Insights")),
    ("GET", "/experiments", _oss("Experiments")),
    ("GET", "/apps/" + _SEGMENT + "/functions/" + _SEGMENT + "/experiments",
     _oss("Experiments")),
    ("GET", "/apps/" + _SEGMENT + "/functions/" + _SEGMENT + "/experiments/.+",
     _oss("Experiments")),
    ("GET", "/sessions", _oss("Sessions")),
    ("GET", "/sessions/" + _SEGMENT, _oss("Sessions")),
    ("GET", "/sessions/" + _SEGMENT + "/.+/runs", _oss("Sessions")),
    ("GET", "/_internal/schema-only", _unimplemented("XSchemaOnly")),
    ("POST", "/sandboxes", _unimplemented("CreateSandbox")),
    ("GET", "/sandboxes", _unimplemented("ListSandboxes")),
    ("GET", _sandbox(""), _unimplemented("GetSandbox")),
    ("DELETE", _sandbox(""), _unimplemented("DestroySandbox")),
    ("POST", _sandbox("/exec"), _unimplemented("ExecSandbox")),
    ("GET", _sandbox("/logs"), _streaming),
    ("PUT", _sandbox("/files"), _unimplemented("WriteSandboxFile")),
    ("GET", _sandbox("/files"), _streaming),
    ("POST", _sandbox("/processes"), _unimplemented("StartSandboxProcess")),
    ("GET", _sandbox("/processes"), _unimplemented("ListSandboxProcesses")),
    ("GET", _sandbox(_PROCESS), _unimplemented("GetSandboxProcess")),
    ("POST", _sandbox(_PROCESS + "/signals"), _unimplemented("SignalSandboxProcess")),
    ("POST", _sandbox(_PROCESS + "/wait"), _unimplemented("WaitSandboxProcess")),
    ("GET", _sandbox(_PROCESS + "/output"), _unimplemented("GetSandboxProcessOutput")),
    ("GET", _sandbox(_PROCESS + "/output/stream"), _streaming),
]
