"""The console in a real headless Firefox (WebDriver BiDi, see bidi.py): the main pages work and
no page logs a JavaScript error."""

from __future__ import annotations

import socket
import typing

import pytest
from conftest import WAIT_S, Api
from demo_app import Demo
from test_console import run_of

if typing.TYPE_CHECKING:
    from bidi import Firefox

pytestmark = pytest.mark.timeout(60)

# Page helpers, run in the page: each answers null until what it looks for is there.
TEXT = "(css) => document.querySelector(css)?.innerText ?? null"
BADGE = "(css) => document.querySelector(`${css} .badge`)?.dataset.status ?? null"
BADGE_IS = f"(css, status) => ({BADGE})(css) === status"


@pytest.fixture(autouse=True)
def no_javascript_errors(firefox: Firefox) -> typing.Iterator[None]:
    firefox.errors()  # what an earlier test left is that test's to report
    yield
    assert firefox.errors() == []


def open_page(firefox: Firefox, demo: Demo, fragment: str) -> None:
    firefox.navigate(f"{demo.url}/{fragment}")
    firefox.until("() => document.querySelector('main#view > *:not(p.muted)') !== null",
                  what=f"{fragment} drawn", timeout=WAIT_S)


def wait_text(firefox: Firefox, css: str, expected: str) -> str:
    """The text of ``css`` once it contains ``expected``."""
    return str(firefox.until(
        "(css, expected) => { const text = document.querySelector(css)?.innerText ?? '';"
        " return text.includes(expected) ? text : null; }",
        css, expected, what=f"{expected!r} in {css}", timeout=WAIT_S))


def click(firefox: Firefox, css: str) -> None:
    firefox.until("(css) => { const e = document.querySelector(css); e?.click(); return !!e; }",
                  css, what=f"a click on {css}", timeout=WAIT_S)


def fill(firefox: Firefox, css: str, value: str) -> None:
    """Type ``value`` into a field as the page sees it: the value, then an input event."""
    firefox.until("(css, value) => { const e = document.querySelector(css); if (!e) return false;"
                  " e.value = value; e.dispatchEvent(new Event('input', {bubbles: true}));"
                  " return true; }", css, value, what=f"the field {css}", timeout=WAIT_S)


def test_the_runs_list_shows_the_runs(firefox: Firefox, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/greet", {"who": "firefox"}), "COMPLETED")
    open_page(firefox, demo, "#/runs")
    row = f'tr[data-run-id="{run_id}"]'
    firefox.until(BADGE_IS, row, "COMPLETED", what="the completed run's row", timeout=WAIT_S)
    text = firefox.call(TEXT, row)
    assert "Greet" in text and "shop/greet" in text


def test_a_run_shows_its_timeline_and_output(firefox: Firefox, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/order.created", {}), "COMPLETED")
    open_page(firefox, demo, f"#/runs/{run_id}")
    steps = firefox.until(
        "() => [...document.querySelectorAll('.span-row[data-name]')]"
        ".map((row) => row.dataset.name).filter((name) => name !== 'execute')",
        what="the timeline", timeout=WAIT_S)
    for step in ("price-order", "wait-for-fraud-window", "email-receipt", "book-shipment"):
        assert step in steps
    assert firefox.call(BADGE, "#run-status") == "COMPLETED"
    output = wait_text(firefox, ".details .json", "receipt for 4")
    assert '"carrier": "post"' in output and "60 items" in output


def test_a_failed_run_shows_the_error_and_stack(firefox: Firefox, demo: Demo, api: Api) -> None:
    run_id = run_of(api, demo.send("shop/card.charge", {"amount": 9}), "FAILED")
    open_page(firefox, demo, f"#/runs/{run_id}")
    click(firefox, '.span-row[data-name="charge"]')
    attempts = firefox.until(
        "() => document.querySelector('.details h2')?.innerText === 'charge'"
        " && [...document.querySelectorAll('.details .attempt')].map((a) => ({"
        " name: a.querySelector('.error-name')?.innerText,"
        " message: a.querySelector('.error-message')?.innerText,"
        " stack: a.querySelector('.stack')?.innerText }))",
        what="the step's attempts", timeout=WAIT_S)
    assert len(attempts) == 3
    for attempt in attempts:
        assert attempt["name"] == "PaymentDeclined"
        assert attempt["message"] == "card declined for 9"
        assert "Traceback" in attempt["stack"] and "raise PaymentDeclined" in attempt["stack"]
    assert firefox.call(BADGE, "#run-status") == "FAILED"


def test_send_an_event_from_the_form_and_see_its_run(firefox: Firefox, demo: Demo,
                                                     api: Api) -> None:
    open_page(firefox, demo, "#/events")
    fill(firefox, "#send-name", "shop/greet")
    fill(firefox, "#send-data", '{"who": "fox"')
    wait_text(firefox, "#send-problem", "not valid JSON")
    assert firefox.call("() => document.querySelector('#send-event').disabled") is True
    fill(firefox, "#send-data", '{"who": "fox"}')
    firefox.until("() => !document.querySelector('#send-event').disabled",
                  what="the send button enabled", timeout=WAIT_S)
    click(firefox, "#send-event")
    event_id = str(firefox.until(TEXT, "#flash a", what="the sent event's id", timeout=WAIT_S))
    run_id = run_of(api, event_id)
    click(firefox, 'a[href="#/runs"]')
    row = f'tr[data-run-id="{run_id}"]'
    firefox.until(BADGE_IS, row, "COMPLETED", what="the new run completed", timeout=WAIT_S)
    click(firefox, f"{row} a")
    wait_text(firefox, ".details .json", "hello fox")


def test_the_apps_page_says_why_an_app_is_unreachable(firefox: Firefox, demo: Demo,
                                                      api: Api) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the with ends: nothing listens there
    open_page(firefox, demo, "#/apps")
    fill(firefox, "#app-url", f"http://127.0.0.1:{port}/api/inngest")
    click(firefox, "#add-app")
    card = f'article[data-url="http://localhost:{port}/api/inngest"]'
    try:
        assert wait_text(firefox, f"{card} .sync-status", "Not synced") == "Not synced"
        reason = wait_text(firefox, f"{card} .sync-error", "unreachable")
        assert "could not connect" in reason
    finally:
        app_id = firefox.call("(css) => document.querySelector(css)?.dataset.appId ?? null", card)
        if app_id:  # the engine is shared with the other tests
            api.gql("mutation D($id: String!) { deleteApp(id: $id) }", id=app_id)


def test_no_page_logs_a_javascript_error(firefox: Firefox, demo: Demo, api: Api) -> None:
    event_id = demo.send("shop/signup", {})
    run_id = run_of(api, event_id, "COMPLETED")
    pages = {"#/runs": f'tr[data-run-id="{run_id}"]',
             f"#/runs/{run_id}": '.span-row[data-name="call-greet"]',
             "#/events": "#send-name", f"#/events/{event_id}": f'a[href="#/runs/{run_id}"]',
             "#/functions": 'article[data-slug="shop-greet"]', "#/apps": "article.app-card.ok"}
    for fragment, drawn in pages.items():
        firefox.navigate(f"{demo.url}/{fragment}")
        firefox.until("(css) => document.querySelector(css) !== null", drawn,
                      what=f"{fragment} drawn", timeout=WAIT_S)
        assert firefox.errors() == [], fragment
