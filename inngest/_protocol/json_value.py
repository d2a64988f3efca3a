"""The type of a decoded JSON value, shared by the SDK and the engine."""

from __future__ import annotations

import typing

JSON = typing.Union[
    None, bool, int, float, str, typing.Sequence["JSON"], typing.Mapping[str, "JSON"]
]
