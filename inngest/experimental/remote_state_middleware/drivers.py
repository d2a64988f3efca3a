"""Built-in state drivers: in memory (a reference) and S3 (given a boto3-style client)."""

from __future__ import annotations

import json
import secrets
import typing

from inngest._step import Memo, StepMemos


def _new_key() -> str:
    return secrets.token_urlsafe(24)


class _Driver:
    # Keys of the reference that replaces an output (the official drivers' names).
    _marker: typing.Final = "__REMOTE_STATE__"
    _strategy_marker: typing.Final = "__STRATEGY__"
    STRATEGY_ID: typing.ClassVar[str]

    def _references(self, steps: StepMemos) -> typing.Iterator[tuple[Memo, dict[str, str]]]:
        for memo in steps.values():
            data = memo.data
            if (
                isinstance(data, dict)
                and data.get(self._marker)
                and data.get(self._strategy_marker) == self.STRATEGY_ID
            ):
                yield memo, data

    def _reference(self, **location: str) -> dict[str, object]:
        return {self._marker: True, self._strategy_marker: self.STRATEGY_ID, **location}


class InMemoryDriver(_Driver):
    """Keeps outputs in this process (tests and demos; lost on restart)."""

    STRATEGY_ID = "inngest/memory"

    def __init__(self) -> None:
        self._data: dict[str, object] = {}

    def load_steps(self, steps: StepMemos) -> None:
        for memo, reference in self._references(steps):
            memo.data = self._data[reference["key"]]

    def save_step(self, run_id: str, value: object) -> dict[str, object]:
        key = _new_key()
        self._data[key] = value
        return self._reference(key=key)


class S3Client(typing.Protocol):
    """The two calls of a boto3 S3 client the driver uses (boto3 is not a dependency)."""

    def get_object(self, *, Bucket: str, Key: str) -> typing.Mapping[str, typing.Any]: ...

    def put_object(self, *, Body: str, Bucket: str, Key: str) -> object: ...


class S3Driver(_Driver):
    """Stores each output as a JSON object ``inngest/remote_state/<run id>/<random>``."""

    STRATEGY_ID = "inngest/s3"

    def __init__(self, *, bucket: str, client: S3Client) -> None:
        self._bucket = bucket
        self._client = client

    def load_steps(self, steps: StepMemos) -> None:
        for memo, reference in self._references(steps):
            stored = self._client.get_object(Bucket=reference["bucket"], Key=reference["key"])
            memo.data = json.loads(stored["Body"].read().decode())

    def save_step(self, run_id: str, value: object) -> dict[str, object]:
        key = f"inngest/remote_state/{run_id}/{_new_key()}"
        self._client.put_object(Body=json.dumps(value), Bucket=self._bucket, Key=key)
        return self._reference(bucket=self._bucket, key=key)
