"""Inspection bodies answered to GET: a public summary, or full details when authenticated."""

from __future__ import annotations

import dataclasses
import typing

from inngest import _registration, _signing, _version

if typing.TYPE_CHECKING:
    from inngest._client import Inngest

SCHEMA_VERSION = "2024-05-24"


@dataclasses.dataclass(frozen=True)
class ServeInfo:
    """What ``serve()`` was given, as inspection reports it."""

    framework: str
    function_count: int
    serve_origin: str | None
    serve_path: str | None


def unauthenticated(client: Inngest, info: ServeInfo) -> dict[str, object]:
    return {
        "schema_version": SCHEMA_VERSION,
        "function_count": info.function_count,
        "has_event_key": client.event_key is not None,
        "has_signing_key": client.signing_key is not None,
        "has_signing_key_fallback": client.signing_key_fallback is not None,
        "mode": client.mode,
    }


def authenticated(client: Inngest, info: ServeInfo) -> dict[str, object]:
    details: dict[str, object] = {
        **unauthenticated(client, info),
        "api_origin": client.api_origin,
        "app_id": client.app_id,
        "authentication_succeeded": True,
        "capabilities": dict(_registration.CAPABILITIES),
        "env": client.env,
        "event_api_origin": client.event_api_origin,
        "event_key_hash": _optional(_signing.hash_event_key, client.event_key),
        "framework": info.framework,
        "sdk_language": _version.LANGUAGE,
        "sdk_version": _version.VERSION,
        "serve_origin": info.serve_origin,
        "serve_path": info.serve_path,
        "signing_key_fallback_hash": _optional(
            _signing.hash_signing_key, client.signing_key_fallback
        ),
        "signing_key_hash": _optional(_signing.hash_signing_key, client.signing_key),
    }
    schema = details.pop("schema_version")
    return {"schema_version": schema, **dict(sorted(details.items()))}


def _optional(hasher: typing.Callable[[str], str], value: str | None) -> str | None:
    return None if value is None else hasher(value)
