"""The ``op`` names of the step reports an SDK sends back to the server."""

from __future__ import annotations

import enum


class Opcode(str, enum.Enum):
    """The ``op`` of a step report; the engine reads every name, the SDK sends some of them."""

    AI_GATEWAY = "AIGateway"
    INVOKE = "InvokeFunction"
    PLANNED = "StepPlanned"
    SLEEP = "Sleep"
    STEP_RUN = "StepRun"
    STEP_ERROR = "StepError"
    WAIT_FOR_EVENT = "WaitForEvent"
    STEP_FAILED = "StepFailed"
    NONE = "None"
    STEP = "Step"
    GATEWAY = "Gateway"
    WAIT_FOR_SIGNAL = "WaitForSignal"
    RUN_COMPLETE = "RunComplete"
    SYNC_RUN_COMPLETE = "SyncRunComplete"
    DISCOVERY_REQUEST = "DiscoveryRequest"
    DEFER_ADD = "DeferAdd"
    DEFER_ABORT = "DeferAbort"
