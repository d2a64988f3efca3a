"""Documentation tools: search, read and list Markdown files under a docs folder.

The real server searches the docs it embeds (in the build measured, a one-line
placeholder); this engine searches its own ``docs/`` folder, which a source checkout (and
the sdist) has and an installed wheel has not: there the tools find no documents.
"""

from __future__ import annotations

import datetime
import pathlib
import re
import typing

from inngest._engine.mcp.tools import Arguments, Result, Tool, ToolFailed, object_schema
from inngest._engine.models import JSON

# The docs folder of a source checkout, next to the package (recognised by one of its
# files, so that another ``docs`` folder next to an installed package is not taken for it).
PROJECT_DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"
_PROJECT_DOCS_MARK = "dev-server.md"
DEFAULT_LIMIT = 10
# read_doc's text shows this much of a file; the structured result has all of it.
TEXT_PREVIEW_CHARS = 2000
_SUFFIXES = (".md", ".mdx")
_SDK_HINTS = {"typescript": ("typescript", "ts"), "python": ("python", "py"),
              "go": ("go", "golang")}


class DocsTools:
    def __init__(self, root: pathlib.Path | None = None) -> None:
        if root is None and (PROJECT_DOCS / _PROJECT_DOCS_MARK).is_file():
            root = PROJECT_DOCS
        self.root = root

    def tools(self) -> list[Tool]:
        return [
            Tool("grep_docs", "Search the docs",
                 "Finds lines of the documentation matching a regular expression (case "
                 "insensitive): handy for API names, error codes and identifiers. Arguments: "
                 "pattern (required), limit (most matches to answer, default 10).",
                 object_schema({"pattern": {"type": "string"}, "limit": {"type": "integer"}},
                               ["pattern"]), self.grep_docs),
            Tool("read_doc", "Read a doc",
                 "Answers one documentation file in full. Argument: path (required, relative "
                 "to the docs folder, as grep_docs and list_docs name files).",
                 object_schema({"path": {"type": "string"}}, ["path"]), self.read_doc),
            Tool("list_docs", "List the docs",
                 "Counts the documentation files by category (top-level folder) and by SDK. "
                 "Takes no arguments.", object_schema({}, []), self.list_docs),
        ]

    def _documents(self) -> typing.Iterator[tuple[str, pathlib.Path]]:
        """(path relative to the root, file) of every Markdown file, in lexical order."""
        root = self.root
        if root is None or not root.is_dir():
            return
        for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).parts):
            if path.is_file() and path.suffix in _SUFFIXES:
                yield path.relative_to(root).as_posix(), path

    def grep_docs(self, args: Arguments) -> Result:
        pattern = typing.cast(str, args["pattern"])
        limit = typing.cast(int, args.get("limit") or DEFAULT_LIMIT)
        if not pattern:
            raise ToolFailed("pattern cannot be empty")
        try:
            regex = re.compile(pattern, re.IGNORECASE)
        except re.error as err:
            raise ToolFailed(f"invalid pattern: {err}") from None
        matches: list[JSON] = []
        for name, path in self._documents():
            for number, line in enumerate(_read(path).split("\n"), start=1):
                if regex.search(line):
                    matches.append({"file": name, "line": number, "content": line.strip()})
                    if len(matches) >= limit:
                        break
            if len(matches) >= limit:
                break
        text = f"Found {len(matches)} matches for pattern '{pattern}':\n\n"
        text += "".join(f"{m['file']}:{m['line']}: {m['content']}\n"
                        for m in typing.cast("list[dict[str, JSON]]", matches))
        if len(matches) >= limit:
            text += f"\n(Limited to {limit} results)\n"
        return Result(text, {"matches": matches or None, "count": len(matches)})

    def read_doc(self, args: Arguments) -> Result:
        name = typing.cast(str, args["path"])
        if not name:
            raise ToolFailed("path cannot be empty")
        if ".." in name:
            raise ToolFailed("invalid path: directory traversal not allowed")
        path = self._file(name)
        if path is None:
            raise ToolFailed(f"file not found: {name}")
        content = _read(path)
        size = path.stat().st_size
        text = f"File: {name}\nSize: {size} bytes\n\n"
        if len(content) > TEXT_PREVIEW_CHARS:
            text += content[:TEXT_PREVIEW_CHARS] + "\n\n[Content truncated - the structured " \
                                                   "result has the whole file]"
        else:
            text += content
        return Result(text, {"path": name, "size": size, "content": content})

    def _file(self, name: str) -> pathlib.Path | None:
        """The file ``name`` names under the root (never outside it), if there is one."""
        if self.root is None:
            return None
        path = (self.root / name).resolve()
        return path if path.is_relative_to(self.root.resolve()) and path.is_file() else None

    def list_docs(self, args: Arguments) -> Result:
        categories: dict[str, int] = {}
        sdks: dict[str, int] = {}
        total = 0
        for name, _ in self._documents():
            total += 1
            category = name.split("/")[0]
            categories[category] = categories.get(category, 0) + 1
            for sdk, hints in _SDK_HINTS.items():
                if any(hint in name for hint in hints):
                    sdks[sdk] = sdks.get(sdk, 0) + 1
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        text = f"Documentation Overview (Generated: {now})\n\nTotal Documents: {total}\n" \
               f"Estimated Chunks: {total * 2}\n\nCategories:\n"
        text += "".join(f"  {name}: {count} docs\n" for name, count in categories.items())
        text += "\nSDK Coverage:\n"
        text += "".join(f"  {name}: {count} docs\n" for name, count in sdks.items())
        return Result(text, {"generatedAt": now, "totalDocs": total, "totalChunks": total * 2,
                             "categories": dict(categories), "sdks": dict(sdks)})


def _read(path: pathlib.Path) -> str:
    return path.read_bytes().decode("utf-8", "replace")
