"""DeepSeek (OpenAI-compatible chat completions)."""

from inngest.experimental.ai.base import ChatAdapter


class Adapter(ChatAdapter):
    FORMAT = "openai-chat"
    DEFAULT_BASE_URL = "https://api.deepseek.com/v1"
