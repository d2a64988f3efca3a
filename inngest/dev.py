"""The embedded engine, in-process: ``with DevServer(port=0) as engine: ...``.

The same engine runs from the command line as ``python -m inngest dev``.
"""

from inngest._engine.http.server import DevServer

__all__ = ["DevServer"]
