"""Cases for app syncs (``POST /fn/register`` as an SDK sends it): which apps a sync keeps
at its URL, apps synced without a URL, functions without an ID, syncs of no functions,
``DELETE /fn/remove``, and the rerun of a durable endpoint's run. Each syncs apps of its
own, at URLs no server can reach (or served by the case); they run in the last phase, so
the cases listing every app do not see them. They register into ``cases.CASES``."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
import time
import typing

from cases import (CASES, Answer, Case, Side, ids, ports, push_sync, settled_run, sleeping,
                   times)
from cases_hostile import _parsed
from cases_raw_protocol import RawApp, Reply, send_reply
from probe import Probe, wait_for

_LAST_PHASE = 4
_APPS = "{ apps { name url functionCount functions { slug name } } }"
_APPS_WITH_ERRORS = "{ apps { name url error functionCount connected } }"
_CREATE_APP = "mutation($url: String!) { createApp(input: {url: $url}) { id } }"


def _url(path: str) -> str:
    return f"http://127.0.0.1:1/api/sync-parity/{path}"


def _function(slug: str | None, name: str, step_url: str) -> dict[str, object]:
    function: dict[str, object] = {
        "name": name, "triggers": [{"event": "sync-parity/e"}],
        "steps": {"step": {"id": "step", "name": "step",
                           "runtime": {"type": "http", "url": step_url}}}}
    if slug != "<absent>":
        function["id"] = slug
    return function


def _sync(probe: Probe, app: str, url: str | None, *functions: dict[str, object]) -> object:
    """The sync's status and answer (its sync id is random on each server)."""
    status, body = probe.request("POST", "/fn/register", {
        "url": url, "appName": app, "framework": "flask", "sdk": "py:v0.1.0", "v": "0.1",
        "functions": list(functions)})
    if isinstance(body, dict) and isinstance(body.get("sync_id"), str):
        body["sync_id"] = "<sync id>"
    return {"status": status, "body": body}


def _listed(probe: Probe, prefix: str) -> list[dict[str, typing.Any]]:
    """The apps whose name starts with ``prefix``, with their functions, in name order."""
    apps = [app for app in probe.data(_APPS)["apps"] if app["name"].startswith(prefix)]
    for app in apps:
        app["functions"] = sorted(app["functions"], key=lambda fn: str(fn["slug"]))
    return sorted(apps, key=lambda app: str(app["name"]))


def _shared_url(probe: Probe) -> object:
    """Two named apps synced at one URL, then the first synced again: the dev server keeps
    both (a sync replaces only the placeholder at its URL, which it lists without a name)."""
    url = _url("shared")
    syncs = [
        _sync(probe, "sync-shared-a", url, _function("sync-shared-a-fn", "a", url)),
        _sync(probe, "sync-shared-b", url, _function("sync-shared-b-fn", "b", url)),
        _sync(probe, "sync-shared-a", url, _function("sync-shared-a-fn", "a", url),
              _function("sync-shared-a-more", "a more", url)),
    ]
    return {"syncs": syncs, "apps": _listed(probe, "sync-shared-")}


def _placeholder(probe: Probe) -> object:
    """An app added by URL where nothing answers (listed as unreachable), then an app synced
    at that URL: only the synced app is listed there."""
    url = _url("placeholder")
    probe.gql(_CREATE_APP, url=url)  # answered each server's way: an error there, data here
    sync = _sync(probe, "sync-placeholder", url, _function("sync-placeholder-fn", "p", url))
    at_url = [app["name"] for app in probe.data(_APPS)["apps"] if "placeholder" in app["url"]]
    return {"sync": sync, "apps_at_url": at_url}


def _without_url(probe: Probe) -> object:
    """Two apps synced with ``url: null`` (listed with the empty URL): both stay listed."""
    syncs = [_sync(probe, f"sync-nourl-{n}", None,
                   _function(f"sync-nourl-{n}-fn", f"nourl {n}", _url(f"nourl-{n}")))
             for n in (1, 2)]
    return {"syncs": syncs, "apps": _listed(probe, "sync-nourl-")}


def _without_id(probe: Probe) -> object:
    """Functions whose ``id`` is null, empty or left out: synced, with their name made a
    slug for an ID."""
    answers = {}
    for label, slug, name in (("null", None, "No ID: null"), ("empty", "", "Héllo & Wörld"),
                              ("absent", "<absent>", " 'Quoted' — _name_ ")):
        url = _url(f"noid-{label}")
        answers[label] = _sync(probe, f"sync-noid-{label}", url, _function(slug, name, url))
    return {"syncs": answers, "apps": _listed(probe, "sync-noid-")}


def _same_function_elsewhere(probe: Probe) -> object:
    """Two apps with a function of the same name at the same step URL, which the dev server
    gives one ID: the second app's sync overwrites the first's function and lists none
    (docs/compatibility.md, Engine, "Two apps, one function ID")."""
    step = _url("same-step")
    _sync(probe, "sync-same-1", _url("same-1"), _function("sync-same-1-fn", "same", step))
    _sync(probe, "sync-same-2", None, _function("sync-same-2-fn", "same", step))
    return _listed(probe, "sync-same-")


def _sync_case(side: Side) -> Answer:
    probe = side.probe
    return {"shared_url": _shared_url(probe), "placeholder": _placeholder(probe),
            "without_url": _without_url(probe), "without_id": _without_id(probe),
            "same_function_elsewhere": _same_function_elsewhere(probe)}


CASES["app_sync"] = Case(_sync_case, ("shared_url", "placeholder", "without_url",
                                      "without_id", "same_function_elsewhere"),
                         phase=_LAST_PHASE)

# -- syncs of no functions -------------------------------------------------------------------
_NO_FUNCTIONS = "sync-nofn-"
_CREATE_APP_SHOWN = """mutation($url: String!) {
  createApp(input: {url: $url}) { name url error functionCount } }"""


def _with_errors(probe: Probe, prefix: str) -> list[dict[str, typing.Any]]:
    """The apps whose name or URL holds ``prefix``, with their errors, in name order."""
    return sorted((app for app in probe.data(_APPS_WITH_ERRORS)["apps"]
                   if prefix in app["name"] or prefix in app["url"]),
                  key=lambda app: str(app["name"]))


_OMITTED = object()


def _push(probe: Probe, app: str, functions: object = _OMITTED) -> object:
    """A sync at the case's URL with ``functions`` as given (left out by default)."""
    body: dict[str, object] = {"url": _url("nofn"), "appName": app, "framework": "flask",
                               "sdk": "py:v0.1.0", "v": "0.1"}
    if functions is not _OMITTED:
        body["functions"] = functions
    status, answer = probe.request("POST", "/fn/register", body)
    if isinstance(answer, dict) and isinstance(answer.get("sync_id"), str):
        answer["sync_id"] = "<sync id>"
    return {"status": status, "body": answer}


def _pushed_without_functions(probe: Probe) -> object:
    """Syncs of no functions (an empty list, none, null), again, then of a function and of
    none again: each sync's answer and the apps' errors after it."""
    app, function = f"{_NO_FUNCTIONS}app", _function(f"{_NO_FUNCTIONS}fn", "fn", _url("nofn"))
    steps: dict[str, object] = {}
    for label, push in (
            ("empty", lambda: _push(probe, app, [])),
            ("omitted", lambda: _push(probe, f"{_NO_FUNCTIONS}omitted")),
            ("null", lambda: _push(probe, f"{_NO_FUNCTIONS}null", None)),
            ("empty again", lambda: _push(probe, app, [])),
            ("a function", lambda: _push(probe, app, [function])),
            ("none after it", lambda: _push(probe, app, []))):
        steps[label] = {"sync": push(), "apps": [
            {**app, "error": _PINGED.get(app["error"], app["error"])}
            for app in _with_errors(probe, _NO_FUNCTIONS)]}
    return steps


# Both servers ping an app with an error in the background and then mark one at an
# unreachable URL "unreachable", each on its own schedule: which of the two errors a read
# finds is a race (seen either way in CI). The unit tests pin the error a sync leaves.
_PINGED = {error: "no functions, or unreachable once pinged"
           for error in ("No functions registered within your app", "unreachable")}


class _SyncingApp:
    """An app on a free port that answers the server's sync request (a PUT) as an SDK
    would: by syncing no functions and passing the server's answer on, or, with
    ``refusal``, by answering 400 with that message itself."""

    def __init__(self, probe: Probe, name: str, refusal: str | None = None) -> None:
        self.probe, self.name, self.refusal = probe, name, refusal
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/api/inngest"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _answer(self) -> tuple[int, object]:
        if self.refusal is not None:
            return 400, {"message": self.refusal}
        status, answer = self.probe.request("POST", "/fn/register", {
            "url": self.url, "appName": self.name, "framework": "raw", "sdk": "raw:v0.0.1",
            "v": "0.1", "functions": []})
        return status, answer

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = app._answer()
                send_reply(self, status, json.dumps(answer).encode(), request_version=False)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _added_without_functions(probe: Probe) -> object:
    """``createApp`` of an app that syncs no functions: answered with the app and its
    error."""
    app = _SyncingApp(probe, f"{_NO_FUNCTIONS}added")
    try:
        added = probe.gql(_CREATE_APP_SHOWN, url=app.url)
        shown = {"answer": added, "apps": _with_errors(probe, f"{_NO_FUNCTIONS}added")}
        return json.loads(typing.cast(str, ports(json.dumps(shown))))
    finally:
        app.stop()


def _refused_without_functions(probe: Probe) -> object:
    """``createApp`` of an app that refuses the sync itself, saying it has no functions:
    the mutation's error, and the app's once the server has tried it again (the dev server
    lists it as unreachable until then, ours with the reason at once)."""
    app = _SyncingApp(probe, "", refusal="No functions registered within your app")
    try:
        answer = probe.gql(_CREATE_APP_SHOWN, url=app.url)
        host = app.url.split("//", 1)[1].split("/", 1)[0].replace("127.0.0.1", "localhost")

        def retried() -> list[object]:
            errors = [listed["error"] for listed in _with_errors(probe, host)]
            assert errors and errors[0] != "unreachable", errors
            return errors

        return {"errors": [error["message"] for error in answer.get("errors") or []],
                "data": answer.get("data"), "apps": wait_for(retried, 20)}
    finally:
        app.stop()


def _no_functions_case(side: Side) -> Answer:
    probe = side.probe
    return {"pushed": _pushed_without_functions(probe),
            "added": _added_without_functions(probe),
            "refused": _refused_without_functions(probe)}


CASES["sync_no_functions"] = Case(_no_functions_case, ("pushed", "added", "refused"),
                                  phase=_LAST_PHASE)

# -- DELETE /fn/remove -------------------------------------------------------------------------
_REMOVE = "sync-remove-"
_FUNCTION_BY_SLUG = """query($slug: String!) {
  functionBySlug(query: {functionSlug: $slug}) { slug app { name } } }"""
_EVENT_RUNS = "query($id: ID!) { event(query: {eventId: $id}) { status functionRuns { id } } }"
_FORM = {"content-type": "application/x-www-form-urlencoded"}


def _remove(probe: Probe, query: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> object:
    """A removal's status and body (ours adds ``code`` and ``message`` to an error:
    docs/compatibility.md, Engine, "REST v1 error statuses")."""
    return _parsed(probe, ("DELETE", "/fn/remove" + query, body, headers or {}))


def _removal_bad_input(probe: Probe, url: str) -> object:
    """The URL given another way than in the query, or unknown: nothing is removed."""
    return {
        "no url": _remove(probe, ""), "empty url": _remove(probe, "?url="),
        "url in a JSON body": _remove(probe, "", json.dumps({"url": url}).encode(),
                                      {"content-type": "application/json"}),
        "url in a form body": _remove(probe, "", f"url={url}".encode(), _FORM),
        "unknown url": _remove(probe, f"?url={url}/nope"),
        "apps": [app["name"] for app in _with_errors(probe, _REMOVE)],
    }


def _function_found(probe: Probe, slug: str) -> object:
    """``functionBySlug``'s data (the dev server also answers a missing one with an error,
    ours with none: docs/compatibility.md, Engine, "GraphQL error messages")."""
    return probe.gql(_FUNCTION_BY_SLUG, slug=slug).get("data")


def _event_after_removal(probe: Probe, name: str) -> object:
    """An event for the removed function: it starts nothing."""
    event_id = probe.send(name, {})

    def handled() -> dict[str, typing.Any]:
        event = probe.data(_EVENT_RUNS, id=event_id)["event"]
        assert event["status"] not in (None, "PENDING", "RUNNING"), event
        return typing.cast("dict[str, typing.Any]", event)

    return wait_for(handled, 15)


def _removed(probe: Probe) -> object:
    """An app of one function removed by its URL, removed again, an event for its
    function, then the app synced again."""
    url, name, event = _url("remove"), f"{_REMOVE}app", "sync-parity/removed"
    slug = f"{_REMOVE}fn"
    _sync(probe, name, url, {**_function(slug, "fn", url), "triggers": [{"event": event}]})
    removal = {"bad input": _removal_bad_input(probe, url),
               "removed": _remove(probe, f"?url={url}"),
               "again": _remove(probe, f"?url={url}"),
               "apps": _with_errors(probe, _REMOVE),
               "functions": [fn["slug"] for fn in probe.data("{ functions { slug } }")["functions"]
                             if fn["slug"].startswith(_REMOVE)],
               "by slug": _function_found(probe, slug),
               "event": _event_after_removal(probe, event)}
    _sync(probe, name, url, {**_function(slug, "fn", url), "triggers": [{"event": event}]})
    removal["synced again"] = {"apps": _with_errors(probe, _REMOVE),
                               "by slug": _function_found(probe, slug)}
    return removal


def _removed_one_at_a_time(probe: Probe) -> object:
    """Two apps at one URL, the first synced again after the second: each removal takes
    one app, the first synced first."""
    url = _url("remove-shared")
    first, second = f"{_REMOVE}shared-first", f"{_REMOVE}shared-second"
    _sync(probe, first, url, _function(f"{first}-fn", "first", url))
    _sync(probe, second, url, _function(f"{second}-fn", "second", f"{url}/second"))
    _sync(probe, first, url, _function(f"{first}-fn", "first", url),
          _function(f"{first}-more", "more", url))
    removals = []
    for _ in range(3):
        removals.append({"answer": _remove(probe, f"?url={url}"),
                         "left": [app["name"] for app in _with_errors(probe, "shared-")]})
    return removals


_NAP = {"op": "Sleep", "id": hashlib.sha1(b"nap").hexdigest(), "name": "2s",
        "displayName": "nap", "opts": {"duration": "2s"}}


def _nap_then_done(n: int, steps: dict[str, object]) -> Reply:
    return (206, [_NAP]) if n == 0 else (200, "done")


def _removed_while_running(side: Side) -> object:
    """A run asleep when its app is removed: it still ends, its app called again."""
    app = RawApp("sync-remove-nap", _nap_then_done)
    try:
        app.sync(side.probe)
        run_id = side.probe.run_ids(side.probe.send("raw/sync-remove-nap", {}))[0]
        sleeping(side.probe, run_id)
        removal = _remove(side.probe, f"?url={app.url}")
        run = settled_run(side.probe, run_id)
        return {"removal": removal, "run": {"status": run["status"], "output": run["output"]},
                "calls": len(app.calls.get(run_id, []))}
    finally:
        app.stop()


def _remove_case(side: Side) -> Answer:
    probe = side.probe
    return {"removed": _removed(probe), "one_at_a_time": _removed_one_at_a_time(probe),
            "in_flight": _removed_while_running(side)}


CASES["fn_remove"] = Case(_remove_case, ("removed", "one_at_a_time", "in_flight"),
                          phase=_LAST_PHASE)

# -- the order of apps, and which app a removal by URL takes ---------------------------------
_ORDER = "sync-order-"
_APPS_BY_METHOD = "query($method: AppMethod) { apps(filter: {method: $method}) { name } }"


def _order_listed(probe: Probe, method: str | None = None) -> list[str]:
    """The case's apps as the server lists them (the dev server: by id)."""
    return [app["name"] for app in probe.data(_APPS_BY_METHOD, method=method)["apps"]
            if app["name"].startswith(_ORDER)]


def _order_sync(probe: Probe, name: str, url: str) -> None:
    push_sync(probe, url, f"{_ORDER}{name}", f"{_ORDER}{name}-fn", "sync-order/e")


def _listing_order(probe: Probe) -> object:
    """Apps synced in an order unlike their ids' (an app's id comes from its name), listed
    whole and filtered by method."""
    for name in ("zeta", "alpha", "mid", "beta", "omega"):
        _order_sync(probe, name, _url(f"order-{name}"))
    return {"all": _order_listed(probe), "serve": _order_listed(probe, "SERVE"),
            "connect": _order_listed(probe, "CONNECT")}


def _removed_and_synced_again(probe: Probe) -> object:
    """Three apps at one URL, removed one at a time by the URL with apps synced again in
    between: a removed app synced again keeps its place, so the next removal takes it
    again; an app moved to the URL from another (synced first) is taken before the rest."""
    url = _url("order-shared")
    for name in ("s1", "s2", "s3"):
        _order_sync(probe, name, url)
    steps: list[object] = []

    def step(label: str, action: typing.Callable[[], object]) -> None:
        action()
        steps.append({label: _order_listed(probe)})

    step("remove", lambda: _remove(probe, f"?url={url}"))
    step("sync s1 again", lambda: _order_sync(probe, "s1", url))
    step("remove", lambda: _remove(probe, f"?url={url}"))
    step("remove", lambda: _remove(probe, f"?url={url}"))
    step("sync s2 then s1 again",
         lambda: (_order_sync(probe, "s2", url), _order_sync(probe, "s1", url)))
    step("remove", lambda: _remove(probe, f"?url={url}"))
    step("move zeta to the URL", lambda: _order_sync(probe, "zeta", url))
    step("remove", lambda: _remove(probe, f"?url={url}"))
    return steps


def _order_case(side: Side) -> Answer:
    probe = side.probe
    return {"listing": _listing_order(probe), "removals": _removed_and_synced_again(probe)}


CASES["apps_order"] = Case(_order_case, ("listing", "removals"), phase=_LAST_PHASE)

# -- the rerun of a durable endpoint's run ---------------------------------------------------
_ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RESPONSE = {"op": "RunComplete", "id": "complete",
             "data": {"status": 200, "headers": {}, "body": '{"ok": true}'}}


def _new_run_id() -> str:
    """A ULID of now (its random part fixed: each side runs this once)."""
    ms = int(time.time() * 1000)
    return "".join(_ULID_CHARS[(ms >> (5 * n)) & 31] for n in reversed(range(10))) + "S" * 16


def _durable_rerun(side: Side) -> Answer:
    """A durable endpoint's run whose request event has a timestamp before 1980 (which the
    event API refuses, but the dev server keeps for the run), completed, then rerun over
    REST v2: the rerun is answered with the new run's id, and the event is kept as sent."""
    probe = side.probe
    run_id = _new_run_id()
    request = {"domain": "127.0.0.1:1", "method": "POST", "path": "/sync-parity/rerun",
               "ip": "127.0.0.1", "content_type": "", "query_params": "", "body": ""}
    started, _ = probe.request("POST", "/v1/checkpoint", {
        "run_id": run_id, "event": {"name": "http/run.started", "data": request, "ts": 1},
        "steps": [_RESPONSE]})

    def completed() -> dict[str, typing.Any]:
        """The request's event once the run completed (stored a moment later there)."""
        run = probe.request("GET", f"/v1/runs/{run_id}")[1]["data"]
        # The dev server lists the run a moment after the checkpoint is answered.
        assert run is not None and run["status"] == "Completed", run
        if not run["event_id"]:
            return {}
        found = probe.request("GET", f"/v1/events/{run['event_id']}")[1]
        assert isinstance(found, dict) and found.get("data"), found
        return typing.cast("dict[str, typing.Any]", found["data"])

    event = wait_for(completed, 20)
    status, answer = probe.request("POST", f"/api/v2/runs/{run_id}/rerun", {})
    rerun = (answer.get("data") or {}).get("runId") if isinstance(answer, dict) else None
    labels = {run_id: "<run>", **({rerun: "<rerun>"} if rerun else {})}
    return {
        "event": {"started": started, "name": event.get("name"), "ts": event.get("ts")},
        "rerun": ids(times({"status": status, "body": answer}), labels),
    }


CASES["durable_rerun"] = Case(_durable_rerun, ("event", "rerun"), phase=_LAST_PHASE)
