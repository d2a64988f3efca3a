"""Shared type aliases."""

from __future__ import annotations

from inngest._protocol.json_value import JSON

__all__ = ["JSON"]
