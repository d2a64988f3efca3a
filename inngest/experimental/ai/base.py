"""What ``ctx.step.ai.infer`` needs from a model provider adapter."""

from __future__ import annotations

import typing


class BaseAdapter(typing.Protocol):
    """A provider: where the Inngest server sends the request, in which format, with what."""

    def auth_key(self) -> str: ...

    def format(self) -> str: ...

    def headers(self) -> dict[str, str]: ...

    def on_call(self, body: dict[str, typing.Any]) -> None:
        """Complete the request body in place (e.g. set ``model``)."""

    def url_infer(self) -> str: ...


class ChatAdapter:
    """Shared by the built-in adapters: a key, a base URL, extra headers and a model."""

    FORMAT: typing.ClassVar[str]
    DEFAULT_BASE_URL: typing.ClassVar[str]
    DEFAULT_HEADERS: typing.ClassVar[dict[str, str]] = {}
    PATH: typing.ClassVar[str] = "/chat/completions"

    def __init__(
        self,
        *,
        auth_key: str,
        base_url: str | None = None,
        headers: dict[str, str] | None = None,
        model: str,
    ) -> None:
        self._auth_key = auth_key
        self._base_url = base_url or self.DEFAULT_BASE_URL
        # Given headers replace the defaults rather than adding to them.
        self._headers = dict(self.DEFAULT_HEADERS) if headers is None else headers
        self._model = model

    def auth_key(self) -> str:
        return self._auth_key

    def format(self) -> str:
        return self.FORMAT

    def headers(self) -> dict[str, str]:
        return self._headers

    def on_call(self, body: dict[str, typing.Any]) -> None:
        if not body.get("model"):
            body["model"] = self._model

    def url_infer(self) -> str:
        return self._base_url.rstrip("/") + self.PATH
