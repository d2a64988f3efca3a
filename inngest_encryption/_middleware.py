"""The encryption middleware: seals what leaves the app, opens what comes back."""

from __future__ import annotations

import dataclasses
import typing

from inngest._middleware import MiddlewareSync, TransformOutputResult
from inngest._step import Opcode
from inngest_encryption import _crypto
from inngest_encryption._errors import DecryptionFailedError

if typing.TYPE_CHECKING:
    from inngest._client import Inngest
    from inngest._context import ContextSync
    from inngest._event import Event
    from inngest._function import Function
    from inngest._step import StepMemos

DEFAULT_EVENT_ENCRYPTION_FIELD = "encrypted"
_ENVELOPE_KEYS = frozenset((_crypto.ENCRYPTION_MARKER, _crypto.STRATEGY_MARKER, "data"))


class EncryptionMiddleware(MiddlewareSync):
    """End-to-end encryption of step outputs, function outputs and one event field.

    Envelopes are those of the JS ``@inngest/middleware-encryption`` LibSodium strategy.
    Encryption uses ``secret_key``; decryption tries it, then each fallback key.
    """

    def __init__(
        self,
        client: Inngest,
        raw_request: object,
        secret_key: _crypto.Secret,
        *,
        decrypt_only: bool = False,
        event_encryption_field: str = DEFAULT_EVENT_ENCRYPTION_FIELD,
        fallback_decryption_keys: typing.Sequence[_crypto.Secret] | None = None,
    ) -> None:
        super().__init__(client, raw_request)
        self._cipher = _crypto.Cipher(secret_key, fallback_decryption_keys or ())
        self._decrypt_only = decrypt_only
        self._field = event_encryption_field

    @classmethod
    def factory(
        cls,
        secret_key: _crypto.Secret,
        *,
        decrypt_only: bool = False,
        event_encryption_field: str = DEFAULT_EVENT_ENCRYPTION_FIELD,
        fallback_decryption_keys: typing.Sequence[_crypto.Secret] | None = None,
    ) -> typing.Callable[[Inngest, object], EncryptionMiddleware]:
        """The factory for ``Inngest(middleware=[...])`` or ``create_function(middleware=...)``.

        The keys are checked here, so a bad key fails at startup rather than per request.
        """
        _crypto.Cipher(secret_key, fallback_decryption_keys or ())
        fallbacks = list(fallback_decryption_keys or ())

        def create(client: Inngest, raw_request: object) -> EncryptionMiddleware:
            return cls(
                client,
                raw_request,
                secret_key,
                decrypt_only=decrypt_only,
                event_encryption_field=event_encryption_field,
                fallback_decryption_keys=fallbacks,
            )

        return create

    def transform_input(
        self, ctx: ContextSync, function: Function[typing.Any], steps: StepMemos
    ) -> None:
        for hashed_id, memo in steps.items():
            memo.data = self._open(memo.data, f"the output of step with hashed id {hashed_id!r}")
        ctx.event = self._open_event(ctx.event)
        ctx.events = [self._open_event(event) for event in ctx.events]

    def transform_output(self, result: TransformOutputResult) -> None:
        if self._decrypt_only or result.error is not None:
            return
        step = result.step
        if step is not None and step.op is Opcode.INVOKE and step.opts is not None:
            self._seal_invoke_payload(step.opts, step.id)
        # A null output carries no secret; leaving it clear keeps ops without output as-is.
        if result.has_output() and result.output is not None:
            where = "function output" if step is None else f"output of step {step.id!r}"
            result.output = self._seal(result.output, where)

    def before_send_events(self, events: list[Event]) -> None:
        if self._decrypt_only:
            return
        for index, event in enumerate(events):
            if self._field in event.data:
                data = dict(event.data)
                data[self._field] = self._seal(
                    data[self._field], f"field {self._field!r} of event {event.name!r}"
                )
                events[index] = dataclasses.replace(event, data=data)

    def _seal_invoke_payload(self, opts: dict[str, object], step_id: str) -> None:
        payload = opts.get("payload")
        if not isinstance(payload, dict):
            return
        data = payload.get("data")
        if isinstance(data, dict) and self._field in data:
            data[self._field] = self._seal(
                data[self._field], f"field {self._field!r} of the payload of step {step_id!r}"
            )

    def _seal(self, value: object, where: str) -> object:
        if _crypto.is_envelope(value) or _crypto.is_foreign_envelope(value):
            self.client.logger.warning(
                "encryption middleware: %s is already encrypted; not encrypting it again "
                "(is the middleware added twice?)",
                where,
            )
            return value
        return self._cipher.seal(value)

    def _open(self, value: object, where: str) -> object:
        if _crypto.is_foreign_envelope(value):
            self.client.logger.warning(
                "encryption middleware: %s is marked encrypted by a strategy other than %r; "
                "passing it on unchanged",
                where,
                _crypto.STRATEGY,
            )
        if not _crypto.is_envelope(value):
            return value
        try:
            return self._cipher.open(typing.cast(typing.Mapping[str, object], value))
        except DecryptionFailedError as err:
            raise DecryptionFailedError(f"could not decrypt {where}: {err.message}") from None

    def _open_event(self, event: Event) -> Event:
        data = event.data
        if _crypto.is_envelope(data):
            return dataclasses.replace(event, data=self._open_whole_data(event))
        for key in self._fields_to_check(data):
            if _crypto.is_envelope(data[key]):
                opened = dict(data)
                opened[key] = self._open(data[key], f"field {key!r} of event {event.name!r}")
                return dataclasses.replace(event, data=opened)
        return event

    def _open_whole_data(self, event: Event) -> dict[str, object]:
        """An event whose whole data is an envelope; its other keys (e.g. ``_inngest``) win."""
        where = f"the data of event {event.name!r}"
        opened = self._open(event.data, where)
        if not isinstance(opened, dict):
            raise DecryptionFailedError(f"could not decrypt {where}: it does not hold an object")
        rest = {k: v for k, v in event.data.items() if k not in _ENVELOPE_KEYS}
        return {**opened, **rest}

    def _fields_to_check(self, data: typing.Mapping[str, object]) -> list[str]:
        others = [key for key in data if key != self._field]
        return [self._field, *others] if self._field in data else others
