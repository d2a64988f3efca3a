"""A durable function: its handler, its options and its registration config."""

from __future__ import annotations

import dataclasses
import inspect
import typing
import urllib.parse

from inngest import _errors, _function_config as cfg

if typing.TYPE_CHECKING:
    from inngest._context import ContextSync
    from inngest._middleware import MiddlewareFactory

Handler = typing.Callable[["ContextSync"], typing.Any]
T = typing.TypeVar("T")
Trigger = typing.Union[cfg.TriggerEvent, cfg.TriggerCron]
FAILURE_EVENT = "inngest/function.failed"


class Unset:
    """Marks an option that was not given (distinct from None)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


@dataclasses.dataclass(frozen=True, kw_only=True)
class FunctionOpts:
    """Everything ``create_function`` accepts besides the handler."""

    fn_id: str
    triggers: tuple[Trigger, ...]
    name: str | None = None
    retries: int | None = None
    batch_events: cfg.Batch | None = None
    cancel: tuple[cfg.Cancel, ...] | None = None
    concurrency: tuple[cfg.Concurrency, ...] | None = None
    debounce: cfg.Debounce | None = None
    idempotency: str | None = None
    priority: cfg.Priority | None = None
    rate_limit: cfg.RateLimit | None = None
    singleton: cfg.Singleton | None = None
    throttle: cfg.Throttle | None = None
    timeouts: cfg.Timeouts | None = None

    def __post_init__(self) -> None:
        _check_type("fn_id", self.fn_id, str)
        if not self.fn_id:
            raise _errors.FunctionConfigInvalidError("fn_id: must not be empty")
        _check_type("name", self.name, str, optional=True)
        if self.retries is not None:
            _check_type("retries", self.retries, int)
            if isinstance(self.retries, bool) or not 0 <= self.retries <= 20:
                raise _errors.FunctionConfigInvalidError("retries: must be between 0 and 20")
        if not self.triggers:
            raise _errors.FunctionConfigInvalidError("trigger: at least one trigger is required")
        for trigger in self.triggers:
            _check_type("trigger", trigger, (cfg.TriggerEvent, cfg.TriggerCron))
        _check_type("batch_events", self.batch_events, cfg.Batch, optional=True)
        for cancel in self.cancel or ():
            _check_type("cancel", cancel, cfg.Cancel)
        for concurrency in self.concurrency or ():
            _check_type("concurrency", concurrency, cfg.Concurrency)
        _check_type("debounce", self.debounce, cfg.Debounce, optional=True)
        _check_type("idempotency", self.idempotency, str, optional=True)
        _check_type("priority", self.priority, cfg.Priority, optional=True)
        _check_type("rate_limit", self.rate_limit, cfg.RateLimit, optional=True)
        _check_type("singleton", self.singleton, cfg.Singleton, optional=True)
        _check_type("throttle", self.throttle, cfg.Throttle, optional=True)
        _check_type("timeouts", self.timeouts, cfg.Timeouts, optional=True)


def _check_type(
    field: str,
    value: object,
    expected: type | tuple[type, ...],
    optional: bool = False,
) -> None:
    if value is None and optional:
        return
    if not isinstance(value, expected):
        names = expected.__name__ if isinstance(expected, type) else "/".join(
            t.__name__ for t in expected
        )
        raise _errors.FunctionConfigInvalidError(
            f"{field}: expected {names}, got {type(value).__name__}"
        )


def _as_tuple(value: object, field: str) -> tuple[typing.Any, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return tuple(value)
    raise _errors.FunctionConfigInvalidError(f"{field}: expected a list")


class Function(typing.Generic[T]):
    """A function created by ``Inngest.create_function``; ``T`` is what its handler returns."""

    def __init__(
        self,
        app_id: str,
        opts: FunctionOpts,
        handler: typing.Callable[[ContextSync], T],
        on_failure: Handler | None = None,
        middleware: typing.Sequence[MiddlewareFactory] = (),
        output_type: object = UNSET,
    ) -> None:
        self.app_id = app_id
        self.opts = opts
        self.handler: Handler = handler
        self.on_failure = on_failure
        self.middleware = list(middleware)
        self.output_type = output_type

    def require_sync(self) -> None:
        """Raise when a handler is async: creating one is allowed (code shared with the
        official SDK's async API imports fine), serving or running it is not."""
        for label, candidate in (("handler", self.handler), ("on_failure", self.on_failure)):
            if candidate is not None and inspect.iscoroutinefunction(candidate):
                raise _errors.FunctionConfigInvalidError(
                    f"{label}: async functions are not supported by inngest-sync "
                    f"(function {self.opts.fn_id})"
                )

    @property
    def id(self) -> str:
        return f"{self.app_id}-{self.opts.fn_id}"

    @property
    def local_id(self) -> str:
        return self.opts.fn_id

    @property
    def name(self) -> str:
        return self.opts.name or self.opts.fn_id

    @property
    def on_failure_fn_id(self) -> str | None:
        return None if self.on_failure is None else f"{self.id}-failure"

    @property
    def is_handler_async(self) -> bool:
        return False

    @property
    def is_on_failure_handler_async(self) -> bool | None:
        return None if self.on_failure is None else False

    def handler_for(self, fully_qualified_id: str) -> Handler | None:
        """The handler to call for ``fnId``, or None when the id is not this function's."""
        if fully_qualified_id == self.id:
            return self.handler
        if self.on_failure is not None and fully_qualified_id == self.on_failure_fn_id:
            return self.on_failure
        return None

    def get_config(self, app_url: str) -> list[dict[str, object]]:
        """Registration configs: this function, then its on_failure companion if any."""
        configs = [self._main_config(app_url)]
        if self.on_failure_fn_id is not None:
            configs.append(self._failure_config(app_url, self.on_failure_fn_id))
        return configs

    def _main_config(self, app_url: str) -> dict[str, object]:
        opts = self.opts
        # Key order follows the official SDK's bytes.
        config: dict[str, object] = {
            "batchEvents": opts.batch_events.to_dict() if opts.batch_events else None,
            "cancel": _dict_list(opts.cancel),
            "concurrency": _dict_list(opts.concurrency),
            "debounce": opts.debounce.to_dict() if opts.debounce else None,
            "id": self.id,
            "idempotency": opts.idempotency,
            "name": self.name,
            "priority": opts.priority.to_dict() if opts.priority else None,
            "rateLimit": opts.rate_limit.to_dict() if opts.rate_limit else None,
            "steps": _step_config(app_url, self.id, opts.retries),
            "throttle": opts.throttle.to_dict() if opts.throttle else None,
            "timeouts": opts.timeouts.to_dict() if opts.timeouts else None,
            "singleton": opts.singleton.to_dict() if opts.singleton else None,
            "triggers": [trigger.to_dict() for trigger in opts.triggers],
        }
        return {key: value for key, value in config.items() if value is not None}

    def _failure_config(self, app_url: str, failure_id: str) -> dict[str, object]:
        return {
            "cancel": [],
            "concurrency": [],
            "id": failure_id,
            "name": f"{self.name} (failure)",
            "steps": _step_config(app_url, failure_id, 0, force_http=True),
            "triggers": [
                {
                    "event": FAILURE_EVENT,
                    "expression": f"event.data.function_id == '{self.id}'",
                }
            ],
        }


def _dict_list(items: typing.Sequence[typing.Any] | None) -> list[object] | None:
    return None if items is None else [item.to_dict() for item in items]


def _step_config(
    app_url: str, fn_id: str, retries: int | None, force_http: bool = False
) -> dict[str, object]:
    url = app_url + "?" + urllib.parse.urlencode({"fnId": fn_id, "stepId": "step"})
    runtime_type = "ws" if url.startswith("wss://") and not force_http else "http"
    step: dict[str, object] = {"id": "step", "name": "step"}
    if retries is not None:
        step["retries"] = {"attempts": retries}
    step["runtime"] = {"type": runtime_type, "url": url}
    return {"step": step}


def make_opts(
    *,
    fn_id: str,
    trigger: Trigger | typing.Sequence[Trigger],
    name: str | None,
    retries: int | None,
    batch_events: cfg.Batch | None,
    cancel: typing.Sequence[cfg.Cancel] | None,
    concurrency: typing.Sequence[cfg.Concurrency] | None,
    debounce: cfg.Debounce | None,
    idempotency: str | None,
    priority: cfg.Priority | None,
    rate_limit: cfg.RateLimit | None,
    singleton: cfg.Singleton | None,
    throttle: cfg.Throttle | None,
    timeouts: cfg.Timeouts | None,
) -> FunctionOpts:
    triggers = _as_tuple(trigger, "trigger") if isinstance(trigger, (list, tuple)) else (trigger,)
    return FunctionOpts(
        fn_id=fn_id,
        triggers=triggers or (),
        name=name,
        retries=retries,
        batch_events=batch_events,
        cancel=_as_tuple(cancel, "cancel"),
        concurrency=_as_tuple(concurrency, "concurrency"),
        debounce=debounce,
        idempotency=idempotency,
        priority=priority,
        rate_limit=rate_limit,
        singleton=singleton,
        throttle=throttle,
        timeouts=timeouts,
    )
