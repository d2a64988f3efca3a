"""The context every resolver gets: the engine whose data it answers with."""

from __future__ import annotations

from inngest._engine.engine import Engine


def engine_of(ctx: object) -> Engine:
    assert isinstance(ctx, Engine)
    return ctx
