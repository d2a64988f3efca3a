"""conftest.py for the official suite's temp dir (copied there by run.py; not collected here).

The official tests import a few names from the official SDK's private ``inngest._internal``
package (framework names, opcodes, a pydantic base model). inngest-sync has no such package,
so when it is missing these names are provided here, built on our public/own types. With the
official SDK installed the real package is used and nothing is replaced.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import os
import sys
import types

import pytest

pytest.register_assert_rewrite("test_inngest")


class Framework(enum.Enum):
    CONNECT = "connect"
    DIGITAL_OCEAN = "digitalocean"
    DJANGO = "django"
    FAST_API = "fast_api"
    FLASK = "flask"
    TORNADO = "tornado"


class EnvKey(enum.Enum):
    SIGNING_KEY = "INNGEST_SIGNING_KEY"
    SIGNING_KEY_FALLBACK = "INNGEST_SIGNING_KEY_FALLBACK"


def _module(name: str, **attrs: object) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def _install_async_placeholders() -> None:
    """The shared case modules name the async API at import time (annotations, a base class
    of their async middleware, isinstance tuples); inngest-sync has no async API."""
    import inngest

    for name in ("Context", "Group", "Middleware", "Step"):
        if not hasattr(inngest, name):
            setattr(inngest, name, type(name, (), {"__module__": "official_suite_harness"}))


def _install_shim() -> None:
    import pydantic

    import inngest
    from inngest import _middleware, _step

    class BaseModel(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True)

    package = _module("inngest._internal", __path__=[])
    package.server_lib = _module(  # type: ignore[attr-defined]
        "inngest._internal.server_lib", Framework=Framework, Opcode=_step.Opcode
    )
    package.middleware_lib = _module(  # type: ignore[attr-defined]
        "inngest._internal.middleware_lib",
        TransformOutputStepInfo=_middleware.TransformOutputStepInfo,
    )
    package.const = _module(  # type: ignore[attr-defined]
        "inngest._internal.const",
        EnvKey=EnvKey,
        LANGUAGE="py",
        VERSION=inngest.__version__,
    )
    package.types = _module(  # type: ignore[attr-defined]
        "inngest._internal.types",
        BaseModel=BaseModel,
        is_dict=lambda value: isinstance(value, dict),
    )
    inngest._internal = package  # type: ignore[attr-defined]
    # Only named in an isinstance check of a Connect-only branch; inngest-sync has no Connect.
    pb2 = _module("inngest.connect._internal.connect_pb2", GatewayExecutorRequestData=type(
        "GatewayExecutorRequestData", (), {}
    ))
    connect_private = _module("inngest.connect._internal", __path__=[], connect_pb2=pb2)
    _module("inngest.connect", __path__=[], _internal=connect_private)


if importlib.util.find_spec("inngest._internal") is None:
    _install_shim()
    _install_async_placeholders()

_INNGEST_FILE = importlib.import_module("inngest").__file__ or ""
print(f"official suite: inngest from {os.path.dirname(_INNGEST_FILE)}", file=sys.stderr)
