"""The error hierarchy: every error the SDK raises carries a stable ``code``."""

from __future__ import annotations

import datetime
import traceback


class Error(Exception):
    """Base of every error raised by the SDK."""

    code: str = "unknown"
    include_stack: bool = True
    is_retriable: bool = True

    def __init__(self, message: object = None) -> None:
        super().__init__("" if message is None else str(message))

    @property
    def message(self) -> str:
        return str(self)

    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def stack(self) -> str | None:
        if self.__traceback__ is None:
            return None
        return "".join(traceback.format_exception(self))


class NonRetriableError(Error):
    """Raise from a function or step to fail the run without retrying."""

    code = "non_retriable_error"
    is_retriable = False

    def __init__(self, message: str | None = None, quiet: bool = False) -> None:
        # The official SDK serializes a missing message as the string "None".
        super().__init__(str(message))
        self.quiet = quiet


class RetryAfterError(Error):
    """Raise to retry the function no earlier than ``retry_after``."""

    code = "retry_after_error"

    def __init__(
        self,
        message: str | None,
        retry_after: int | datetime.timedelta | datetime.datetime,
        quiet: bool = False,
    ) -> None:
        super().__init__(str(message))  # None becomes "None", as in the official SDK
        self.quiet = quiet
        if isinstance(retry_after, int):
            retry_after = datetime.timedelta(milliseconds=retry_after)
        if isinstance(retry_after, datetime.timedelta):
            retry_after = datetime.datetime.now(datetime.timezone.utc) + retry_after
        self.retry_after: datetime.datetime = retry_after


class StepError(Error):
    """A step failed after its last attempt; raised in user code when memoized."""

    code = "step_errored"
    is_retriable = False

    def __init__(self, message: str, name: str, stack: str | None) -> None:
        super().__init__(message)
        self._name = name
        self._stack = stack

    @property
    def name(self) -> str:
        return self._name

    @property
    def stack(self) -> str | None:
        return self._stack


class AsyncUnsupportedError(Error):
    code = "async_unsupported"


class BodyInvalidError(Error):
    code = "body_invalid"
    is_retriable = False


class EventKeyUnspecifiedError(Error):
    code = "event_key_unspecified"


class FunctionConfigInvalidError(Error):
    code = "function_config_invalid"


class FunctionNotFoundError(Error):
    code = "function_not_found"


class HeaderMissingError(Error):
    code = "header_missing"


class OutputUnserializableError(Error):
    code = "output_unserializable"
    is_retriable = False


class QueryParamInvalidError(Error):
    code = "query_param_invalid"


class QueryParamMissingError(Error):
    code = "query_param_missing"


class RegistrationFailedError(Error):
    code = "registration_failed"


class SendEventsError(Error):
    """Sending events failed; ``ids`` holds the ids of the events that were accepted."""

    code = "send_event_failed"

    def __init__(self, message: str, ids: list[str]) -> None:
        super().__init__(message)
        self.ids = ids


class ServerKindMismatchError(Error):
    code = "server_kind_mismatch"


class SigningKeyMissingError(Error):
    code = "signing_key_unspecified"


class SigVerificationFailedError(Error):
    code = "sig_verification_failed"


class StepUnexpectedError(Error):
    code = "step_unexpected"
    include_stack = False


class UnknownError(Error):
    code = "unknown"


class CodedError(Error):
    """An error whose code is chosen at construction."""

    def __init__(self, code: str, message: str, is_retriable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.is_retriable = is_retriable
