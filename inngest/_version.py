"""The SDK's identity as servers see it."""

from __future__ import annotations

VERSION = "0.1.0"
LANGUAGE = "py"
SDK_NAME = "inngest-sync"
SDK_IDENTITY = f"{SDK_NAME}:v{VERSION}"
REGISTER_SDK = f"{LANGUAGE}:v{VERSION}"
REQUEST_VERSION = "2"
