"""The event model."""

from __future__ import annotations

import dataclasses
import json
import typing

from inngest import _errors
from inngest._model import Model


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event(Model):
    """An event: what triggers functions and what ``send_sync`` sends."""

    name: str
    data: typing.Mapping[str, typing.Any] = dataclasses.field(default_factory=dict)
    id: str = ""
    ts: int = 0
    user: typing.Mapping[str, typing.Any] | None = None
    v: str | None = None

    def __post_init__(self) -> None:
        # Plain ifs rather than a helper per field: events are checked on every request.
        if not self.data and type(self.data) is not dict:  # null or [] means "no data"
            object.__setattr__(self, "data", {})
        if not isinstance(self.name, str):
            _fail("name", "a string")
        if type(self.data) is not dict and not isinstance(self.data, typing.Mapping):
            _fail("data", "an object")
        if not isinstance(self.id, str):
            _fail("id", "a string")
        if not isinstance(self.ts, int) or isinstance(self.ts, bool):
            _fail("ts", "an integer")
        if self.user is not None and not isinstance(self.user, typing.Mapping):
            _fail("user", "an object")
        if self.v is not None and not isinstance(self.v, str):
            _fail("v", "a string")

    @classmethod
    def from_dict(cls, raw: object) -> Event:
        """Parse an event object; an empty ``data`` becomes ``{}``; unknown keys are ignored."""
        if not isinstance(raw, dict):
            raise _errors.BodyInvalidError("event must be an object")
        if "name" not in raw:
            raise _errors.BodyInvalidError("event.name is required")
        get = raw.get
        name, data, id_, ts, user, v = (
            raw["name"], get("data") or {}, get("id", ""), get("ts", 0), get("user"), get("v")
        )
        if cls is not Event:  # a subclass may have fields of its own
            return cls(name=name, data=data, id=id_, ts=ts, user=user, v=v)
        # Filled in directly rather than through the frozen dataclass's __init__ (one
        # setattr per field): events are parsed on every request. Values of the plain
        # JSON types (what the server sends) need none of __post_init__'s checks.
        event = object.__new__(cls)
        fields = event.__dict__
        fields["name"] = name
        fields["data"] = data
        fields["id"] = id_
        fields["ts"] = ts
        fields["user"] = user
        fields["v"] = v
        if not (
            type(name) is str
            and type(data) is dict
            and type(id_) is str
            and type(ts) is int
            and (user is None or type(user) is dict)
            and (v is None or type(v) is str)
        ):
            event.__post_init__()
        return event

    @classmethod
    def from_raw(cls, raw: object) -> Event | Exception:
        """Like ``from_dict`` (also given JSON text) but returns the error instead of raising."""
        try:
            if isinstance(raw, (str, bytes, bytearray)):
                raw = json.loads(raw)
            return cls.from_dict(raw)
        except (ValueError, _errors.Error) as err:
            return err

    @classmethod
    def model_validate(cls, obj: object) -> Event:
        return obj if isinstance(obj, Event) else cls.from_dict(obj)

    def to_dict(self) -> dict[str, typing.Any]:
        # Key order follows the official SDK's bytes.
        out: dict[str, typing.Any] = {"data": dict(self.data)}
        if self.id:
            out["id"] = self.id
        out["name"] = self.name
        out["ts"] = self.ts
        if self.user is not None:
            out["user"] = dict(self.user)
        if self.v is not None:
            out["v"] = self.v
        return out


def _fail(field: str, expected: str) -> typing.NoReturn:
    raise _errors.BodyInvalidError(f"event.{field} must be {expected}")
