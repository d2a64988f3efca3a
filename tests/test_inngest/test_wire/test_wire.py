"""Raw responses the dev server receives from apps of each framework."""

from __future__ import annotations

import types
import typing

import pytest

from test_core import apps, case
from test_inngest.test_wire import cases

MODULES = case.load(cases)


@pytest.fixture(scope="module")
def served() -> typing.Iterator[case.Served]:
    running = case.Served(MODULES, sync=False)
    yield running
    running.stop()


@pytest.mark.parametrize("module", MODULES, ids=case.module_id)
@pytest.mark.parametrize("framework", apps.FRAMEWORKS)
def test_case(framework: str, module: types.ModuleType, served: case.Served) -> None:
    context, built = served.case(framework, module)
    built.run_test(context)
