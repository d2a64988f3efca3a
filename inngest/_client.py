"""The client: configuration from arguments and environment, event sending, functions."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import time
import typing
import urllib.parse

from inngest import _errors, _event, _function, _function_config as cfg, _signing, _transport
from inngest._durations import to_milliseconds
from inngest._model import Model
from inngest._protocol.headers import Header

if typing.TYPE_CHECKING:
    from inngest._context import ContextSync
    from inngest._middleware import MiddlewareFactory

T = typing.TypeVar("T")

DEFAULT_API_ORIGIN = "https://api.inngest.com/"
DEFAULT_EVENT_API_ORIGIN = "https://inn.gs/"
DEV_SERVER_ORIGIN = "http://127.0.0.1:8288/"
DEV_EVENT_KEY = "NO_EVENT_KEY_SET"
_SEND_ATTEMPTS = 5
_BRANCH_ENV_VARS = (
    "INNGEST_ENV", "RAILWAY_GIT_BRANCH", "RENDER_GIT_BRANCH", "VERCEL_GIT_COMMIT_REF",
)


@dataclasses.dataclass(frozen=True)
class SendEventsResult(Model):
    """What the event API answered: the accepted ids and an error, if any."""

    ids: list[str]
    error: str | None = None

    @classmethod
    def from_dict(cls, raw: object) -> SendEventsResult:
        if not isinstance(raw, dict):
            raise _errors.SendEventsError("event API response is not an object", [])
        ids = raw.get("ids", [])
        error = raw.get("error")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise _errors.SendEventsError("event API response: ids must be a list of strings", [])
        if error is not None and not isinstance(error, str):
            raise _errors.SendEventsError("event API response: error must be a string", ids)
        return cls(ids=ids, error=error)

    def to_dict(self) -> dict[str, object]:
        return {"ids": self.ids, "error": self.error}


def _utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _is_truthy_env(value: str | None) -> bool:
    return value is not None and value.strip().lower() not in ("", "false", "0")


def parse_url(value: str | None, is_production: bool) -> str | None:
    """A usable origin from a URL-ish string (trimmed), or None when it is not URL-like."""
    value = value.strip() if value else value
    if not value or ("." not in value and ":" not in value):
        return None
    if "://" not in value:
        value = ("https://" if is_production else "http://") + value
    return value


class Inngest:
    """The Inngest client: sends events and creates functions."""

    def __init__(
        self,
        *,
        app_id: str,
        app_version: str | None = None,
        api_base_url: str | None = None,
        env: str | None = None,
        event_api_base_url: str | None = None,
        event_key: str | None = None,
        is_production: bool | None = None,
        logger: logging.Logger | logging.LoggerAdapter[logging.Logger] | None = None,
        middleware: list[MiddlewareFactory] | None = None,
        request_timeout: int | datetime.timedelta | None = None,
        serializer: object | None = None,
        signing_key: str | None = None,
        transport: _transport.Transport | None = None,
    ) -> None:
        if not isinstance(app_id, str) or not app_id:
            raise _errors.FunctionConfigInvalidError("app_id: must be a non-empty string")
        self.app_id = app_id
        self.app_version = app_version
        self.logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = (
            logger or logging.getLogger("inngest")
        )
        self.middleware: list[MiddlewareFactory] = list(middleware or [])
        self.serializer = serializer
        # Every outbound call (events, registration, run data) goes through it.
        self.transport: _transport.Transport = transport or _transport.DEFAULT_TRANSPORT
        # Event timestamps and step.sleep read the time here (inngest.testing moves it).
        self._wall_clock: typing.Callable[[], datetime.datetime] = _utc_now
        # Waits between send attempts (tests replace it to skip the backoff).
        self._sleep: typing.Callable[[float], None] = time.sleep
        dev_env = os.environ.get("INNGEST_DEV")
        if is_production is None:
            is_production = not _is_truthy_env(dev_env)
        self._mode_is_production = is_production
        self.env = env or next(
            (os.environ[name] for name in _BRANCH_ENV_VARS if os.environ.get(name)), None
        )
        self.event_key = event_key or os.environ.get("INNGEST_EVENT_KEY") or None
        self.signing_key = signing_key or os.environ.get("INNGEST_SIGNING_KEY") or None
        self.signing_key_fallback = os.environ.get("INNGEST_SIGNING_KEY_FALLBACK") or None
        self.api_origin = self._origin(
            api_base_url, "INNGEST_API_BASE_URL", DEFAULT_API_ORIGIN, dev_env
        )
        self.event_api_origin = self._origin(
            event_api_base_url, "INNGEST_EVENT_API_BASE_URL", DEFAULT_EVENT_API_ORIGIN, dev_env
        )
        timeout = 30_000 if request_timeout is None else to_milliseconds(request_timeout)
        self._request_timeout = timeout / 1000
        if self.signing_key and "branch" in self.signing_key and not self.env:
            self.logger.warning("signing key is for a branch environment but no env is set")

    def _origin(self, arg: str | None, env_var: str, cloud_default: str, dev: str | None) -> str:
        production = self._mode_is_production
        for candidate in (arg, os.environ.get(env_var), os.environ.get("INNGEST_BASE_URL"), dev):
            origin = parse_url(candidate, production)
            if origin is not None:
                return origin
        return cloud_default if production else DEV_SERVER_ORIGIN

    @property
    def is_production(self) -> bool:
        return self._mode_is_production

    @property
    def mode(self) -> str:
        return "cloud" if self._mode_is_production else "dev"

    def signing_keys(self) -> list[str]:
        """Keys that may verify requests: primary then fallback."""
        # Plain ifs, not a comprehension (a function call of its own): signed requests
        # ask for these every time.
        keys = [self.signing_key] if self.signing_key else []
        if self.signing_key_fallback:
            keys.append(self.signing_key_fallback)
        return keys

    def bearer_tokens(self) -> list[str]:
        return [_signing.hash_signing_key(key) for key in self.signing_keys()]

    def add_middleware(self, middleware: MiddlewareFactory) -> None:
        self.middleware.append(middleware)

    def set_logger(
        self, logger: logging.Logger | logging.LoggerAdapter[logging.Logger]
    ) -> None:
        self.logger = logger

    def create_function(
        self,
        *,
        fn_id: str,
        trigger: _function.Trigger | list[_function.Trigger],
        name: str | None = None,
        retries: int | None = None,
        batch_events: cfg.Batch | None = None,
        cancel: list[cfg.Cancel] | None = None,
        concurrency: list[cfg.Concurrency] | None = None,
        debounce: cfg.Debounce | None = None,
        idempotency: str | None = None,
        middleware: list[MiddlewareFactory] | None = None,
        on_failure: _function.Handler | None = None,
        output_type: object = _function.UNSET,
        priority: cfg.Priority | None = None,
        rate_limit: cfg.RateLimit | None = None,
        singleton: cfg.Singleton | None = None,
        throttle: cfg.Throttle | None = None,
        timeouts: cfg.Timeouts | None = None,
    ) -> typing.Callable[[typing.Callable[[ContextSync], T]], _function.Function[T]]:
        """Decorator that turns a handler ``fn(ctx)`` into a durable function."""
        opts = _function.make_opts(
            fn_id=fn_id,
            trigger=trigger,
            name=name,
            retries=retries,
            batch_events=batch_events,
            cancel=cancel,
            concurrency=concurrency,
            debounce=debounce,
            idempotency=idempotency,
            priority=priority,
            rate_limit=rate_limit,
            singleton=singleton,
            throttle=throttle,
            timeouts=timeouts,
        )

        def decorator(handler: typing.Callable[[ContextSync], T]) -> _function.Function[T]:
            return _function.Function(
                self.app_id,
                opts,
                handler,
                on_failure=on_failure,
                middleware=middleware or (),
                output_type=output_type,
            )

        return decorator

    def _event_url(self) -> str:
        key = self.event_key
        if key is None:
            if self._mode_is_production:
                raise _errors.EventKeyUnspecifiedError(
                    "event key is required in cloud mode: set INNGEST_EVENT_KEY, or send to a "
                    "local dev server with INNGEST_DEV=1 (or is_production=False)"
                )
            key = DEV_EVENT_KEY
        return urllib.parse.urljoin(self.event_api_origin, f"/e/{key}")

    def send_sync(
        self,
        events: _event.Event | list[_event.Event],
        *,
        skip_middleware: bool = False,
    ) -> list[str]:
        """Send events and return their ids; raise SendEventsError on failure."""
        batch = [events] if isinstance(events, _event.Event) else list(events)
        for event in batch:
            if not isinstance(event, _event.Event):
                raise _errors.BodyInvalidError(
                    f"send_sync expects Event objects, got {type(event).__name__}"
                )
        if skip_middleware:
            return self._post_events(batch).ids
        from inngest._middleware import MiddlewareManager

        manager = MiddlewareManager.for_send(self)
        batch = manager.before_send_events(batch)
        result = SendEventsResult(ids=[], error=None)
        try:
            result = self._post_events(batch)
        except _errors.SendEventsError as err:
            result = SendEventsResult(ids=err.ids, error=err.message)
            raise
        finally:
            manager.after_send_events(result)
        return result.ids

    async def send(
        self,
        events: _event.Event | list[_event.Event],
        *,
        skip_middleware: bool = False,
    ) -> list[str]:
        """``send_sync`` for async callers: it runs in a worker thread, the loop stays free."""
        import asyncio

        return await asyncio.to_thread(self.send_sync, events, skip_middleware=skip_middleware)

    def _post_events(self, events: list[_event.Event]) -> SendEventsResult:
        url = self._event_url()
        now_ms = round(self._wall_clock().timestamp() * 1000)
        body = _transport.json_body(
            [{**event.to_dict(), "ts": event.ts or now_ms} for event in events]
        )
        headers = _transport.standard_headers(self.env)
        import base64  # imported on first send, like urllib3

        headers[Header.EVENT_ID_SEED] = (
            f"{now_ms},{base64.b64encode(os.urandom(10)).decode('ascii')}"
        )
        response = self._post_with_retries(url, headers, body)
        try:
            result = SendEventsResult.from_dict(response.json())
        except _errors.BodyInvalidError as err:
            raise _errors.SendEventsError(err.message, []) from None
        if result.error is not None:
            raise _errors.SendEventsError(result.error, result.ids)
        # A 4xx without an error in its body still answers ids, as with the official SDK.
        if response.status >= 500:
            raise _errors.SendEventsError(f"event API answered {response.status}", result.ids)
        return result

    def _post_with_retries(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> _transport.Response:
        response: _transport.Response | None = None
        failure = ""
        for attempt in range(_SEND_ATTEMPTS):
            try:
                response = _transport.request(
                    self.transport, "POST", url, headers=headers, body=body,
                    timeout=self._request_timeout,
                )
            except _transport.TransportError as err:
                self.logger.debug("sending events failed: %s", err)
                failure = err.message
            else:
                if response.status < 500:
                    return response
            if attempt + 1 < _SEND_ATTEMPTS:
                import random

                self._sleep(0.1 * 2**attempt + random.uniform(0, 0.1))
        if response is None:
            raise _errors.SendEventsError(self._unreachable_message(failure), [])
        return response

    def _unreachable_message(self, failure: str) -> str:
        hint = "" if self._mode_is_production else (
            "; is the dev server running? Start it with `python -m inngest dev`, or point "
            "INNGEST_DEV / event_api_base_url at it"
        )
        return f"never received response while sending events ({_SEND_ATTEMPTS} attempts). " \
            f"{failure}{hint}"
