"""The engine's web console: static files shipped in the package, served as they are."""

from __future__ import annotations

import importlib.resources
import re

_TYPES = {
    "html": "text/html; charset=utf-8", "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8", "svg": "image/svg+xml",
}
# Only plain file names: no directories, so no way out of the folder.
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.(html|css|js|svg)")
HEADERS = {
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}


def asset(name: str) -> tuple[bytes, str] | None:
    """A console file's bytes and content type, or None when there is no such file."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    resource = importlib.resources.files(__name__).joinpath("static", name)
    if not resource.is_file():
        return None
    return resource.read_bytes(), _TYPES[match.group(1)]
