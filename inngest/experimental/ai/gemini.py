"""Google Gemini generateContent."""

from inngest.experimental.ai.base import ChatAdapter


class Adapter(ChatAdapter):
    FORMAT = "gemini"
    DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/"

    def url_infer(self) -> str:
        # Gemini takes the model in the path and the key in the query.
        base = self._base_url.rstrip("/")
        return f"{base}/models/{self._model}:generateContent?key={self._auth_key}"
