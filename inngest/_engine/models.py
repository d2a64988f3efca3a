"""Records the engine stores: apps, functions, events, runs, queue items, pauses."""

from __future__ import annotations

import dataclasses
import enum
import functools
import typing

from inngest._engine.payload import (
    Object, Text, array_or_empty, as_object, object_or_empty, shown,
)
from inngest._protocol.json_value import JSON as JSON

T = typing.TypeVar("T", bound="Stored")

DEFAULT_RETRIES = 4
MAX_RETRIES = 20
# Priority moves a run's queue items at most this many seconds ahead or behind.
PRIORITY_LIMIT_S = 43_200


class Stored:
    """JSON round-tripping for the frozen dataclasses below.

    ``to_dict`` is shallow: the values are JSON already, and callers build new records
    rather than change nested values in place.
    """

    def to_dict(self) -> dict[str, JSON]:
        names = _field_names(type(self))
        state = self.__dict__
        if len(state) == len(names):  # the fields alone, in their order (``__init__``'s)
            return dict(state)
        return {name: state[name] for name in names}

    def replace(self: T, **changes: typing.Any) -> T:
        """``dataclasses.replace`` without running ``__init__`` again (a fifth of the time
        for a run): these records have no ``__post_init__``, and the fields are as given."""
        names = _field_names(type(self))
        unknown = [name for name in changes if name not in names]
        if unknown:
            raise TypeError(f"not fields of {type(self).__name__}: {unknown}")
        copy = object.__new__(type(self))
        state = copy.__dict__
        state.update(self.__dict__)
        state.update(changes)
        if len(state) > len(names):  # values cached from the fields (``Function.triggers``)
            for key in [key for key in state if key not in names]:
                del state[key]
        return copy

    @classmethod
    def from_dict(cls: type[T], raw: typing.Mapping[str, JSON]) -> T:
        return cls._build(cls._known_fields(raw))

    @classmethod
    def _build(cls: type[T], fields: dict[str, JSON]) -> T:
        # The fields come from ``to_dict`` of the same class, by way of the engine's store.
        return cls(**fields)

    @classmethod
    def _known_fields(cls, raw: typing.Mapping[str, JSON]) -> dict[str, JSON]:
        names = _field_names(cls)
        return {key: value for key, value in raw.items() if key in names}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        fields = dataclasses.fields(typing.cast(typing.Any, cls))
        names = _FIELD_NAMES[cls] = tuple(field.name for field in fields)
    return names


class RunStatus(str, enum.Enum):
    QUEUED = "Queued"
    RUNNING = "Running"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    SKIPPED = "Skipped"

    @property
    def ended(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


@dataclasses.dataclass(frozen=True)
class App(Stored):
    id: str
    name: str
    url: str
    checksum: str = ""
    error: str | None = None
    sdk: str = ""
    framework: str = ""
    app_version: str = ""
    updated_at_ms: int = 0
    # How the server reaches it: SERVE (an SDK's serve endpoint, synced and pinged), API
    # (a durable endpoint's app, made by the checkpoint API, never called to sync), or
    # CONNECT (a worker that synced over its connection to the connect gateway).
    method: str = "SERVE"
    # When it was archived (deleteApp, /fn/remove): 0 while it is synced.
    archived_at_ms: int = 0
    # The readiness reasons its SDK reported of optional features, by feature
    # (feature_observations.py).
    feature_reasons: dict[str, JSON] = dataclasses.field(default_factory=dict)


API_METHOD = "API"
CONNECT_METHOD = "CONNECT"


@dataclasses.dataclass(frozen=True)
class Function(Stored):
    """A synced function; ``config`` is the function object exactly as the SDK sent it."""

    id: str
    app_id: str
    slug: str
    name: str
    url: str
    config: dict[str, JSON]
    version: int = 1
    # When the function was first synced (0: by an engine that did not keep it).
    created_at_ms: int = 0

    # Both read for every event or SDK call; a function's config never changes once stored
    # (a sync stores a new Function).
    @functools.cached_property
    def triggers(self) -> list[Object]:
        triggers = array_or_empty(self.config.get("triggers"), "triggers")
        return [as_object(trigger, "a trigger") for trigger in triggers]

    @functools.cached_property
    def max_attempts(self) -> int:
        step = object_or_empty(object_or_empty(self.config.get("steps"), "steps").get("step"),
                               "steps.step")
        # The step's ``{"attempts": n}``, else the function's ``retries: n`` (the real
        # server's shorthand). Read, never raised on: a run must not crash on its config.
        retries = step.get("retries") or self.config.get("retries")
        if isinstance(retries, typing.Mapping):
            retries = retries.get("attempts")
        if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
            retries = DEFAULT_RETRIES
        return min(retries, MAX_RETRIES) + 1


@dataclasses.dataclass(frozen=True)
class StoredEvent(Stored):
    """An ingested event; ``seq`` orders events by arrival (assigned by the store)."""

    internal_id: str
    event: dict[str, JSON]
    received_at_ms: int
    seq: int = 0

    @property
    def name(self) -> str:
        return str(self.event.get("name", ""))


@dataclasses.dataclass(frozen=True)
class Run(Stored):
    id: str
    function_id: str
    function_version: int
    event_ids: list[str]
    created_at_ms: int
    # Events received after this sequence number may cancel the run.
    event_seq: int
    status: RunStatus = RunStatus.QUEUED
    started_at_ms: int | None = None
    ended_at_ms: int | None = None
    output: JSON = None
    has_output: bool = False
    # The output is an app's reply that was not JSON, kept as its text (``payload.Text``).
    output_is_text: bool = False
    # The run limit that failed the run, a ``RunLimit`` value: the dev server writes such a
    # run's output and finish events its own way (``shown_output``, ``lifecycle``).
    failed_at_limit: str | None = None
    version: int = -1
    force_step_plan: bool = False
    pending_steps: list[str] = dataclasses.field(default_factory=list)
    batch_id: str | None = None
    cron: str | None = None
    correlation_id: str | None = None
    # Why a run was skipped or cancelled (a ``Reason`` value), when flow control decided it.
    reason: str | None = None
    # Seconds the run's queue items move ahead of (or, negative, behind) others.
    priority_s: int = 0
    singleton_key: str | None = None
    # The run a singleton skipped this one for: it held the singleton key then.
    skip_existing_run_id: str | None = None
    # Arguments for steps, by hashed id, sent to the SDK until the step has a result (a
    # rerun from a step with a new input).
    step_inputs: dict[str, JSON] = dataclasses.field(default_factory=dict)
    # The steps whose results a rerun from a step took from the original run: it did not
    # run them, so its trace does not show them.
    reused_steps: list[str] = dataclasses.field(default_factory=list)
    # The console debugger's session and debug run the run was started in, if any.
    debug_session_id: str | None = None
    debug_run_id: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        out = super().to_dict()
        out["status"] = self.status.value
        return out

    def shown_output(self) -> str:
        """The output as GraphQL's ``run`` and the trace show it (``payload.shown``). A run
        the step limit stopped before calling the app has its error written as a JSON
        string there, as the dev server writes it."""
        text = self.listed_output()
        return shown(text) if self.failed_at_limit == RunLimit.STEPS else text

    def listed_output(self) -> str:
        """The output as the run's history and ``functionRun`` show it."""
        return shown(Text(str(self.output)) if self.output_is_text else self.output)

    @classmethod
    def from_dict(cls, raw: typing.Mapping[str, JSON]) -> Run:
        fields = cls._known_fields(raw)
        if "status" in fields:
            fields["status"] = RunStatus(fields["status"])
        return cls._build(fields)


@dataclasses.dataclass(frozen=True)
class DebugIds:
    """The console debugger's session and debug run a run is started in (either may be
    absent): ``invokeFunction`` and ``rerun`` take them, ``debugRun`` and ``debugSession``
    list the runs by them."""

    session_id: str | None = None
    run_id: str | None = None


class Reason(str, enum.Enum):
    """Why flow control skipped or cancelled a run."""

    RATE_LIMITED = "RateLimited"
    IDEMPOTENCY = "Idempotency"
    SINGLETON = "Singleton"
    START_TIMEOUT = "StartTimeout"
    FINISH_TIMEOUT = "FinishTimeout"
    CANCEL_EVENT = "CancelEvent"
    MANUAL = "Manual"


class RunLimit(str, enum.Enum):
    """A limit on a run whose reaching fails it."""

    STEPS = "steps"
    STATE_SIZE = "state-size"


class Kind(str, enum.Enum):
    """What a queue item does when it runs."""

    START = "start"
    DISCOVERY = "discovery"
    PLANNED_STEP = "planned-step"
    SLEEP_WAKE = "sleep-wake"
    PAUSE_TIMEOUT = "pause-timeout"
    CRON = "cron"
    DEBOUNCE = "debounce"
    BATCH = "batch"
    TIMEOUT = "timeout"


@dataclasses.dataclass(frozen=True)
class QueueItem(Stored):
    kind: Kind
    available_at_ms: int
    run_id: str = ""
    payload: dict[str, JSON] = dataclasses.field(default_factory=dict)
    attempt: int = 0
    # Flow control groups items by partition (the function, by default) and key.
    partition: str = ""
    key: str = ""
    priority_ms: int = 0
    # Items with the same job id are deduplicated while one is queued.
    job_id: str | None = None
    id: int = 0

    def to_dict(self) -> dict[str, JSON]:
        out = super().to_dict()
        out["kind"] = self.kind.value
        return out

    @classmethod
    def from_dict(cls, raw: typing.Mapping[str, JSON]) -> QueueItem:
        fields = cls._known_fields(raw)
        if "kind" in fields:
            fields["kind"] = Kind(fields["kind"])
        return cls._build(fields)


class PauseKind(str, enum.Enum):
    WAIT = "wait"
    CANCEL = "cancel"
    INVOKE = "invoke"
    SIGNAL = "signal"


@dataclasses.dataclass(frozen=True)
class Pause(Stored):
    """A run waiting: for an event (waitForEvent, a cancel trigger, an invoked child's end),
    or for a signal (``event_name`` then holds the signal's name)."""

    id: str
    run_id: str
    kind: PauseKind
    event_name: str
    expires_at_ms: int
    # Only events with a greater arrival sequence number may resume the pause.
    after_seq: int
    step_id: str = ""
    expression: str | None = None
    correlation_id: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        out = super().to_dict()
        out["kind"] = self.kind.value
        return out

    @classmethod
    def from_dict(cls, raw: typing.Mapping[str, JSON]) -> Pause:
        fields = cls._known_fields(raw)
        if "kind" in fields:
            fields["kind"] = PauseKind(fields["kind"])
        return cls._build(fields)
