"""Publish to realtime channels and mint subscription tokens. Experimental.

Served by the Inngest server's realtime API (``/v1/realtime/...``), and by the embedded
engine's.
"""

from __future__ import annotations

import typing
import urllib.parse

from inngest import _errors, _transport
from inngest._client import Inngest


class RealtimeRequestError(_errors.Error):
    """The realtime API answered an error status."""

    code = "realtime_request_failed"


def publish_sync(
    client: Inngest, channel: str, topic: str, data: typing.Mapping[str, object]
) -> None:
    """Send ``data`` to the subscribers of ``topic`` on ``channel``."""
    query = urllib.parse.urlencode({"channel": channel, "topic": topic})
    _post(client, f"/v1/realtime/publish?{query}", data)


async def publish(
    client: Inngest, channel: str, topic: str, data: typing.Mapping[str, object]
) -> None:
    """``publish_sync`` for async callers, in a worker thread."""
    import asyncio

    await asyncio.to_thread(publish_sync, client, channel, topic, data)


def get_subscription_token_sync(
    client: Inngest, channel: str, topics: list[str]
) -> typing.Mapping[str, object]:
    """A token for ``topics`` on ``channel``, shaped for the ``@inngest/realtime`` package."""
    body = [{"channel": channel, "name": topic, "kind": "run"} for topic in topics]
    answer = _post(client, "/v1/realtime/token", body).json()
    jwt = answer.get("jwt") if isinstance(answer, dict) else None
    if not isinstance(jwt, str):
        raise RealtimeRequestError("realtime token response has no string 'jwt'")
    return {"channel": channel, "topics": topics, "key": jwt}


async def get_subscription_token(
    client: Inngest, channel: str, topics: list[str]
) -> typing.Mapping[str, object]:
    """``get_subscription_token_sync`` for async callers, in a worker thread."""
    import asyncio

    return await asyncio.to_thread(get_subscription_token_sync, client, channel, topics)


def _post(client: Inngest, path: str, payload: object) -> _transport.Response:
    response = _transport.request_with_auth(
        client.transport,
        "POST",
        urllib.parse.urljoin(client.api_origin, path),
        headers=_transport.standard_headers(client.env),
        bearer_tokens=client.bearer_tokens(),
        body=_transport.json_body(payload),
    )
    if response.status >= 400:
        raise RealtimeRequestError(
            f"realtime API answered {response.status}: {response.body.decode(errors='replace')}"
        )
    return response


__all__ = [
    "RealtimeRequestError",
    "get_subscription_token",
    "get_subscription_token_sync",
    "publish",
    "publish_sync",
]
