"""Realtime messages as the dev server writes them to subscribers: its envelope (field names
and order, fields left out when empty) in Go's JSON (compact, ``<``, ``>``, ``&``, U+2028
and U+2029 escaped)."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timezone

from inngest._engine import payload
from inngest._engine.realtime import tokens

DATA = "data"
STREAM_START = "datastream-start"
STREAM_END = "datastream-end"
CHUNK = "chunk"
# The topic of the raw bytes sent to ``/v1/realtime/publish/tee``.
STREAM_TOPIC = "$stream"

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[ \t\r\n]+', re.DOTALL)
_INVALID_BYTE = re.compile("[\udc80-\udcff]")


def raw_json(text: str) -> str | None:
    """``text`` compacted as Go compacts a raw JSON value, or None if it is not JSON."""
    try:
        tokens.STRICT_JSON.decode(text)
    except (ValueError, RecursionError):
        return None
    return _TOKENS.sub(_compact_token, text)


def _compact_token(match: re.Match[str]) -> str:
    token = match.group()
    return payload.escape_html(token) if token[0] == '"' else ""


def string(text: str) -> str:
    """A JSON string as Go writes one."""
    return payload.escape_html(json.dumps(text, ensure_ascii=False))


def _text(data: bytes) -> str:
    """``data`` as text, each byte of an invalid UTF-8 sequence a lone surrogate (Go takes
    such bytes one at a time, each as U+FFFD)."""
    return data.decode("utf-8", "surrogateescape")


def body_data(body: bytes) -> str:
    """A published body as message data: itself if it is JSON, else a JSON string of it (in
    which an invalid byte is written ``\\ufffd``, as Go writes it)."""
    text = _text(body)
    compact = raw_json(text)
    if compact is not None:
        # The dev server sends such bytes as they are: a text frame that is not UTF-8, which
        # WebSocket clients refuse. They are U+FFFD here.
        return _INVALID_BYTE.sub("\ufffd", compact)
    return _INVALID_BYTE.sub(r"\\ufffd", string(text))


def timestamp(ms: int) -> str:
    """Go's RFC 3339 with the fraction's trailing zeros left out."""
    moment = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{ms % 1000:03d}".rstrip("0")
    return f"{moment}.{fraction}Z" if fraction else f"{moment}Z"


@dataclasses.dataclass(frozen=True)
class Message:
    """One message; ``data`` and ``metadata`` are JSON text."""

    kind: str
    data: str
    created_at_ms: int
    channel: str
    topic: str
    env_id: str = tokens.ENV_ID
    metadata: str = ""
    run_id: str = ""

    @property
    def topic_key(self) -> tuple[str, ...]:
        return tokens.Topic(kind="run", env_id=self.env_id, channel=self.channel,
                            name=self.topic).key

    def encode(self) -> bytes | None:
        """The message's JSON, or None where the dev server cannot write it (metadata that
        is not JSON: the message is then lost, as there)."""
        fields = [f'"kind":{string(self.kind)}', f'"data":{self.data}']
        if self.metadata:
            metadata = raw_json(self.metadata)
            if metadata is None:
                return None
            fields.append(f'"metadata":{metadata}')
        fields.append(f'"created_at":"{timestamp(self.created_at_ms)}"')
        if self.channel:
            fields.append(f'"channel":{string(self.channel)}')
        fields += [f'"env_id":"{self.env_id}"', f'"topic":{string(self.topic)}']
        if self.run_id:
            fields.append(f'"run_id":"{self.run_id}"')
        return ("{" + ",".join(fields) + "}").encode("utf-8")


def chunk(stream_id: str, data: bytes) -> bytes:
    """One piece of a ``text/stream`` publish."""
    text = _INVALID_BYTE.sub("\ufffd", _text(data))
    return (f'{{"kind":"{CHUNK}","stream_id":{string(stream_id)},"data":{string(text)}}}'
            .encode("utf-8"))
