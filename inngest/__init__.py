"""inngest-sync: a synchronous Inngest SDK with an embedded local engine.

A drop-in for the sync API of the official ``inngest`` package: the names exported here
match it (see docs/compatibility.md for what is covered).
"""

from inngest._client import Inngest, SendEventsResult
from inngest._context import ContextSync
from inngest._errors import NonRetriableError, RetryAfterError, StepError
from inngest._event import Event
from inngest._function import Function
from inngest._function_config import (
    Batch,
    Cancel,
    Concurrency,
    Debounce,
    Priority,
    RateLimit,
    Singleton,
    Throttle,
    Timeouts,
    TriggerCron,
    TriggerEvent,
)
from inngest._middleware import MiddlewareSync, TransformOutputResult
from inngest._pydantic_serializer import PydanticSerializer
from inngest._step import GroupSync, ParallelMode, Serializer, StepMemos, StepSync
from inngest._types import JSON
from inngest._version import VERSION as __version__

__all__ = [
    "Batch",
    "Cancel",
    "Concurrency",
    "ContextSync",
    "Debounce",
    "Event",
    "Function",
    "GroupSync",
    "Inngest",
    "JSON",
    "MiddlewareSync",
    "NonRetriableError",
    "ParallelMode",
    "Priority",
    "PydanticSerializer",
    "RateLimit",
    "RetryAfterError",
    "SendEventsResult",
    "Serializer",
    "Singleton",
    "StepError",
    "StepMemos",
    "StepSync",
    "Throttle",
    "Timeouts",
    "TransformOutputResult",
    "TriggerCron",
    "TriggerEvent",
    "__version__",
]
