"""Installed size of an SDK and its transitive runtime requirements (no extras).

``--package-dir`` counts a source checkout (ours runs from the repo) instead of an installed
distribution of that name. Byte-code caches are left out everywhere, so checkouts and
installs compare fairly. Prints one ``BENCH-JSON`` line.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re

import _common

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def distribution_bytes(dist: importlib.metadata.Distribution) -> int:
    total = 0
    for file in dist.files or ():
        if "__pycache__" in file.parts:
            continue
        path = file.locate()
        if os.path.isfile(path):
            total += os.path.getsize(path)
    return total


def runtime_requirements(dist: importlib.metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or ():
        if ";" in requirement and "extra" in requirement.split(";", 1)[1]:
            continue
        match = _NAME.match(requirement)
        if match:
            names.append(_normalize(match.group(1)))
    return names


def closure(roots: list[str]) -> dict[str, int]:
    """Bytes per installed distribution reachable from ``roots``."""
    sizes: dict[str, int] = {}
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in sizes:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a requirement whose marker excludes this interpreter
        sizes[name] = distribution_bytes(dist)
        pending.extend(runtime_requirements(dist))
    return sizes


def directory_bytes(root: str) -> int:
    total = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--package-dir", help="a source checkout of the package")
    parser.add_argument("--requires", nargs="*", default=[], help="its runtime requirements")
    args = parser.parse_args()
    if args.package_dir:
        sizes = closure([_normalize(name) for name in args.requires])
        sizes["inngest (checkout)"] = directory_bytes(args.package_dir)
    else:
        sizes = closure(["inngest"])
    _common.emit({"total_bytes": sum(sizes.values()), "distributions": sizes})


if __name__ == "__main__":
    main()
