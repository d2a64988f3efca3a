"""Loopback stand-ins for Inngest's event API and ``/fn/register`` that answer at once."""

from __future__ import annotations

import http.server
import json
import threading


class _StubHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server offers
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path.startswith("/fn/register"):
            self._reply({"ok": True, "modified": False})
        elif self.path.startswith("/e/"):
            events = json.loads(body) if body else []
            count = len(events) if isinstance(events, list) else 1
            self._reply({"ids": [f"01STUB{i:020d}" for i in range(count)], "status": 200})
        else:
            self._reply({"error": "not found"}, 404)

    def _reply(self, payload: object, status: int = 200) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class StubServer:
    """Serves both stubs on 127.0.0.1 at an ephemeral port until ``stop()``."""

    def __init__(self) -> None:
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StubHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
