"""What an SDK reports of its optional features when it syncs (``featureObservations``, a
protobuf message in its JSON form), as the dev server keeps it for the App's
``sdkFeatureReadiness``: for AI metadata extraction and extended traces, the readiness
reason the SDK gave (``1`` is ready).

Measured on the dev server: field names in either JSON form (``aiMetadataExtraction`` or
``ai_metadata_extraction``), reasons as numbers (``2.0`` too) or enum names (a name it does
not know reads as 0), unknown fields ignored; a feature left out or null is not reported; a
value of the wrong JSON type refuses the sync, in the words of its protobuf JSON decoder
(without their ``(line 1:46)`` positions).
"""

from __future__ import annotations

import json
import typing

from inngest._engine.models import JSON

# The features the GraphQL API reports, by their JSON and proto names, with their readiness
# reasons' enum names in number order.
_FEATURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "aiMetadataExtraction": ("ai_metadata_extraction", (
        "UNSPECIFIED", "READY", "DISABLED_BY_USER", "OTEL_PROVIDER_MISSING",
        "OTEL_SPAN_PROCESSOR_NOT_ADDED")),
    "extendedTraces": ("extended_traces", (
        "UNSPECIFIED", "READY", "NOT_ENABLED_BY_USER", "DISABLED_BY_USER",
        "OTEL_PROVIDER_MISSING", "OTEL_SPAN_PROCESSOR_NOT_ADDED",
        "OTEL_PROVIDER_CREATION_FAILED")),
}
_ENUM_PREFIXES = {"aiMetadataExtraction": "AI_METADATA_EXTRACTION_READINESS_REASON_",
                  "extendedTraces": "EXTENDED_TRACES_READINESS_REASON_"}
# Reported but not shown: an observation of it still counts as one (a resync keeps them).
_OTHER = ("sendEvents", "send_events")
READY = 1
_INT32 = 2**31


class ObservationError(ValueError):
    """Feature observations of the wrong JSON type; the message says which."""


class Observations(typing.NamedTuple):
    """The readiness reason of each feature reported (by its JSON name); ``any``: whether
    any feature was reported, one not shown here too."""

    reasons: dict[str, int]
    any: bool


NONE = Observations({}, False)


def parse(value: JSON) -> Observations:
    """The observations of a sync request's ``featureObservations``."""
    if value is None:
        return NONE
    message = _message(value)
    reasons: dict[str, int] = {}
    for name, (proto_name, _) in _FEATURES.items():
        feature = _field(message, name, proto_name)
        if feature is None:
            continue
        reason = _field(_message(feature), "readinessReason", "readiness_reason")
        reasons[name] = _reason(name, reason)
    others = _field(message, *_OTHER)
    if others is not None:
        _message(others)
    return Observations(reasons, bool(reasons) or others is not None)


def _message(value: JSON) -> typing.Mapping[str, JSON]:
    if not isinstance(value, typing.Mapping):
        raise ObservationError(f"proto: syntax error: unexpected token {_text(value)}")
    return value


def _text(value: JSON) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _field(message: typing.Mapping[str, JSON], *names: str) -> JSON:
    for name in names:
        if message.get(name) is not None:
            return message[name]
    return None


def _reason(feature: str, value: JSON) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        names = _FEATURES[feature][1]
        short = value.removeprefix(_ENUM_PREFIXES[feature])
        return names.index(short) if value != short and short in names else 0
    number = int(value) if isinstance(value, float) and value.is_integer() else value
    if isinstance(number, int) and not isinstance(number, bool) and -_INT32 <= number < _INT32:
        return number
    raise ObservationError(
        f"proto: invalid value for enum field readinessReason: {_text(value)}")


def readiness(reasons: typing.Mapping[str, int]) -> dict[str, JSON]:
    """The App's ``sdkFeatureReadiness``: each feature reported, whether it is ready and the
    reason the SDK gave; null for one not reported."""
    return {name: {"ready": reasons[name] == READY, "reason": reasons[name]}
            if name in reasons else None for name in _FEATURES}
