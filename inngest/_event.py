"""The event model."""

from __future__ import annotations

import dataclasses
import typing

from inngest import _errors


@dataclasses.dataclass(frozen=True, kw_only=True)
class Event:
    """An event: what triggers functions and what ``send_sync`` sends."""

    name: str
    data: typing.Mapping[str, typing.Any] = dataclasses.field(default_factory=dict)
    id: str = ""
    ts: int = 0
    user: typing.Mapping[str, typing.Any] | None = None
    v: str | None = None

    def __post_init__(self) -> None:
        _check(isinstance(self.name, str), "name", "a string")
        _check(isinstance(self.data, typing.Mapping), "data", "an object")
        _check(isinstance(self.id, str), "id", "a string")
        _check(isinstance(self.ts, int) and not isinstance(self.ts, bool), "ts", "an integer")
        _check(self.user is None or isinstance(self.user, typing.Mapping), "user", "an object")
        _check(self.v is None or isinstance(self.v, str), "v", "a string")

    @classmethod
    def from_dict(cls, raw: object) -> Event:
        """Parse an event object; ``data: null`` becomes ``{}`` and unknown keys are ignored."""
        if not isinstance(raw, dict):
            raise _errors.BodyInvalidError("event must be an object")
        if "name" not in raw:
            raise _errors.BodyInvalidError("event.name is required")
        data = raw.get("data")
        return cls(
            name=raw["name"],
            data={} if data is None else data,
            id=raw.get("id") or "",
            ts=raw.get("ts") or 0,
            user=raw.get("user"),
            v=raw.get("v"),
        )

    # The official SDK's name for from_dict.
    from_raw = from_dict

    def to_dict(self) -> dict[str, typing.Any]:
        out: dict[str, typing.Any] = {"data": dict(self.data), "name": self.name, "ts": self.ts}
        if self.id:
            out["id"] = self.id
        if self.user is not None:
            out["user"] = dict(self.user)
        if self.v is not None:
            out["v"] = self.v
        return out


def _check(ok: bool, field: str, expected: str) -> None:
    if not ok:
        raise _errors.BodyInvalidError(f"event.{field} must be {expected}")
