"""A small synchronous WebDriver BiDi client for headless Firefox, without geckodriver.

Firefox speaks BiDi itself when started with --remote-debugging-port; port 0 lets it pick
a free one, which it writes to WebDriverBiDiServer.json in the profile.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import time
import typing

from websockets.sync.client import ClientConnection, connect

START_S = 30


class BidiError(AssertionError):
    """Firefox answered a command with an error, or a script threw."""


class Firefox:
    """One headless Firefox, its BiDi session and the JavaScript errors its pages logged."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900) -> None:
        self._profile = tempfile.mkdtemp(prefix="console-firefox-")
        self._process = subprocess.Popen(
            [binary, "--headless", "--remote-debugging-port", "0", "--profile", self._profile,
             "--no-remote", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "HOME": self._profile, "MOZ_HEADLESS": "1"})
        self._ids = itertools.count(1)
        self._closing = contextlib.ExitStack()
        self._log: list[dict[str, typing.Any]] = []
        try:
            self._socket = self._connect()
            self.command("session.new", {"capabilities": {}})
            self.command("session.subscribe", {"events": ["log.entryAdded"]})
            self.context = self.command("browsingContext.getTree", {})["contexts"][0]["context"]
            self.command("browsingContext.setViewport", {
                "context": self.context, "viewport": {"width": width, "height": height}})
        except BaseException:
            self.close()
            raise

    def _connect(self) -> ClientConnection:
        announced = pathlib.Path(self._profile, "WebDriverBiDiServer.json")
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise BidiError(f"firefox exited with {self._process.returncode} at start")
            try:
                port = json.loads(announced.read_text())["ws_port"]
                return self._closing.enter_context(
                    connect(f"ws://127.0.0.1:{port}/session", max_size=None))
            except (OSError, ValueError, KeyError):
                time.sleep(0.1)
        raise BidiError(f"firefox did not open its BiDi port within {START_S}s")

    def command(self, method: str, params: dict[str, typing.Any]) -> dict[str, typing.Any]:
        """Send one command and return its result, keeping the events that arrive meanwhile."""
        number = next(self._ids)
        self._socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("type") == "event":
                if message["method"] == "log.entryAdded":
                    self._log.append(message["params"])
            elif message.get("id") == number:
                if message.get("type") == "error":
                    raise BidiError(f"{method}: {message['error']}: {message.get('message')}")
                return dict(message["result"])

    def navigate(self, url: str) -> None:
        self.command("browsingContext.navigate",
                     {"context": self.context, "url": url, "wait": "complete"})

    def call(self, function: str, *args: object) -> typing.Any:
        """Call a JavaScript function with JSON arguments in the page; return its result.

        The result goes through JSON (an element comes back as {}: answer with its text or a
        boolean instead). An async function is awaited; a throw raises BidiError.
        """
        wrapper = (f"async (args) => {{ const value = await ({function})(...JSON.parse(args));"
                   " return value === undefined ? 'null' : JSON.stringify(value); }")
        result = self.command("script.callFunction", {
            "functionDeclaration": wrapper, "awaitPromise": True,
            "arguments": [{"type": "string", "value": json.dumps(args)}],
            "target": {"context": self.context}})
        if result["type"] == "exception":
            raise BidiError(result["exceptionDetails"].get("text", "a script threw"))
        return json.loads(result["result"]["value"])

    def until(self, function: str, *args: object, what: str, timeout: float) -> typing.Any:
        """Call ``function`` until it returns something truthy (a throw counts as not yet)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = self.call(function, *args)
                if value:
                    return value
            except BidiError:
                if time.monotonic() >= deadline:
                    raise
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(0.1)

    def screenshot(self, path: str) -> None:
        data = self.command("browsingContext.captureScreenshot", {"context": self.context})
        pathlib.Path(path).write_bytes(base64.b64decode(data["data"]))

    def errors(self) -> list[str]:
        """The JavaScript errors (uncaught or console.error) logged since the last call."""
        self.command("browsingContext.getTree", {})  # a round trip: take what is in flight
        found = [f"{entry.get('text')} at {_where(entry)}"
                 for entry in self._log if entry.get("level") == "error"]
        self._log.clear()
        return found

    def close(self) -> None:
        self._closing.close()
        self._process.kill()
        self._process.wait()
        shutil.rmtree(self._profile, ignore_errors=True)


def _where(entry: dict[str, typing.Any]) -> str:
    frames = entry.get("stackTrace", {}).get("callFrames") or [{}]
    top = frames[0]
    return f"{top.get('url', '?')}:{top.get('lineNumber', 0) + 1}:{top.get('columnNumber', 0) + 1}"
