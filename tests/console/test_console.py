"""What a user does in the console, in a real headless Chromium."""

from __future__ import annotations

import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import typing

import pytest
from conftest import WAIT_S, Api
from demo_app import Demo
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

pytestmark = pytest.mark.timeout(120)
T = typing.TypeVar("T")


def until(browser: WebDriver, check: typing.Callable[[], T], what: str) -> T:
    """Wait for ``check`` to return something truthy (exceptions count as not yet)."""
    def probe(_: object) -> T | bool:
        try:
            return check() or False
        except Exception:
            return False

    return typing.cast(T, WebDriverWait(browser, WAIT_S, 0.1).until(probe, what))


def find(browser: WebDriver, css: str) -> WebElement:
    return until(browser, lambda: browser.find_element(By.CSS_SELECTOR, css), f"element {css}")


def open_page(browser: WebDriver, demo: Demo, fragment: str) -> None:
    browser.get(f"{demo.url}/{fragment}")
    find(browser, "main#view > *:not(p.muted)")


def click(browser: WebDriver, css: str) -> None:
    """Click ``css``, again if a refresh redrew it between finding and clicking."""
    until(browser, lambda: browser.find_element(By.CSS_SELECTOR, css).click() or True,
          f"a click on {css}")


def run_of(api: Api, event_id: str, status: str | None = None) -> str:
    def probe() -> str | None:
        runs = api.runs_of_event(event_id)
        if runs and (status is None or runs[0]["status"] == status):
            return str(runs[0]["id"])
        return None

    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"no {status or ''} run for event {event_id}")


def badge(browser: WebDriver, css: str) -> str:
    return str(browser.find_element(By.CSS_SELECTOR, f"{css} .badge").get_attribute(
        "data-status"))


def test_send_an_event_and_watch_its_run_complete(browser: WebDriver, demo: Demo,
                                                  api: Api) -> None:
    open_page(browser, demo, "#/events")
    name, data = find(browser, "#send-name"), find(browser, "#send-data")
    send = find(browser, "#send-event")
    name.send_keys("shop/greet")
    data.clear()
    data.send_keys('{"who": "browser"')
    until(browser, lambda: "not valid JSON" in find(browser, "#send-problem").text,
          "the JSON error")
    assert not send.is_enabled()
    data.send_keys("}")
    until(browser, send.is_enabled, "the send button enabled")
    send.click()
    link = find(browser, "#flash a")
    event_id = link.text
    # The runs page picks the new run up by itself, then shows it complete.
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("g", "r")
    run_id = run_of(api, event_id)
    row = f'tr[data-run-id="{run_id}"]'
    until(browser, lambda: badge(browser, row) == "COMPLETED", "the run completed in the list")
    row_text = browser.find_element(By.CSS_SELECTOR, row).text
    assert "Greet" in row_text and "shop/greet" in row_text
    browser.find_element(By.CSS_SELECTOR, row).send_keys(Keys.ENTER)
    until(browser, lambda: "hello browser" in find(browser, ".details .json").text,
          "the run's output")
    assert browser.current_url.endswith(f"#/runs/{run_id}")


def test_a_failed_run_shows_each_attempt_error_and_stack(browser: WebDriver, demo: Demo,
                                                         api: Api) -> None:
    run_id = run_of(api, demo.send("shop/card.charge", {"amount": 7}), "FAILED")
    open_page(browser, demo, f"#/runs/{run_id}")
    assert badge(browser, "#run-status") == "FAILED"
    find(browser, '.span-row[data-name="charge"]').click()
    attempts = until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, ".details .attempt")
                     if find(browser, ".details h2").text == "charge" else None, "the attempts")
    assert len(attempts) == 3
    assert [a.find_element(By.CSS_SELECTOR, ".error-name").text for a in attempts] == [
        "PaymentDeclined"] * 3
    for attempt in attempts:
        assert attempt.find_element(By.CSS_SELECTOR, ".error-message").text == \
            "card declined for 7"
        stack = attempt.find_element(By.CSS_SELECTOR, ".stack").text
        assert "Traceback" in stack and "raise PaymentDeclined" in stack
    # Numbered from 1, with the SDK's zero-based ctx.attempt beside each.
    heads = [a.find_element(By.CSS_SELECTOR, ".attempt-head").text for a in attempts]
    for number, head in enumerate(heads):
        assert head.startswith(f"Attempt {number + 1} ") and f"ctx.attempt {number}" in head
    rows = browser.find_elements(By.CSS_SELECTOR, ".span-row.depth-2 .name")
    assert [row.text for row in rows][:3] == ["Attempt 1", "Attempt 2", "Attempt 3"]
    # The function's own failed call (named as the dev server names it) says what it is.
    click(browser, '.span-row[data-name="function error"]')
    until(browser, lambda: "failed the run" in find(browser, ".details .note").text,
          "what the function error span is")


def test_cancel_a_sleeping_run(browser: WebDriver, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/remind", {}))
    open_page(browser, demo, f"#/runs/{run_id}")
    note = until(browser, lambda: find(browser, '.span-row[data-name="sleep-a-day"] .sub').text,
                 "the sleep's deadline")
    assert note.startswith("sleeps until ") and ("(in 1d)" in note or "(in 23h" in note)
    find(browser, "#cancel-run").click()
    until(browser, lambda: badge(browser, "#run-status") == "CANCELLED", "the run cancelled")
    assert api.run(run_id)["status"] == "CANCELLED"
    assert not browser.find_elements(By.CSS_SELECTOR, "#cancel-run")


def test_a_skipped_run_says_why_and_links_the_run_in_progress(browser: WebDriver, demo: Demo,
                                                              api: Api) -> None:
    counting = run_of(api, demo.send("shop/stocktake", {}))
    skipped_event = demo.send("shop/stocktake", {})
    open_page(browser, demo, f"#/events/{skipped_event}")
    link = find(browser, ".run-links a")
    assert badge(browser, ".run-links") == "SKIPPED"
    link.click()
    until(browser, lambda: badge(browser, "#run-status") == "SKIPPED", "the skipped run's page")
    assert find(browser, "#skip-reason").text == "another run of this singleton was in progress"
    assert find(browser, "#skip-existing").text == counting
    assert find(browser, ".span-row").get_attribute("data-status") == "SKIPPED"
    assert not browser.find_elements(By.CSS_SELECTOR, "#cancel-run")
    click(browser, "#skip-existing")
    until(browser, lambda: browser.current_url.endswith(f"#/runs/{counting}"), "the run kept")


def test_rerun_starts_a_new_run_from_the_same_event(browser: WebDriver, demo: Demo,
                                                    api: Api) -> None:
    event_id = demo.send("shop/greet", {"who": "again"})
    first = run_of(api, event_id, "COMPLETED")
    open_page(browser, demo, f"#/runs/{first}")
    find(browser, "#rerun").click()
    until(browser, lambda: first not in browser.current_url, "the new run's page")
    second = browser.current_url.rsplit("/", 1)[1]
    until(browser, lambda: badge(browser, "#run-status") == "COMPLETED", "the rerun completed")
    rerun = api.run(second)
    assert rerun["triggerIDs"] == [event_id]
    assert json.loads(rerun["output"]) == "hello again"
    assert {run["id"] for run in api.runs_of_event(event_id)} == {first, second}


def test_rerun_from_a_step_skips_the_steps_before_it(browser: WebDriver, demo: Demo,
                                                     api: Api) -> None:
    event_id = demo.send("shop/order.paid", {"order": 42})
    first = run_of(api, event_id, "COMPLETED")
    open_page(browser, demo, f"#/runs/{first}")
    click(browser, '.span-row[data-name="pack-box"]')
    until(browser, lambda: find(browser, ".details h2").text == "pack-box", "pack-box's details")
    find(browser, "#rerun-step").click()
    until(browser, lambda: first not in browser.current_url, "the new run's page")
    second = browser.current_url.rsplit("/", 1)[1]
    until(browser, lambda: badge(browser, "#run-status") == "COMPLETED", "the rerun completed")
    assert "Rerun started from pack-box" in find(browser, "#flash").text
    assert find(browser, ".run-head code.copy").text == second
    names = [row.get_attribute("data-name")
             for row in browser.find_elements(By.CSS_SELECTOR, ".span-row.depth-1")]
    assert names == ["pack-box", "print-label", "function success"]
    assert [step for run, step in demo.executed if run == second] == ["pack-box", "print-label"]
    rerun = api.run(second)
    assert rerun["triggerIDs"] == [event_id]
    assert json.loads(rerun["output"]) == {"stock": {"shelf": "B4"}, "box": {"box": "small"},
                                           "label": "label-0042"}


def test_rerun_from_a_step_shows_the_engine_s_refusal(browser: WebDriver, demo: Demo,
                                                      api: Api) -> None:
    first = run_of(api, demo.send("shop/order.paid", {"order": 43}), "COMPLETED")
    open_page(browser, demo, f"#/runs/{first}")
    click(browser, '.span-row[data-name="print-label"]')
    until(browser, lambda: find(browser, ".details h2").text == "print-label", "its details")
    # As if the step were gone from the run: the page asks for a step id the engine lacks.
    browser.execute_script("""
      const send = window.fetch;
      window.fetch = (url, init) => send(url, {...init,
        body: init.body.replace(/"stepID":"[^"]*"/, '"stepID":"no-such-step"')});""")
    find(browser, "#rerun-step").click()
    problem = until(browser, lambda: find(browser, "#rerun-step-problem").text, "the refusal")
    assert problem == ("Could not rerun from this step: error reconstructing input state: "
                       "rerun step not found")
    assert browser.current_url.endswith(f"#/runs/{first}")
    assert find(browser, "#rerun-step").is_enabled()
    assert [run["id"] for run in api.runs_of_event(api.run(first)["triggerIDs"][0])] == [first]


def test_a_running_run_offers_no_rerun_from_a_step(browser: WebDriver, demo: Demo,
                                                   api: Api) -> None:
    run_id = run_of(api, demo.send("shop/remind", {}))
    open_page(browser, demo, f"#/runs/{run_id}")
    click(browser, '.span-row[data-name="sleep-a-day"]')
    until(browser, lambda: find(browser, ".details h2").text == "sleep-a-day", "its details")
    assert not browser.find_elements(By.CSS_SELECTOR, "#rerun-step")
    api.gql("mutation C($id: ULID!) { cancelRun(runID: $id) { id } }", id=run_id)


def test_invoke_a_function_with_data(browser: WebDriver, demo: Demo, api: Api) -> None:
    open_page(browser, demo, "#/functions")
    card = find(browser, 'article[data-slug="shop-greet"]')
    card.find_element(By.CSS_SELECTOR, "summary").click()
    box = card.find_element(By.CSS_SELECTOR, "textarea")
    box.clear()
    box.send_keys('["not an object"]')
    invoke = card.find_element(By.CSS_SELECTOR, "button.invoke")
    until(browser, lambda: not invoke.is_enabled(), "the invoke button disabled")
    box.clear()
    box.send_keys('{"who": "invoker"}')
    invoke.click()
    until(browser, lambda: "#/runs?function=" in browser.current_url, "the function's runs")

    def invoked_run() -> WebElement | None:
        for row in browser.find_elements(By.CSS_SELECTOR, "tr[data-run-id]"):
            if "inngest/function.invoked" in row.text and "Completed" in row.text:
                return row
        return None

    row = until(browser, invoked_run, "the invoked run completed")
    run_id = str(row.get_attribute("data-run-id"))
    assert json.loads(api.run(run_id)["output"]) == "hello invoker"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_app_shows_why_and_can_be_removed(browser: WebDriver, demo: Demo) -> None:
    port = _closed_port()
    open_page(browser, demo, "#/apps")
    find(browser, "#app-url").send_keys(f"http://127.0.0.1:{port}/api/inngest")
    url = f"http://localhost:{port}/api/inngest"  # as the engine spells local hosts
    find(browser, "#add-app").click()
    card = f'article[data-url="{url}"]'
    assert find(browser, f"{card} .sync-status").text == "Not synced"
    reason = find(browser, f"{card} .sync-error").text
    assert "unreachable" in reason and "could not connect" in reason
    # The long URL title wraps: its badge stays inside the card, on a laptop's screen too.
    browser.set_window_size(1280, 900)
    try:
        box, status = find(browser, card).rect, find(browser, f"{card} .sync-status").rect
        assert status["x"] + status["width"] <= box["x"] + box["width"]
    finally:
        browser.set_window_size(1400, 900)
    find(browser, f"{card} button.resync").click()
    until(browser, lambda: "Sync failed: unreachable" in find(browser, "#flash").text,
          "the resync's result")
    find(browser, f"{card} button.remove").click()
    browser.switch_to.alert.accept()
    until(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, card), "the app removed")
    assert browser.find_elements(By.CSS_SELECTOR, "article.app-card.ok")  # the shop app stays


def test_functions_show_their_limits_in_words(browser: WebDriver, demo: Demo) -> None:
    open_page(browser, demo, "#/functions")
    card = 'article.fn-card[data-slug="shop-process-order"]'
    assert find(browser, f"{card} .concurrency").text == "5 at a time"


def test_a_run_link_can_be_shared_and_ids_can_be_searched(browser: WebDriver, demo: Demo,
                                                          api: Api) -> None:
    event_id = demo.send("shop/greet", {"who": "link"})
    run_id = run_of(api, event_id, "COMPLETED")
    open_page(browser, demo, f"#/runs/{run_id}")
    assert find(browser, ".run-head h1").text == "Greet"
    open_page(browser, demo, "#/apps")
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("/")
    browser.switch_to.active_element.send_keys(event_id, Keys.ENTER)
    until(browser, lambda: browser.current_url.endswith(f"#/events/{event_id}"), "event page")
    find(browser, f'.run-links a[href="#/runs/{run_id}"]')
    browser.find_element(By.CSS_SELECTOR, "body").send_keys("/")
    browser.switch_to.active_element.send_keys(run_id, Keys.ENTER)
    until(browser, lambda: browser.current_url.endswith(f"#/runs/{run_id}"), "run page")


def test_a_page_on_another_origin_cannot_send_events(browser: WebDriver, demo: Demo,
                                                     api: Api) -> None:
    page = (f'<script>fetch("{demo.url}/e/key", {{method: "POST", mode: "no-cors", '
            'body: JSON.stringify({name: "evil/event", data: {}})})'
            '.finally(() => { document.title = "sent"; });</script>').encode()

    class Page(http.server.BaseHTTPRequestHandler):
        timeout = 5  # Chrome's spare connections must not hold the server

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    other.daemon_threads = True
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        browser.get(f"http://127.0.0.1:{other.server_address[1]}/")
        until(browser, lambda: browser.title == "sent", "the page's request")
    finally:
        other.shutdown()
        other.server_close()
    names = {e["name"] for e in api.gql("{ events(query: {}) { name } }")["events"]}
    assert "evil/event" not in names


def test_filter_runs_by_status_and_function(browser: WebDriver, demo: Demo, api: Api) -> None:
    failed = run_of(api, demo.send("shop/card.charge", {"amount": 1}), "FAILED")
    greeted = run_of(api, demo.send("shop/greet", {"who": "filter"}), "COMPLETED")
    open_page(browser, demo, "#/runs")
    find(browser, f'tr[data-run-id="{greeted}"]')
    Select(find(browser, 'select[name="status"]')).select_by_value("FAILED")
    until(browser, lambda: "status=FAILED" in browser.current_url, "the filter in the URL")

    def statuses() -> set[str] | None:
        rows = browser.find_elements(By.CSS_SELECTOR, "tr[data-run-id] .badge")
        found = {str(row.get_attribute("data-status")) for row in rows}
        return found or None

    # Until the filtered page is drawn, the rows are the unfiltered page's.
    until(browser, lambda: statuses() == {"FAILED"}, "filtered rows")
    find(browser, f'tr[data-run-id="{failed}"]')
    Select(find(browser, 'select[name="status"]')).select_by_value("")
    find(browser, f'tr[data-run-id="{greeted}"]')  # the unfiltered page is drawn
    Select(find(browser, 'select[name="function"]')).select_by_visible_text("Greet")
    until(browser, lambda: browser.find_elements(By.CSS_SELECTOR, f'tr[data-run-id="{greeted}"]')
          and not browser.find_elements(By.CSS_SELECTOR, f'tr[data-run-id="{failed}"]'),
          "only the function's runs")


def test_filter_runs_by_a_custom_time_range(browser: WebDriver, demo: Demo, api: Api) -> None:
    greeted = run_of(api, demo.send("shop/greet", {"who": "custom range"}), "COMPLETED")
    open_page(browser, demo, "#/runs")
    Select(find(browser, 'select[name="range"]')).select_by_value("custom")

    def set_time(name: str, value: str) -> None:
        field = find(browser, f'input[name="{name}"]')
        browser.execute_script("arguments[0].value = arguments[1];"
                               "arguments[0].dispatchEvent(new Event('change'))", field, value)

    set_time("until", "2020-01-01T00:00")
    until(browser, lambda: "until=2020-01-01" in browser.current_url, "the range in the URL")
    until(browser, lambda: find(browser, "#run-count").text == "0 runs", "no run before 2020")
    assert find(browser, "#runs-body .empty").text.startswith("No runs match these filters")
    # Each change redraws the filters: the next field is looked up once the URL has this one.
    set_time("from", "2020-01-01T00:00")
    until(browser, lambda: "from=2020-01-01" in browser.current_url, "the start in the URL")
    set_time("until", "")
    until(browser, lambda: "until" not in browser.current_url, "no end in the URL")
    find(browser, f'tr[data-run-id="{greeted}"]')
    assert "from=2020-01-01" in browser.current_url
    Select(find(browser, 'select[name="range"]')).select_by_value("1h")
    until(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, 'input[name="from"]'),
          "the custom fields gone with a preset")
    assert "from=" not in browser.current_url


def test_replay_an_event(browser: WebDriver, demo: Demo, api: Api) -> None:
    event_id = demo.send("shop/greet", {"who": "replayed"})
    run_of(api, event_id, "COMPLETED")
    open_page(browser, demo, f"#/events/{event_id}")
    find(browser, "#replay").click()
    until(browser, lambda: event_id not in browser.current_url, "the new event's page")
    copy = browser.current_url.rsplit("/", 1)[1]
    run_id = run_of(api, copy, "COMPLETED")
    assert json.loads(api.run(run_id)["output"]) == "hello replayed"
    find(browser, f'.run-links a[href="#/runs/{run_id}"]')


def test_a_wait_shows_its_deadline_and_the_event_that_ended_it(browser: WebDriver, demo: Demo,
                                                               api: Api) -> None:
    run_id = run_of(api, demo.send("shop/approval.requested", {"order": 12}))
    open_page(browser, demo, f"#/runs/{run_id}")
    row = '.span-row[data-name="wait-for-approval"]'
    note = until(browser, lambda: find(browser, f"{row} .sub").text, "the wait's description")
    assert note.startswith("waits for shop/approved if async.data.order == event.data.order")
    assert "until" in note and ("(in 59m" in note or "(in 1h" in note)
    approved = demo.send("shop/approved", {"order": 12})
    until(browser, lambda: badge(browser, "#run-status") == "COMPLETED", "the run completed")
    find(browser, f'{row} .sub a[href="#/events/{approved}"]')


def test_parallel_steps_are_never_queued_after_they_started(browser: WebDriver, demo: Demo,
                                                            api: Api) -> None:
    run_id = run_of(api, demo.send("shop/order.created", {}), "COMPLETED")
    open_page(browser, demo, f"#/runs/{run_id}")
    for name in ("price-order", "wait-for-fraud-window", "email-receipt", "book-shipment",
                 "function success"):
        click(browser, f'.span-row[data-name="{name}"]')

        def queue_delay(step: str = name) -> str | None:
            if find(browser, ".details h2").text != step:
                return None
            facts = browser.find_elements(By.CSS_SELECTOR, ".details .facts > *")
            return dict(zip(*[iter(fact.text for fact in facts)] * 2))["Queue delay"]

        delay = until(browser, queue_delay, f"{name}'s details")
        assert delay.endswith("ms") and not delay.startswith("-"), (name, delay)


def test_two_steps_with_one_name_show_their_own_details(browser: WebDriver, demo: Demo,
                                                        api: Api) -> None:
    run_id = run_of(api, demo.send("shop/nap", {}), "RUNNING")
    open_page(browser, demo, f"#/runs/{run_id}")

    def notes() -> list[str] | None:
        rows = browser.find_elements(By.CSS_SELECTOR, '.span-row[data-name="nap"] .sub')
        found = [row.text for row in rows]
        return found if len(found) == 2 else None

    first, second = until(browser, notes, "both naps described")
    assert first.startswith("sleeps until") and "(in " not in first, first
    assert second.startswith("sleeps until") and "(in 1h" in second, second
    # The second nap was queued when the first ended, not while it slept.
    until(browser, lambda: browser.find_elements(
        By.CSS_SELECTOR, '.span-row[data-name="nap"]')[1].click() or True, "the second nap")

    def queue_delay() -> str | None:
        facts = browser.find_elements(By.CSS_SELECTOR, ".details .facts > *")
        texts = [fact.text for fact in facts]
        return dict(zip(*[iter(texts)] * 2)).get("Queue delay") if "Kind" in texts else None

    delay = until(browser, queue_delay, "the second nap's details")
    assert delay.endswith("ms") and not delay.startswith("-"), delay
    demo_cancel = "mutation C($id: ULID!) { cancelRun(runID: $id) { id } }"
    api.gql(demo_cancel, id=run_id)


def test_an_invoke_links_to_the_child_run(browser: WebDriver, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/signup", {}), "COMPLETED")
    open_page(browser, demo, f"#/runs/{run_id}")
    find(browser, '.span-row[data-name="call-greet"] a.child-run').click()
    until(browser, lambda: find(browser, ".run-head h1").text == "Greet", "the child run's page")
    child = browser.current_url.rsplit("/", 1)[1]
    assert json.loads(api.run(child)["output"]) == "hello new user"


def test_the_keyboard_walks_the_runs_list(browser: WebDriver, demo: Demo, api: Api) -> None:
    older = run_of(api, demo.send("shop/greet", {"who": "older"}), "COMPLETED")
    newer = run_of(api, demo.send("shop/greet", {"who": "newer"}), "COMPLETED")
    open_page(browser, demo, "#/runs")
    find(browser, f'tr[data-run-id="{older}"]')
    body = browser.find_element(By.CSS_SELECTOR, "body")
    body.send_keys("j")
    assert browser.switch_to.active_element.get_attribute("data-run-id") == newer
    browser.switch_to.active_element.send_keys("j")
    assert browser.switch_to.active_element.get_attribute("data-run-id") == older
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    until(browser, lambda: browser.current_url.endswith(f"#/runs/{older}"), "the run's page")
    find(browser, ".span-row")
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(browser, lambda: browser.current_url.endswith("#/runs"), "back to the list")


def test_a_link_to_a_missing_run_says_so(browser: WebDriver, demo: Demo) -> None:
    open_page(browser, demo, "#/runs/01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert find(browser, "#page-error").text == "run not found"


def test_a_run_can_be_linked_by_path(browser: WebDriver, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/greet", {"who": "path"}), "COMPLETED")
    browser.get(f"{demo.url}/runs/{run_id}")
    until(browser, lambda: find(browser, ".run-head h1").text == "Greet", "the run's page")
    assert browser.current_url == f"{demo.url}/#/runs/{run_id}"


def test_the_quickstart_prints_a_link_to_its_run(browser: WebDriver) -> None:
    script = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "quickstart.py")
    quickstart = subprocess.Popen([sys.executable, "-u", script, "--keep"],
                                  stdout=subprocess.PIPE, text=True)
    try:
        assert quickstart.stdout is not None
        link = None
        for line in quickstart.stdout:
            found = re.search(r"console: (http://\S+#/runs/\w+)", line)
            if found:
                link = found[1]
                break
        assert link, "the quickstart printed no console link"
        browser.get(link)
        until(browser, lambda: find(browser, ".run-head h1").text == "process-order",
              "the quickstart's run")
        assert badge(browser, "#run-status") == "COMPLETED"
        names = [row.get_attribute("data-name")
                 for row in browser.find_elements(By.CSS_SELECTOR, ".span-row.depth-1")]
        assert names == ["price-order", "wait-for-fraud-window", "email-receipt",
                         "book-shipment", "function success"]
        browser.get(link.split("#")[0])
        find(browser, "tr[data-run-id]")  # and the runs list, the page a new user lands on
    finally:
        quickstart.terminate()
        quickstart.wait(10)
