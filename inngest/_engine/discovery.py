"""Finding and re-syncing apps: pings to ``-u`` URLs, polling, and local auto-discovery."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import typing

from inngest import _transport
from inngest._engine import registration
from inngest._engine.models import API_METHOD, CONNECT_METHOD, App
from inngest._engine.payload import load
from inngest._engine.store import Store
from inngest._protocol import jcs, signing
from inngest._protocol.headers import Header
from inngest._transport import OutboundRequest, Transport, TransportError, Urllib3Transport

log = logging.getLogger("inngest.engine")

DISCOVERY_PORTS = (80, 443, *range(3000, 3011), 4321, 5000, 5173, 8000, 8080, 8081, 8888,
                   *range(8910, 8916), 8787)
DISCOVERY_PATHS = ("/api/inngest", "/x/inngest", "/.netlify/functions/inngest",
                   "/.redwood/functions/inngest")
PING_TIMEOUT = 10.0
PROBE_TIMEOUT = 2.0
_STATUS_ERRORS = {401: "unauthorized", 403: "forbidden", 404: "url_not_found",
                  500: "internal_server_error"}
# An SDK's 400 messages the dev server records as a code (the first whose text is in the
# message); other messages are recorded as they are.
_MESSAGE_ERRORS = (("No functions registered", "no_functions"),
                   ("function is invalid", "invalid_function"),
                   ("You didn't specify your workspace's signing key", "missing_signing_key"),
                   ("No INNGEST_ENV branch name found", "missing_branch_env_name"))
_INVALID_SIGNING_KEY = "Your signing key is invalid"


def with_scheme(url: str) -> str:
    return url if "://" in url else f"http://{url}"


def ping_error(status: int, body: bytes) -> str | None:
    """The app error a ping response stands for (None when the ping succeeded)."""
    if status < 300:
        return None
    if status == 400:
        try:
            reply = load(body)
        except ValueError:
            reply = None
        message = reply.get("message") if isinstance(reply, typing.Mapping) else None
        return _message_error(str(message)) if message else "invalid_request"
    return _STATUS_ERRORS.get(status, f"status_{status}")


def _message_error(message: str) -> str:
    if message == _INVALID_SIGNING_KEY:
        return "invalid_signing_key"
    return next((code for text, code in _MESSAGE_ERRORS if text in message), message)


class Syncer:
    def __init__(self, store: Store, urls: typing.Sequence[str], *, poll: bool = True,
                 poll_interval: float = 5.0, discovery: bool = False,
                 signing_key: str | None = None, http: Transport | None = None,
                 server_port: int | None = None) -> None:
        self.store = store
        self.urls = [registration.normalize_url(with_scheme(url)) for url in urls]
        self.poll = poll
        self.poll_interval = poll_interval
        self.discovery = discovery
        self.signing_key = signing_key
        self.server_port = server_port
        self.http = http or Urllib3Transport(maxsize=4)
        self._reported: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="inngest-sync", daemon=True)

    def start(self) -> None:
        for url in self.urls:
            self._placeholder(url)
        self._thread.start()

    def _placeholder(self, url: str) -> None:
        """An app entry for ``url``, unreachable until the app there syncs."""
        if not self.store.apps_by_url(url):
            self.store.put_app(registration.placeholder(url))

    def add(self, url: str) -> tuple[str, str | None]:
        """Sync the app at ``url`` now, keeping it listed even when that fails; its URL, and
        why the sync failed (None when it did not)."""
        url = registration.normalize_url(with_scheme(url))
        self._placeholder(url)
        return url, self.ping(url)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        first = True
        while not self._stop.is_set():
            try:
                self.sync_once(first=first)
            except Exception:
                log.exception("app sync loop failed")
            first = False
            if self._stop.wait(self.poll_interval):
                return

    def sync_once(self, *, first: bool = False) -> None:
        """Ping known apps (all of them when polling, else only failing ones) and discover."""
        for app in self.store.apps():
            if app.method in (API_METHOD, CONNECT_METHOD):
                continue
            if first or self.poll or app.error:
                self.ping(app.url)
        if self.discovery and not self.store.apps():
            for url in self.discover():
                self._sync_discovered(url)
        if self.discovery and self.store.apps():
            self.discovery = False

    def _sync_discovered(self, url: str) -> None:
        """Sync an app found by discovery; when its SDK answers with an error, it is listed
        with the reason, as the dev server lists it (one that gives no answer is not)."""
        problem, from_sdk = self._ping(url)
        url = registration.normalize_url(url)
        if problem is not None and from_sdk and not self.store.apps_by_url(url):
            self.store.put_app(registration.placeholder(url).replace(error=problem))

    def ping(self, url: str) -> str | None:
        """Ask the app at ``url`` to sync; the app error its answer stands for, if any."""
        return self._ping(url)[0]

    def _ping(self, url: str) -> tuple[str | None, bool]:
        """``ping``'s answer, and whether an SDK gave it (its ``x-inngest-sdk`` header)."""
        from_sdk = False
        body = json.dumps({"url": url}).encode()
        headers = {"content-type": "application/json",
                   Header.SERVER_KIND: registration.SERVER_KIND}
        if self.signing_key:
            headers[Header.SIGNATURE] = signing.sign(
                jcs.canonicalize(load(body)), self.signing_key
            )
        try:
            response = self.http.send(OutboundRequest("PUT", url, headers, body, PING_TIMEOUT))
            problem = ping_error(response.status, response.body)
            cause = f"status {response.status}: {_body_text(response.body)}"
            from_sdk = Header.SDK in {name.lower() for name in response.headers}
        except TransportError as err:
            problem = "unsupported_protocol" if "SSL" in str(err) else "unreachable"
            cause = _transport.error_cause(err)
        self._report(url, problem, cause)
        self._record(url, problem)
        return problem, from_sdk

    def _report(self, url: str, problem: str | None, cause: str) -> None:
        """Log a failing app once (until it recovers), with the cause and when we try again."""
        if problem is None:
            self._reported.discard(url)
            return
        if url in self._reported:
            return
        self._reported.add(url)
        log.warning("app at %s could not be synced: %s (%s); retrying every %gs", url, problem,
                    cause, self.poll_interval)

    def _record(self, url: str, problem: str | None) -> None:
        for app in self.store.apps_by_url(registration.normalize_url(url)):
            if problem is not None and app.error != problem:
                self.store.put_app(App.from_dict({**app.to_dict(), "error": problem}))

    def discover(self) -> list[str]:
        """Local serve URLs that answer with an ``x-inngest-sdk`` header."""
        ports = list(DISCOVERY_PORTS)
        port = os.environ.get("PORT", "")
        if port.isascii() and port.isdigit():
            ports.append(int(port))
        found: list[str] = []
        for port in ports:
            if port == self.server_port or not _port_open(port):
                continue
            for path in DISCOVERY_PATHS:
                url = f"http://localhost:{port}{path}"
                try:
                    response = self.http.send(OutboundRequest("GET", url, {}, None, PROBE_TIMEOUT))
                except TransportError:
                    continue
                if Header.SDK in {name.lower() for name in response.headers}:
                    found.append(url)
        return found


def _body_text(body: bytes) -> str:
    text = body[:300].decode("utf-8", errors="replace").strip()
    return text or "(empty body)"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
