"""docs/testing.md's complete example, run exactly as the docs show it."""

from __future__ import annotations

import pathlib
import re
import types

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "testing.md"


def _example() -> types.ModuleType:
    """The first Python block of the doc, as a module (so its test functions can run)."""
    block = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None, "docs/testing.md lost its example"
    module = types.ModuleType("testing_doc_example")
    exec(compile(block.group(1), str(DOC), "exec"), module.__dict__)
    return module


def test_the_docs_example_passes() -> None:
    example = _example()
    tests = [value for name, value in vars(example).items() if name.startswith("test_")]
    assert tests
    for test in tests:
        test()
