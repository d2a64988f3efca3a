"""The import-cycle check that the lint env runs: it finds cycles, and the tree has none."""

from __future__ import annotations

import pathlib

import import_cycles

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _package(root: pathlib.Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_between_two_modules_is_found(tmp_path: pathlib.Path) -> None:
    _package(tmp_path, {"__init__.py": "", "a.py": "from pkg import b\n",
                        "sub/__init__.py": "", "sub/c.py": "from .. import a\n",
                        "b.py": "import pkg.sub.c\n"})
    found = import_cycles.cycles(import_cycles.graph(["pkg"], tmp_path))
    assert found == [["pkg.a", "pkg.b", "pkg.sub.c"]]


def test_imports_for_type_checking_or_inside_functions_do_not_count(
    tmp_path: pathlib.Path,
) -> None:
    _package(tmp_path, {
        "__init__.py": "",
        "a.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg import b\n",
        "b.py": "def f():\n    from pkg import a\n",
    })
    assert import_cycles.cycles(import_cycles.graph(["pkg"], tmp_path)) == []


def test_the_packages_have_no_import_cycle() -> None:
    edges = import_cycles.graph(["inngest", "inngest_encryption"], ROOT)
    assert "inngest._engine.graphql.schema" in edges["inngest._engine.http.api"]
    assert import_cycles.cycles(edges) == []
