"""The dev server's own REST API v2 client, ``inngest api`` (a command of the real server's
binary), run against each server: what it prints on stdout and stderr and its exit status
must be the same. Outputs are normalized only where the servers must differ: ids, times,
durations and ports (see ``cases``). Subcommands whose answers differ on purpose (the trace's
span ids and timings, function lists' order: docs/compatibility.md, REST v2) are left out."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import os
import re
import subprocess
import typing

import servers
from cases import CASES, Case, Side, ports, settled_run, sleeping, times, wait_until_ready
from probe import wait_for

_ULID = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{26}\b")
_CURSOR = re.compile(r'"cursor": "([A-Za-z0-9+/]{20,}={0,2})"')
_DURATION = re.compile(r'"durationMs": "\d+"')
_UNKNOWN = "01M8M3Q9NPQAT955XA7Y7V5HXH"
_APP = ("--app-id", "diff-py")
_CLI_RUNS = ("get-function-runs", *_APP, "--function-id", "cli")
_KEY = "cli-api"

Said = typing.Dict[str, object]
Labels = typing.Dict[str, str]


@functools.lru_cache(maxsize=None)
def _binary() -> str:
    found = servers.real_server_binary()
    assert found, "the differential suite runs with the real server's binary"
    return found


def _cli(side: Side, *args: str) -> tuple[int, str, str]:
    port = side.probe.origin.rsplit(":", 1)[1]
    env = {key: value for key, value in os.environ.items() if not key.startswith("INNGEST_")}
    done = subprocess.run(
        [_binary(), "api", "--api-host", "127.0.0.1", "--api-port", port, *args],
        capture_output=True, text=True, timeout=60, env=env, check=False)
    return done.returncode, done.stdout, done.stderr


def _cursor(found: re.Match[str]) -> str:
    """A run list's cursor (base64 JSON) shown decoded, so its ids and times normalize."""
    try:
        decoded = base64.b64decode(found.group(1), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return found.group(0)
    return '"cursor": ' + json.dumps(re.sub(r'"v":\d+', '"v":<micros>', decoded))


def _seen(text: str, labels: Labels) -> str:
    """Output as compared: runs and events this case made by label, other ids (say an
    invoke's event) as ``<id>``; times; each server's own durations; app ports."""
    text = _CURSOR.sub(_cursor, text)
    for real, label in labels.items():
        text = text.replace(real, label)
    text = _ULID.sub("<id>", typing.cast(str, times(text)))
    return typing.cast(str, ports(_DURATION.sub('"durationMs": "<ms>"', text)))


class _Session:
    """One side's CLI calls, read with the labels known so far."""

    def __init__(self, side: Side) -> None:
        self.side = side
        self.labels: Labels = {_UNKNOWN: "<unknown ULID>"}

    def said(self, *args: str) -> Said:
        status, out, err = _cli(self.side, *args)
        return {"exit": status, "stdout": _seen(out, self.labels),
                "stderr": _seen(err, self.labels)}

    def data(self, *args: str) -> typing.Any:
        status, out, err = _cli(self.side, *args)
        assert status == 0, f"{self.side.probe.name}: {args}: {out}{err}"
        return json.loads(out)["data"]

    def label(self, real: str, label: str) -> str:
        self.labels[real] = label
        return real

    def ended(self, run_id: str) -> None:
        settled_run(self.side.probe, run_id)


def _cli_api(side: Side) -> dict[str, object]:
    cli = _Session(side)
    runs = []
    for n in (1, 2):
        event_id = cli.label(cli.data("send-event", "--name", "py/cli", "--data",
                                      json.dumps({"key": _KEY, "n": n}))["eventId"],
                             f"<event {n}>")
        runs.append(cli.label(side.probe.run_ids(event_id)[0], f"<run {n}>"))
        cli.ended(runs[-1])
    first = runs[0]
    return {
        "reads": _reads(cli, first),
        "run_lists": _run_lists(cli),
        "writes": _writes(cli, first),
        "cancel": _cancel(cli),
        "errors": _errors(cli, first),
        "cloud_only": {command: cli.said(command, *args) for command, *args in _CLOUD_ONLY},
    }


def _reads(cli: _Session, run_id: str) -> Said:
    event_id = next(real for real, label in cli.labels.items() if label == "<event 1>")
    return {
        "health": cli.said("health"),
        "health raw": cli.said("--raw", "health"),
        "get-app": cli.said("get-app", *_APP),
        "get-app under /v2": cli.said(
            "--api-host", cli.side.probe.origin + "/v2", "get-app", *_APP),
        "get-function": cli.said("get-function", *_APP, "--function-id", "cli"),
        "get-function by app-fn": cli.said("get-function", *_APP, "--function-id", "diff-py-cli"),
        "get-function-run": cli.said("get-function-run", "--run-id", run_id, "--include-output"),
        "get-function-run lower case": cli.said("get-function-run", "--run-id", run_id.lower()),
        "get-event-runs": cli.said("get-event-runs", "--event-id", event_id, "--include-output"),
        "envs": cli.said("get-account-envs"),
        "event keys": cli.said("get-account-event-keys"),
        "signing keys": cli.said("get-account-signing-keys"),
        "account": cli.said("get-account"),
    }


def _run_lists(cli: _Session) -> Said:
    """The runs of ``cli`` (only this case starts it), before the writes start more."""
    return {
        "newest, a page of one": cli.said(*_CLI_RUNS, "--limit", "1"),
        "two statuses": cli.said(*_CLI_RUNS, "--status", "COMPLETED", "--status", "FAILED"),
        "statuses split on commas": cli.said(*_CLI_RUNS, "--status", "running,completed"),
        "a bad status among good": cli.said(*_CLI_RUNS, "--status", "COMPLETED",
                                            "--status", "DONE"),
        "by end, a page of one": cli.said(*_CLI_RUNS, "--time-field", "endedAt", "--limit", "1"),
        "oldest first": cli.said(*_CLI_RUNS, "--order", "ASC", "--include-output"),
        "deferred": cli.said(*_CLI_RUNS, "--is-deferred"),
        "not deferred": cli.said(*_CLI_RUNS, "--is-deferred=false", "--limit", "1"),
        "function by app-fn": cli.said("get-function-runs", *_APP, "--function-id",
                                       "diff-py-cli"),
        "two apps": cli.said("get-function-runs", "--app-id", "nope", *_APP,
                             "--function-id", "cli", "--limit", "1"),
        "two functions": cli.said("get-function-runs", *_APP, "--function-id", "cli",
                                  "--function-id", "nope", "--limit", "1"),
        "a time range": cli.said(*_CLI_RUNS, "--from", "2020-01-01T00:00:00Z",
                                 "--until", "2999-01-01T00:00:00Z", "--limit", "1"),
    }


def _writes(cli: _Session, run_id: str) -> Said:
    scored = cli.said("create-score", "--run-id", run_id, "--body",
                      '[{"name": "quality", "value": 0.5}]')
    invoked = cli.label(cli.data("invoke-function", *_APP, "--function-id", "cli", "--data",
                                 json.dumps({"key": _KEY, "n": 3}))["runId"], "<invoked>")
    cli.ended(invoked)
    rerun = cli.label(cli.data("rerun", "--run-id", run_id)["runId"], "<rerun>")
    cli.ended(rerun)
    return {
        # The CLI takes no array as a body, and the servers take nothing else.
        "create-score": scored,
        "invoked run": cli.said("get-function-run", "--run-id", invoked, "--include-output"),
        "rerun run": cli.said("get-function-run", "--run-id", rerun, "--include-output"),
        "send-event with id and ts": cli.said(
            "send-event", "--name", "py/cli-unheard", "--id", "cli-api-1",
            "--ts", "1700000000000", "--user", '{"a": 1}'),
    }


def _cancel(cli: _Session) -> Said:
    probe = cli.side.probe
    event_id = cli.data("send-event", "--name", "py/cancellable", "--data",
                        json.dumps({"key": _KEY}))["eventId"]
    run_id = cli.label(probe.run_ids(event_id)[0], "<sleeping>")
    wait_until_ready(cli.side, "py", _KEY)
    sleeping(probe, run_id)
    cancelled = cli.said("cancel-run", "--run-id", run_id)

    def ended() -> None:
        assert probe.run(run_id)["status"] == "CANCELLED", f"{probe.name}: not cancelled yet"

    wait_for(ended, 30)
    return {"cancel": cancelled, "again": cli.said("cancel-run", "--run-id", run_id),
            "run": cli.said("get-function-run", "--run-id", run_id)}


def _errors(cli: _Session, run_id: str) -> Said:
    calls: list[tuple[str, ...]] = [
        ("get-function-run", "--run-id", "xyz"),
        ("get-function-run", "--run-id", _UNKNOWN),
        ("get-function-run",),
        ("get-function-trace", "--run-id", "xyz"),
        ("get-function-trace", "--run-id", _UNKNOWN),
        ("get-event-runs", "--event-id", "xyz"),
        ("get-event-runs", "--event-id", _UNKNOWN),
        ("get-event-runs", "--event-id", _UNKNOWN, "--limit", "41"),
        ("get-event-runs", "--event-id", _UNKNOWN, "--cursor", "nope"),
        ("get-function-runs", "--function-id", "cli"),
        ("get-function-runs", "--status", "DONE"),
        ("get-function-runs", "--order", "sideways"),
        ("get-function-runs", "--time-field", "x"),
        ("get-function-runs", "--from", "yesterday"),
        ("get-function-runs", "--from", "2030-01-01T00:00:00Z", "--until", "2020-01-01T00:00:00Z"),
        ("get-function-runs", "--limit", "101"),
        ("get-function-runs", "--cursor", "nope"),
        ("get-apps", "--limit", "0"),
        ("get-apps", "--limit", "x"),
        ("get-apps", "--cursor", "nope"),
        ("get-app", "--app-id", "nope"),
        ("get-app",),
        ("get-app", "--nope", "x"),
        ("get-functions", "--app-id", "nope"),
        ("get-function", *_APP, "--function-id", "nope"),
        ("rerun", "--run-id", "xyz"),
        ("rerun", "--run-id", _UNKNOWN),
        ("rerun", "--run-id", run_id, "--from-step", "nope"),
        ("cancel-run", "--run-id", "xyz"),
        ("cancel-run", "--run-id", _UNKNOWN),
        ("cancel-run", "--run-id", run_id),
        ("send-event", "--data", "{}"),
        ("send-event", "--name", ""),
        ("send-event", "--body", '[{"name": "a"}]'),
        ("send-event", "--name", "inngest/function.finished"),
        ("send-event", "--body-file", "/nonexistent/event.json"),
        ("send-event", "--name", "x", "--data", "[1]"),
        ("send-event", "--name", "x", "--user", "1"),
        ("send-event", "--body", '{"name": 1}'),
        ("send-event", "--body", '{"name": "a", "extra": 1}'),
        ("rerun", "--run-id", run_id, "--body", '{"fromStep": {"stepId": 3}}'),
        ("invoke-function", *_APP, "--function-id", "cli", "--data", "[1]"),
        ("invoke-function", *_APP, "--function-id", "nope"),
        ("invoke-function", "--app-id", "nope", "--function-id", "cli"),
        # The CLI sends --scores as {"scores": [...]}, which both servers refuse.
        ("create-score", "--run-id", "xyz", "--scores", '{"name": "a", "value": 1}'),
        ("create-score", "--run-id", _UNKNOWN, "--scores", '{"name": "a", "value": 1}'),
        ("create-score", "--run-id", run_id),
    ]
    return {_seen(" ".join(call), cli.labels): cli.said(*call) for call in calls}


_CLOUD_ONLY: list[tuple[str, ...]] = [
    ("create-env", "--name", "x"),
    ("patch-env", "--env-id", "x"),
    ("create-webhook", "--name", "x"),
    ("get-webhooks",),
    ("sync-app", *_APP, "--url", "http://127.0.0.1:1/api/inngest"),
    ("get-sandboxes",),
    ("create-sandbox",),
    ("get-sandbox", "--sandbox-id", "x"),
    ("get-insights-tables",),
    ("get-insights-event-schemas",),
    ("query-insights", "--query", "select 1"),
    ("query-insights-prompt", "--prompt", "x"),
    ("get-experiments",),
    ("get-experiment", "--experiment-id", "x"),
    ("get-session-keys",),
    ("get-sessions",),
    ("get-session-runs", "--session-id", "x"),
]

CASES["cli_api"] = Case(_cli_api, ("reads", "run_lists", "writes", "cancel", "errors",
                                   "cloud_only"))
