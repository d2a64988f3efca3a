"""Anthropic messages."""

import typing

from inngest.experimental.ai.base import ChatAdapter


class Adapter(ChatAdapter):
    FORMAT = "anthropic"
    DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
    DEFAULT_HEADERS: typing.ClassVar[dict[str, str]] = {"anthropic-version": "2023-06-01"}
    PATH = "/messages"
