"""pydantic-style ``model_dump``/``model_validate`` for the public dataclass models.

Code written for the official SDK (whose models are pydantic models) calls these names;
the models here stay plain dataclasses, so no pydantic is needed.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import typing

from inngest import _errors

M = typing.TypeVar("M", bound="Model")


class Model:
    """Mixin for frozen dataclasses: dump to and validate from plain dicts or JSON."""

    def model_dump(
        self, *, mode: str = "python", exclude_none: bool = False, by_alias: bool = False
    ) -> dict[str, typing.Any]:
        """The fields as a dict; ``mode="json"`` gives only JSON-compatible values."""
        if mode not in ("python", "json"):
            raise _errors.BodyInvalidError(f"mode must be 'python' or 'json', got {mode!r}")
        out: dict[str, typing.Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = _dump(getattr(self, field.name), mode == "json", exclude_none)
            if not (exclude_none and value is None):
                out[field.name] = value
        return out

    def model_dump_json(self, *, exclude_none: bool = False) -> str:
        return json.dumps(self.model_dump(mode="json", exclude_none=exclude_none))

    @classmethod
    def model_validate(cls: type[M], obj: object) -> M:
        """Build from a mapping (unknown keys are ignored) or return an instance as is."""
        if isinstance(obj, cls):
            return obj
        if not isinstance(obj, typing.Mapping):
            raise _errors.BodyInvalidError(
                f"{cls.__name__}: expected an object, got {type(obj).__name__}"
            )
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        names = {field.name for field in fields if field.init}
        try:
            return cls(**{key: value for key, value in obj.items() if key in names})
        except TypeError as err:  # a required field is missing
            raise _errors.BodyInvalidError(f"{cls.__name__}: {err}") from None

    @classmethod
    def model_validate_json(cls: type[M], json_data: str | bytes | bytearray) -> M:
        try:
            parsed = json.loads(json_data)
        except ValueError as err:
            raise _errors.BodyInvalidError(f"{cls.__name__}: invalid JSON: {err}") from None
        return cls.model_validate(parsed)


def _dump(value: object, as_json: bool, exclude_none: bool) -> object:
    if isinstance(value, Model):
        return value.model_dump(mode="json" if as_json else "python", exclude_none=exclude_none)
    if isinstance(value, typing.Mapping):
        return {key: _dump(item, as_json, exclude_none) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_dump(item, as_json, exclude_none) for item in value]
        return items if as_json or isinstance(value, list) else tuple(items)
    if not as_json:
        return value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value
