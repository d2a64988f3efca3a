"""Browser tests of the engine's console: Debian's Chromium, driven by Selenium, and Firefox,
driven over WebDriver BiDi (bidi.py).

The engine runs in process on a free port with a real app served by this SDK (demo_app).
Without /usr/bin/chromium and /usr/bin/chromedriver the Chromium tests (the ``browser``
fixture) are skipped, saying so; without firefox-esr or firefox on PATH, or without the
websockets package, the Firefox tests (the ``firefox`` fixture) are.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import typing

import pytest
import urllib3

from demo_app import Demo

if typing.TYPE_CHECKING:
    from bidi import Firefox

CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONSOLE_CHROMEDRIVER", "/usr/bin/chromedriver")
FIREFOX = (os.environ.get("CONSOLE_FIREFOX") or shutil.which("firefox-esr")
           or shutil.which("firefox"))
WAIT_S = 20


def _chromium_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return (f"{path} not found: install Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    return None


def _firefox_missing() -> str | None:
    if FIREFOX is None:
        return ("neither firefox-esr nor firefox is on PATH: install one "
                "(apt-get install -y firefox-esr) or set CONSOLE_FIREFOX")
    if not os.access(FIREFOX, os.X_OK):
        return f"CONSOLE_FIREFOX={FIREFOX} is not an executable"
    if importlib.util.find_spec("websockets") is None:
        return "the websockets package is missing: run tox -e console, which installs it"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = {"browser": _chromium_missing(), "firefox": _firefox_missing()}
    for item in items:
        for fixture, reason in missing.items():
            if reason is not None and fixture in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def demo() -> typing.Iterator[Demo]:
    running = Demo()
    yield running
    running.close()


@pytest.fixture(scope="session")
def browser() -> typing.Iterator[typing.Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1400,900", "--no-first-run"):
        options.add_argument(argument)
    # An explicit driver path: Selenium Manager is skipped, nothing is downloaded.
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_S)
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def firefox() -> typing.Iterator[Firefox]:
    import bidi  # only here: websockets may be missing, and then these tests are skipped

    assert FIREFOX is not None
    browser = bidi.Firefox(FIREFOX)
    yield browser
    browser.close()


class Api:
    """The engine's GraphQL, for what a test checks behind the page."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = urllib3.PoolManager()

    def gql(self, query: str, **variables: object) -> dict[str, typing.Any]:
        response = self.http.request(
            "POST", f"{self.url}/v0/gql", body=json.dumps({"query": query, "variables": variables}),
            headers={"content-type": "application/json"})
        body = json.loads(response.data)
        assert not body.get("errors"), body
        return dict(body["data"])

    def runs_of_event(self, event_id: str) -> list[dict[str, typing.Any]]:
        event = self.gql("query E($id: ID!) { event(query: {eventId: $id}) { "
                         "functionRuns { id status } } }", id=event_id)["event"]
        return list(event["functionRuns"] or [])

    def run(self, run_id: str) -> dict[str, typing.Any]:
        return dict(self.gql("query R($id: String!) { run(runID: $id) { id status output "
                             "triggerIDs } }", id=run_id)["run"])


@pytest.fixture(scope="session")
def api(demo: Demo) -> Api:
    return Api(demo.url)
