"""Cases for app syncs (``POST /fn/register`` as an SDK sends it): which apps a sync keeps
at its URL, apps synced without a URL, functions without an ID, and the rerun of a durable
endpoint's run. Each syncs apps of its own, at URLs no server can reach; they run in the
last phase, so the cases listing every app do not see them. They register into
``cases.CASES``."""

from __future__ import annotations

import time
import typing

from cases import CASES, Answer, Case, Side, ids, times
from probe import Probe, wait_for

_LAST_PHASE = 4
_APPS = "{ apps { name url functionCount functions { slug name } } }"
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
        assert run["status"] == "Completed", run
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
