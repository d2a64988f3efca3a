"""Interop tests run real third-party code (node, npm) and only when INNGEST_INTEROP=1."""

from __future__ import annotations

import os

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "interop: checks against another implementation; needs INNGEST_INTEROP=1"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("INNGEST_INTEROP") == "1":
        return
    skip = pytest.mark.skip(reason="interop tests run only with INNGEST_INTEROP=1 (tox -e interop)")
    for item in items:
        if item.get_closest_marker("interop") is not None:
            item.add_marker(skip)
