"""Model provider adapters for ``ctx.step.ai.infer`` (the Inngest server makes the call)."""

from inngest.experimental.ai import anthropic, deepseek, gemini, grok, openai
from inngest.experimental.ai.base import BaseAdapter

__all__ = ["BaseAdapter", "anthropic", "deepseek", "gemini", "grok", "openai"]
