"""The engine's realtime API with clients that are not ours: the `@inngest/realtime` package
(Node's WebSocket), the `websockets` package and a page in Chromium.

Our own test client shared its mistakes with the engine (a mistyped handshake GUID passed
every test and failed every real client), so these peers check what ours cannot. Their
answers are the dev server's, measured against it with the same peers: the package's
messages, the close codes and reasons the `websockets` client reads. Tests needing a peer that
is missing (Node and `npm ci` in tests/js_app; the `websockets` and `selenium` packages, which
the unit tox env does not install; Chromium and chromedriver) are skipped with the reason.
"""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import re
import shutil
import subprocess
import threading
import typing

import pytest
from engine_fakes import wait
from test_realtime_engine import ENV_ID, envelope, jwt, publish, sdk, without_time

import inngest
from inngest._engine.http.server import DevServer
from inngest.experimental import realtime

JS_APP_DIR = pathlib.Path(__file__).resolve().parents[2] / "js_app"
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

pytestmark = pytest.mark.timeout(60)
__all__ = ["sdk"]  # the fixture: an app of this SDK whose function ``chat`` publishes


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    if not (JS_APP_DIR / "node_modules" / "@inngest" / "realtime").is_dir():
        pytest.skip("tests/js_app has no node_modules/@inngest/realtime: run npm ci there")
    return node


def _websockets() -> typing.Any:
    return pytest.importorskip("websockets.sync.client",
                               reason="the websockets package is not installed")


class JsSubscriber:
    """``tests/js_app/realtime.mjs``: subscribed through the package once ``started``."""

    def __init__(self, url: str, channel: str, topics: list[str], count: int,
                 js_publishes: list[dict[str, object]] | None = None) -> None:
        env = {**os.environ, "INNGEST_BASE_URL": url, "REALTIME_CHANNEL": channel,
               "REALTIME_TOPICS": ",".join(topics), "REALTIME_COUNT": str(count),
               "REALTIME_PUBLISH": json.dumps(js_publishes or [])}
        env.pop("INNGEST_DEV", None)
        self.process = subprocess.Popen(
            [_node(), "--experimental-websocket", "realtime.mjs"], cwd=JS_APP_DIR, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def started(self) -> None:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line != "ready\n":
            self.process.kill()
            raise AssertionError(f"not subscribed: {line!r} {self.process.communicate()}")

    def messages(self) -> list[dict[str, typing.Any]]:
        out, err = self.process.communicate(timeout=30)
        assert self.process.returncode == 0, err
        return [json.loads(line) for line in out.splitlines()]

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def package_message(topic: str, data: object, **extra: object) -> dict[str, object]:
    """A message as the package hands it over (no ``createdAt``)."""
    return {"channel": "chat", "topic": topic, "data": data, "kind": "data", "envId": ENV_ID,
            **extra}


def test_the_js_package_gets_what_a_run_of_this_sdk_publishes(
        dev: DevServer, sdk: inngest.Inngest) -> None:
    subscriber = JsSubscriber(dev.url, "chat", ["msg", "done"], 3)
    try:
        subscriber.started()
        sdk.send_sync(inngest.Event(name="demo/chat"))
        received = subscriber.messages()
    finally:
        subscriber.close()
    for message in received:
        assert ISO_MS.fullmatch(message.pop("createdAt")), message
    assert [message["data"]["n"] for message in received] == [1, 2, 3]
    assert received[0] == package_message("msg", {"n": 1, "text": "<hi> & bye"})
    assert received[2] == package_message("done", {"n": 3})


def test_the_js_package_gets_what_the_js_sdk_and_this_sdk_publish(dev: DevServer) -> None:
    client = inngest.Inngest(app_id="realtime-peers", is_production=False,
                             api_base_url=dev.url, event_api_base_url=dev.url)
    js_publishes: list[dict[str, object]] = [
        {"topic": "js", "data": {"from": "js", "list": [1, "<b>"]}},
        {"topic": "elsewhere", "data": "not subscribed"},
        {"topic": "js", "data": "a string"},
    ]
    subscriber = JsSubscriber(dev.url, "chat", ["js", "py"], 3, js_publishes)
    try:
        subscriber.started()
        realtime.publish_sync(client, "chat", "py", {"from": "python", "text": "é & <i>"})
        received = subscriber.messages()
    finally:
        subscriber.close()
    for message in received:
        assert ISO_MS.fullmatch(message.pop("createdAt")), message
    assert sorted(received, key=lambda message: (message["topic"], str(message["data"]))) == [
        package_message("js", "a string"),
        package_message("js", {"from": "js", "list": [1, "<b>"]}),
        package_message("py", {"from": "python", "text": "é & <i>"}),
    ]


def test_the_websockets_package_subscribes_pings_and_closes(dev: DevServer) -> None:
    client = _websockets()
    url = f"ws{dev.url[4:]}/v1/realtime/connect?token={jwt(dev.url, 'chat', 't')}"
    with client.connect(url, subprotocols=["inngest"], open_timeout=5) as ws:
        assert ws.subprotocol is None  # offered, not chosen: as the dev server
        assert ws.response.headers["Sec-WebSocket-Accept"]
        assert "Sec-WebSocket-Extensions" not in ws.response.headers  # no compression
        assert ws.ping(b"are you there").wait(5)
        publish(dev.url, "channel=chat&topic=t", b'{"n" : 1}')
        assert without_time(json.loads(ws.recv(timeout=5))) == envelope("t", {"n": 1})
        ws.close(4000, "done here")
        assert (ws.close_code, ws.close_reason) == (4000, "done here")  # echoed


def test_the_websockets_package_authenticates_with_a_bearer_token(dev: DevServer) -> None:
    client = _websockets()
    token = jwt(dev.url, "chat", "t")
    with client.connect(f"ws{dev.url[4:]}/v1/realtime/connect", open_timeout=5,
                        additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        publish(dev.url, "channel=chat&topic=t", b"2")
        assert json.loads(ws.recv(timeout=5))["data"] == 2


def test_the_websockets_package_reads_a_too_big_message_s_close(dev: DevServer) -> None:
    client = _websockets()
    exceptions = pytest.importorskip("websockets.exceptions")
    url = f"ws{dev.url[4:]}/v1/realtime/connect?token={jwt(dev.url, 'chat', 't')}"
    with client.connect(url, open_timeout=5) as ws:
        ws.send(json.dumps({"kind": "sub", "data": "x" * 32768}))
        with pytest.raises(exceptions.ConnectionClosedError) as closed:
            ws.recv(timeout=5)
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        1009, "read limited at 32769 bytes")


def test_the_websockets_package_sends_a_message_in_fragments(dev: DevServer) -> None:
    client = _websockets()
    url = f"ws{dev.url[4:]}/v1/realtime/connect?token={jwt(dev.url, 'c1', 't1')}"
    with client.connect(url, open_timeout=5) as ws:
        text = json.dumps({"kind": "sub", "data": jwt(dev.url, "c2", "t2")})
        ws.send(text[i:i + 7] for i in range(0, len(text), 7))
        assert ws.ping().wait(5)  # the pong comes after the sub is read
        publish(dev.url, "channel=c2&topic=t2", b"2")
        assert json.loads(ws.recv(timeout=5))["data"] == 2


class PageServer:
    """A page of another origin (a port of its own), as a web app's would be."""

    def __init__(self) -> None:
        page = b"<!doctype html><title>realtime peer</title>"

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Opens a WebSocket and an EventSource to the engine; what they get lands in ``window.got``.
SUBSCRIBE_SCRIPT = """
window.got = []; window.opened = 0;
const ws = new WebSocket(arguments[0]);
ws.onopen = () => { window.opened += 1; };
ws.onmessage = (event) => window.got.push(["ws", JSON.parse(event.data)]);
ws.onerror = () => window.got.push(["ws", "error"]);
const sse = new EventSource(arguments[1]);
sse.onopen = () => { window.opened += 1; };
sse.onmessage = (event) => window.got.push(["sse", JSON.parse(event.data)]);
sse.onerror = () => window.got.push(["sse", "error"]);
"""


@pytest.fixture
def chromium() -> typing.Iterator[typing.Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--no-first-run"):
        options.add_argument(argument)
    service = webdriver.chrome.service.Service(driver_path)  # no Selenium Manager download
    driver = webdriver.Chrome(options=options, service=service)
    yield driver
    driver.quit()


def test_a_browser_page_subscribes_over_websocket_and_event_source(
        dev: DevServer, chromium: typing.Any) -> None:
    page = PageServer()
    try:
        chromium.get(page.url)
        token = jwt(dev.url, "chat", "t")
        chromium.execute_script(SUBSCRIBE_SCRIPT, f"ws{dev.url[4:]}/v1/realtime/connect?token="
                                f"{token}", f"{dev.url}/v1/realtime/sse?token={token}")
        wait(lambda: chromium.execute_script("return window.opened == 2 || window.got.length"))
        publish(dev.url, "channel=chat&topic=t", b'{"n": 1}')
        wait(lambda: len(chromium.execute_script("return window.got")) >= 2 or None)
        got = chromium.execute_script("return window.got")
    finally:
        page.close()
    assert sorted((name, message if message == "error" else without_time(message))
                  for name, message in got) == [
        ("sse", envelope("t", {"n": 1})), ("ws", envelope("t", {"n": 1}))]
