"""Browser tests of the engine's console: Debian's Chromium, driven by Selenium.

The engine runs in process on a free port with a real app served by this SDK (demo_app).
Without /usr/bin/chromium and /usr/bin/chromedriver every test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import typing

import pytest
import urllib3

from demo_app import Demo

CHROMIUM = os.environ.get("CONSOLE_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CONSOLE_CHROMEDRIVER", "/usr/bin/chromedriver")
WAIT_S = 20


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return (f"{path} not found: install Debian's chromium and chromium-driver "
                    "(apt-get install -y chromium chromium-driver)")
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    for item in items:
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
