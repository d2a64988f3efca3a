"""The engine's HTTP listener: a bounded pool that idle keep-alive clients cannot exhaust."""

from __future__ import annotations

import socket
import threading

from inngest._engine.http.api import Api, Server
from inngest._engine.engine import Engine
from inngest._engine.executor import Settings
from inngest._engine.store import Store

HEALTH = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def ask_health(port: int) -> tuple[bytes, socket.socket]:
    """Send one keep-alive request and read its response; return the socket still open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(HEALTH)
    received = b""
    while b"\r\n\r\n" not in received or not received.endswith(b"}\n"):
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return received, sock


def test_keep_alive_clients_do_not_hold_the_workers() -> None:
    store = Store()
    server = Server(("127.0.0.1", 0), Api(Engine(store, Settings())), max_workers=2)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    port = server.server_address[1]
    held = []
    try:
        for _ in range(5):
            answer, sock = ask_health(port)
            held.append(sock)
            assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b'"message":"OK"}\n')
    finally:
        for sock in held:
            sock.close()
        server.shutdown()
        server.server_close()
        store.close()
