"""A Serializer for pydantic models; pydantic is imported on first use, never before."""

from __future__ import annotations

import functools
import importlib
import typing


class PydanticSerializer:
    """Step and function outputs as JSON values via pydantic ``TypeAdapter``s.

    ``serialize`` dumps with the declared type (``object`` dumps by runtime type);
    ``deserialize`` validates memoized JSON back into the declared type.
    """

    def serialize(self, obj: object, typ: object) -> object:
        return _adapter(typ).dump_python(obj, mode="json")

    def deserialize(self, obj: object, typ: object) -> object:
        return _adapter(typ).validate_python(obj)


def _adapter(typ: object) -> typing.Any:
    try:
        return _cached_adapter(typ)
    except TypeError:  # unhashable type expression, e.g. Annotated[..., {...}]
        return _new_adapter(typ)


@functools.lru_cache(maxsize=512)
def _cached_adapter(typ: object) -> typing.Any:
    return _new_adapter(typ)


def _new_adapter(typ: object) -> typing.Any:
    # By name: pydantic is optional, so neither the runtime nor mypy may require it.
    pydantic = importlib.import_module("pydantic")
    return pydantic.TypeAdapter(typ)
