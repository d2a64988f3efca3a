"""Keep step outputs in your own store (less bandwidth, no output size limit). Experimental."""

from inngest.experimental.remote_state_middleware.drivers import InMemoryDriver, S3Driver
from inngest.experimental.remote_state_middleware.middleware import (
    RemoteStateMiddleware,
    StateDriver,
)

__all__ = ["InMemoryDriver", "RemoteStateMiddleware", "S3Driver", "StateDriver"]
