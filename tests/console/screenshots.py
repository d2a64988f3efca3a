"""Regenerate the console screenshots in docs/img/ (the README shows them).

Run ``python tests/console/screenshots.py`` with selenium installed and Debian's chromium and
chromium-driver (apt-get install -y chromium chromium-driver). It starts the engine and the
demo app of the browser tests, sends a few events, and saves the runs list, a run's
timeline and a failed run's attempts as PNG files.
"""

from __future__ import annotations

import os
import sys
import time

from conftest import CHROMEDRIVER, CHROMIUM, Api
from demo_app import Demo
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
           click: str | None = None) -> None:
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


def main() -> int:
    os.makedirs(OUT, exist_ok=True)
    demo = Demo()
    api = Api(demo.url)
    browser = _browser()
    try:
        order = demo.send("shop/order.created", {
            "email": "ada@example.com",
            "items": [{"sku": "tea", "price": 4}, {"sku": "cup", "price": 9}]})
        charge = demo.send("shop/card.charge", {"amount": 42})
        demo.send("shop/signup", {"email": "grace@example.com"})
        remind = demo.send("shop/remind", {"in": "1d"})
        for who in ("ada", "grace"):
            demo.send("shop/greet", {"who": who})
        order_run, charge_run = _run_of(api, order), _run_of(api, charge)
        _run_of(api, remind, done=False)
        _shoot(browser, f"{demo.url}/#/runs", "console-runs.png", "tr[data-run-id]")
        _shoot(browser, f"{demo.url}/#/runs/{order_run}", "console-run.png",
               ".span-row", click='.span-row[data-name="book-shipment"]')
        _shoot(browser, f"{demo.url}/#/runs/{charge_run}", "console-failed-run.png",
               ".span-row", click='.span-row[data-name="charge"]')
    finally:
        browser.quit()
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
