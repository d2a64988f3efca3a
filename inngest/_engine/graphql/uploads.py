"""A file sent with a GraphQL request over ``multipart/form-data`` (the GraphQL multipart
request spec), as the dev server's gqlgen hands one to the schema: a ``graphql.Upload``
struct in the variables. No field of the schema takes one; as there, a scalar refuses it
(``cannot use struct as String``, ``graphql.Upload is not a map``), and inside a ``Map``
value it is kept as Go writes the struct (measured)."""

from __future__ import annotations

GO_TYPE = "graphql.Upload"


class Upload(dict[str, object]):
    """The struct's JSON (``File`` is a reader, which Go writes as ``{}``), so that a
    ``Map`` holding one stores what the dev server stores."""

    def __init__(self, filename: str, size: int, content_type: str) -> None:
        super().__init__(
            ContentType=content_type, File={}, Filename=filename, Size=size)
