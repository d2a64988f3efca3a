"""Realtime tokens: the HS256 JWTs the dev server mints for subscribers and checks on
every realtime request, signed with its fixed dev-mode secret.

A token's claims name the topics its holder may subscribe to; field names, their order
and the checks made on a token (algorithm, issuer, expiry and issue time) are the dev
server's, so a token from either server works on the other.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import typing
import uuid

from inngest._engine import ulid

# The dev server's fixed secret and identities: nothing in dev mode is secret.
SECRET = b"dev-mode-is-not-secret"
ISSUER = "rt.inngest.com"
ACCOUNT_ID = "00000000-0000-4000-a000-000000000000"
ENV_ID = "00000000-0000-4000-b000-000000000000"
EXPIRY_SECONDS = 60
# Run claims: tokens the checkpoint API gives out to read one run's output.
RUN_CLAIM_ISSUER = "api.inngest.com"
RUN_CLAIM_SUBJECT = "run-claim"
RUN_CLAIM_EXPIRY_SECONDS = 3600
_HEADER = {"alg": "HS256", "typ": "JWT"}
_ZERO_ULID = "0" * 26
_TOPIC_FIELDS = ("kind", "env_id", "run_id", "channel", "name")


def _not_json(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# JSON as Go reads it: without NaN and Infinity.
STRICT_JSON = json.JSONDecoder(parse_constant=_not_json)


class TopicError(ValueError):
    """A topic that does not decode as the dev server decodes one."""


@dataclasses.dataclass(frozen=True)
class Topic:
    """One topic of a channel; ``kind`` is ``run`` for all that runs publish."""

    kind: str = ""
    env_id: str = ENV_ID
    channel: str = ""
    name: str = ""
    run_id: str = ""

    @property
    def key(self) -> tuple[str, ...]:
        """What a message and a subscription must share: a run topic is of one channel,
        any other kind of none (so nothing a run publishes reaches it)."""
        if self.kind == "run":
            return ("run", self.env_id, self.channel, self.name)
        return ("", self.env_id, self.name)

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"kind": self.kind, "env_id": self.env_id}
        if self.run_id:
            out["run_id"] = self.run_id
        out.update(channel=self.channel, name=self.name)
        return out


@dataclasses.dataclass(frozen=True)
class Claims:
    topics: tuple[Topic, ...]
    publish: bool
    env_id: str


def decode_topics(value: object) -> list[Topic] | None:
    """A JSON list of topics (``null`` gives None), as Go's decoder reads it into the dev
    server's type: unknown fields are ignored, names match without regard to case, ``null``
    leaves a field empty, and any other type is an error."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise TopicError("topics must be a list")
    return [decode_topic(item) for item in value]


def decode_topic(value: object) -> Topic:
    if value is None:
        return Topic()
    if not isinstance(value, dict):
        raise TopicError("a topic must be an object")
    fields: dict[str, str] = {}
    for key, item in value.items():
        name = key.lower()
        if name not in _TOPIC_FIELDS or item is None:
            continue
        if not isinstance(item, str):
            raise TopicError(f"topic field {key} must be a string")
        fields[name] = item
    env_id = _uuid(fields.pop("env_id", ENV_ID))
    run_id = fields.pop("run_id", None)
    if run_id is not None:
        if not ulid.is_ulid(run_id):
            raise TopicError("topic run_id must be a ULID")
        run_id = "" if run_id.upper() == _ZERO_ULID else run_id.upper()
    return Topic(env_id=env_id, run_id=run_id or "", **fields)


def _uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise TopicError("env_id must be a UUID") from None


def mint(topics: list[Topic] | None, now_ms: int, token_id: str,
         expiry_seconds: int = EXPIRY_SECONDS) -> str:
    """A subscription token for ``topics`` (in this environment), valid for a minute unless
    told otherwise."""
    now = now_ms // 1000
    claims = {
        "iss": ISSUER, "sub": ACCOUNT_ID, "exp": now + expiry_seconds, "iat": now,
        "jti": token_id, "env": ENV_ID,
        "topics": None if topics is None else [
            dataclasses.replace(topic, env_id=ENV_ID).to_json() for topic in topics
        ],
        "publish": False,
    }
    return sign(claims)


def sign(claims: dict[str, object]) -> str:
    """``claims`` as a token (HS256) signed with the dev secret."""
    signed = f"{_segment(_HEADER)}.{_segment(claims)}"
    return f"{signed}.{_b64(_signature(signed))}"


def mint_run_claim(run_id: str, now_ms: int) -> str:
    """A token to read one run's output (the checkpoint API's), valid for an hour."""
    now = now_ms // 1000
    return sign({"iss": RUN_CLAIM_ISSUER, "sub": RUN_CLAIM_SUBJECT,
                 "exp": now + RUN_CLAIM_EXPIRY_SECONDS, "iat": now, "Env": ENV_ID,
                 "RunID": run_id})


def verify_run_claim(token: str, now_ms: int) -> str | None:
    """The run id a valid, unexpired run claim token grants; else None."""
    claims = verified(token)
    if not isinstance(claims, dict) or claims.get("iss") != RUN_CLAIM_ISSUER \
            or claims.get("sub") != RUN_CLAIM_SUBJECT:
        return None
    now, expires, issued = now_ms / 1000, claims.get("exp"), claims.get("iat", 0)
    if not _is_number(expires) or not _is_number(issued) \
            or now >= typing.cast(float, expires) or typing.cast(float, issued) > now:
        return None
    run_id = claims.get("RunID")
    return run_id.upper() if isinstance(run_id, str) and ulid.is_ulid(run_id) else None


def verified(token: str) -> object:
    """The claims of a token signed with the dev secret (None if it is not)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims, signature = (_unb64(part) for part in parts)
        header_value, claims_value = STRICT_JSON.decode(header.decode()), STRICT_JSON.decode(
            claims.decode())
    except (ValueError, RecursionError):
        return None
    if not isinstance(header_value, dict) or header_value.get("alg") != "HS256":
        return None
    if not hmac.compare_digest(signature, _signature(f"{parts[0]}.{parts[1]}")):
        return None
    return claims_value


def verify(token: str, now_ms: int) -> Claims | None:
    """The claims of a valid, unexpired token signed with the dev secret; else None."""
    claims = verified(token)
    return None if claims is None else _valid_claims(claims, now_ms / 1000)


def _valid_claims(value: object, now: float) -> Claims | None:
    if not isinstance(value, dict) or value.get("iss") != ISSUER:
        return None
    expires, issued = value.get("exp"), value.get("iat", now)
    if not _is_number(expires) or not _is_number(issued):
        return None
    if now >= typing.cast(float, expires) or typing.cast(float, issued) > now:
        return None
    publish, env = value.get("publish", False), value.get("env", ENV_ID)
    if not isinstance(publish, bool) or not isinstance(env, str):
        return None
    try:
        topics = decode_topics(value.get("topics"))
        env = _uuid(env)
    except TopicError:
        return None
    return Claims(tuple(topics or ()), publish, env)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _segment(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Unpadded base64url, strictly: padding, other characters and stray bits are refused."""
    if "=" in text or len(text) % 4 == 1:
        raise ValueError("bad base64")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error:
        raise ValueError("bad base64") from None
    if _b64(data) != text:
        raise ValueError("bad base64")
    return data


def _signature(signed: str) -> bytes:
    return hmac.new(SECRET, signed.encode("ascii"), hashlib.sha256).digest()
