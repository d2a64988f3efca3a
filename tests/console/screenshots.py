"""Regenerate the console screenshots in docs/img/ (the README shows them).

Run ``python tests/console/screenshots.py`` with selenium installed and Debian's chromium and
chromium-driver (apt-get install -y chromium chromium-driver). It starts the engine and the
demo app of the browser tests, sends a few events, and saves each page (runs, a run, a failed
run, a step to rerun from, events, an event, functions, apps with an unreachable one, a run in
dark mode) as PNG.
The demo app is imported from a copy in a temporary folder (``shop/demo_app.py``) and run from
there, so the stack traces in the pictures show that short path, not this checkout's.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
import types
import typing

from conftest import CHROMEDRIVER, CHROMIUM, Api
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "img")
SIZE = (1280, 800)


def _browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--hide-scrollbars", f"--window-size={SIZE[0]},{SIZE[1]}",
                     "--force-prefers-reduced-motion", "--blink-settings=preferredColorScheme=1"):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    # The window's size includes its frame; this makes the page itself SIZE.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": SIZE[0], "height": SIZE[1], "deviceScaleFactor": 1, "mobile": False})
    return browser


def _run_of(api: Api, event_id: str, done: bool = True) -> str:
    for _ in range(400):
        runs = api.runs_of_event(event_id)
        if runs and (not done or runs[0]["status"] not in ("QUEUED", "RUNNING")):
            return str(runs[0]["id"])
        time.sleep(0.05)
    raise RuntimeError(f"no run for {event_id}")


def _shoot(browser: webdriver.Chrome, url: str, name: str, ready: str,
           click: str | None = None, dark: bool = False) -> None:
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [
        {"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]})
    browser.get("about:blank")
    browser.get(url)
    deadline = time.monotonic() + 15
    while not browser.find_elements(By.CSS_SELECTOR, ready):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ready} never appeared on {url}")
        time.sleep(0.1)
    if click:
        browser.find_element(By.CSS_SELECTOR, click).click()
    time.sleep(0.8)
    path = os.path.abspath(os.path.join(OUT, name))
    browser.save_screenshot(path)
    print(path)


def _neutral_demo() -> type:
    """The demo app's module, loaded from ``<temp>/shop/demo_app.py`` under the short name
    ``shop/demo_app.py`` (the temp folder is the cwd, so tracebacks still show its lines)."""
    root = tempfile.mkdtemp()
    os.makedirs(os.path.join(root, "shop"))
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "demo_app.py")
    shutil.copy(source, os.path.join(root, "shop"))
    os.chdir(root)
    module = types.ModuleType("demo_app")
    sys.modules["demo_app"] = module  # replaces the checkout's copy conftest imported
    with open("shop/demo_app.py", encoding="utf-8") as file:
        exec(compile(file.read(), "shop/demo_app.py", "exec"), module.__dict__)
    return typing.cast(type, module.Demo)


def _unreachable_app(api: Api) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    api.gql("mutation A($url: String!) { createApp(input: {url: $url}) { id } }",
            url=f"http://127.0.0.1:{port}/api/inngest")


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    demo = _neutral_demo()()
    api = Api(demo.url)
    browser = _browser()
    try:
        order = demo.send("shop/order.created", {
            "email": "ada@example.com",
            "items": [{"sku": "tea", "price": 4}, {"sku": "cup", "price": 9}]})
        charge = demo.send("shop/card.charge", {"amount": 42})
        demo.send("shop/signup", {"email": "grace@example.com"})
        remind = demo.send("shop/remind", {"in": "1d"})
        paid = demo.send("shop/order.paid", {"order": 42})
        for who in ("ada", "grace"):
            demo.send("shop/greet", {"who": who})
        order_run, charge_run = _run_of(api, order), _run_of(api, charge)
        _run_of(api, remind, done=False)
        _shoot(browser, f"{demo.url}/#/runs", "console-runs.png", "tr[data-run-id]")
        _shoot(browser, f"{demo.url}/#/runs/{order_run}", "console-run.png",
               ".span-row", click='.span-row[data-name="book-shipment"]')
        _shoot(browser, f"{demo.url}/#/runs/{charge_run}", "console-failed-run.png",
               ".span-row", click='.span-row[data-name="charge"]')
        _shoot(browser, f"{demo.url}/#/runs/{_run_of(api, paid)}", "console-rerun-from-step.png",
               ".span-row", click='.span-row[data-name="pack-box"]')
        _shoot(browser, f"{demo.url}/#/events", "console-events.png", "tr[data-event-id]")
        _shoot(browser, f"{demo.url}/#/events/{order}", "console-event.png", ".card")
        _shoot(browser, f"{demo.url}/#/functions", "console-functions.png", "article.fn-card")
        _unreachable_app(api)
        _shoot(browser, f"{demo.url}/#/apps", "console-apps.png", "article.app-card")
        _shoot(browser, f"{demo.url}/#/runs/{order_run}", "console-run-dark.png",
               ".span-row", click='.span-row[data-name="wait-for-fraud-window"]', dark=True)
    finally:
        browser.quit()
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
