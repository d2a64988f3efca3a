"""A GraphQL request sent as ``multipart/form-data`` (the GraphQL multipart request spec),
read as the dev server's gqlgen transport reads one (measured): an ``operations`` part (the
request's JSON object), a ``map`` part (each file part's name to the variable paths it
fills), then the files, in that order. What does not fit is a ``MultipartError`` with the
server's message, answered 422."""

from __future__ import annotations

import dataclasses
import re
import typing

from inngest._engine.errors import EngineError
from inngest._engine.graphql.uploads import Upload
from inngest._engine.http import media_type
from inngest._engine.models import JSON
from inngest._engine.payload import load_first, load_graphql

Variables = dict[str, object]


class MultipartError(EngineError):
    """A form gqlgen refuses; the message is its own."""

    code = "graphql_multipart_invalid"


@dataclasses.dataclass(frozen=True)
class Part:
    name: str  # the form field's name ("" unless its disposition is form-data)
    filename: str
    content_type: str
    content: bytes


@dataclasses.dataclass(frozen=True)
class Operation:
    query: str
    operation_name: str | None
    variables: Variables


# A part's header block ends at its first empty line.
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_INTERNAL = "internal system error"  # gqlgen's answer to a path it cannot follow


def load_operation(content_type: str, body: bytes) -> Operation:
    """The GraphQL operation of a ``multipart/form-data`` request."""
    return _read(_boundary_of(content_type), body)


def _read(boundary: str, body: bytes) -> Operation:
    """The operation a form holds, its variables filled with the files."""
    parts, complete = _parts(boundary, body)
    if not parts or parts[0].name != "operations":
        raise MultipartError("first part must be operations")
    query, operation_name, variables = _operations(parts[0].content)
    if len(parts) < 2 or parts[1].name != "map":
        raise MultipartError("second part must be map")
    paths_of = _file_map(parts[1].content)
    for part in parts[2:]:
        paths = paths_of.pop(part.name, None)
        if not paths:
            raise MultipartError(f"invalid empty operations paths list for key {part.name}")
        upload = Upload(part.filename, len(part.content), part.content_type)
        for path in paths:
            _put(variables, path, part.name, upload)
    if not complete:
        raise MultipartError("failed to parse part")
    for name in sorted(paths_of):
        raise MultipartError(f"failed to get key {name} from form")
    return Operation(query, operation_name, variables if variables is not None else {})


def _boundary_of(content_type: str) -> str:
    """The form's boundary; MultipartError when the type gives none."""
    media = media_type.parse(content_type)
    boundary = media.params.get("boundary", "") if media else ""
    if not boundary:
        raise MultipartError("failed to parse multipart form")
    return boundary


def _parts(boundary: str, body: bytes) -> tuple[list[Part], bool]:
    """The parts of a form, up to the first that does not parse, and whether the form ended
    at its closing boundary. Text before the first boundary line is a preamble, skipped."""
    lines = list(re.finditer(
        rb"(?:^|\r?\n)--" + re.escape(boundary.encode("latin-1")) + rb"(--)?[ \t]*(?:\r?\n|$)",
        body))
    parts: list[Part] = []
    for line, following in zip(lines, lines[1:] + [None]):
        if line.group(1):
            return parts, True
        part = _part(body[line.end():following.start()]) if following else None
        if part is None:
            break
        parts.append(part)
    return parts, False


def _part(raw: bytes) -> Part | None:
    """A part: its header lines, an empty line, its content; None when it has no end of
    its headers."""
    if raw.startswith((b"\r\n", b"\n")):
        head, content = b"", raw[raw.index(b"\n") + 1:]
    else:
        found = _HEADER_END.search(raw)
        if found is None:
            return None
        head, content = raw[:found.start()], raw[found.end():]
    headers: dict[str, str] = {}
    for text in head.decode("latin-1").splitlines():
        name, colon, value = text.partition(":")
        if colon:
            headers.setdefault(name.strip().lower(), value.strip())
    disposition = media_type.parse(headers.get("content-disposition", ""))
    is_form = disposition is not None and disposition.name == "form-data"
    params = disposition.params if disposition is not None else {}
    return Part(name=params.get("name", "") if is_form else "",
                filename=params.get("filename", "").replace("\\", "/").rsplit("/", 1)[-1],
                content_type=headers.get("content-type", ""), content=content)


def _operations(content: bytes) -> tuple[str, str | None, Variables | None]:
    """The ``operations`` part: one request object (a batch is refused, as there)."""
    try:
        raw = load_graphql(content, first=True)
    except ValueError:
        raise MultipartError("operations form field could not be decoded") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise MultipartError("operations form field could not be decoded")
    query, name, variables = (raw.get(key) for key in ("query", "operationName", "variables"))
    if not (isinstance(query, (str, type(None))) and isinstance(name, (str, type(None)))
            and isinstance(variables, (dict, type(None)))
            and isinstance(raw.get("extensions"), (dict, type(None)))):
        raise MultipartError("operations form field could not be decoded")
    return query or "", name or None, typing.cast("Variables | None", variables)


def _file_map(content: bytes) -> dict[str, list[str]]:
    try:
        raw = load_first(content)
    except ValueError:
        raise MultipartError("map form field could not be decoded") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict) or not all(
            value is None or (isinstance(value, list) and all(isinstance(p, str) for p in value))
            for value in raw.values()):
        raise MultipartError("map form field could not be decoded")
    return {key: typing.cast(list[str], value or []) for key, value in raw.items()}


def _put(variables: Variables | None, path: str, key: str, upload: Upload) -> None:
    """The file at ``path`` (``variables.a.0``): each step into an object by name, into a
    list by index; a step gqlgen's type assertions cannot take is its internal error."""
    if not path.startswith("variables."):
        raise MultipartError(f"invalid operations paths for key {key}")
    steps = path.split(".")[1:]
    holder: object = variables if variables is not None else _NIL_MAP
    for n, step in enumerate(steps):
        if holder is None:
            raise MultipartError(
                f'path is missing "variables." prefix, key: {key}, path: {path}')
        last = n == len(steps) - 1
        holder = _step(holder, step, upload if last else None)


# Go's nil map: reading it gives nothing, writing to it panics.
_NIL_MAP: dict[str, JSON] = {}


def _step(holder: object, step: str, upload: Upload | None) -> object:
    """The value at ``step`` in ``holder``; with ``upload``, set there instead."""
    index = _go_atoi(step)
    if index is not None:
        if not isinstance(holder, list) or not 0 <= index < len(holder):
            raise MultipartError(_INTERNAL)
        if upload is not None:
            holder[index] = upload
        return holder[index]
    if not isinstance(holder, dict) or (upload is not None and holder is _NIL_MAP):
        raise MultipartError(_INTERNAL)
    if upload is not None:
        holder[step] = upload
    return holder.get(step)


def _go_atoi(text: str) -> int | None:
    """``strconv.Atoi``: an optional sign and decimal digits."""
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) else None
