"""Quickstart: the embedded engine and an app in one process.

Run with ``python3 examples/quickstart.py``. It starts the engine (the same one as
``python -m inngest dev``), serves a durable function with the standard library's HTTP
server, syncs the app, sends an event, prints each step as the engine records it, and
prints the run's output. With ``--keep`` it keeps both running until Ctrl-C, so you can open
the console at the URL it prints and find the run, its steps and their outputs.
"""

from __future__ import annotations

import datetime
import json
import sys
import threading
import time
import typing

import urllib3

import inngest
import inngest.http_server
from inngest.dev import DevServer

http = urllib3.PoolManager()
engine = DevServer(port=0, poll=False)
engine.start()

client = inngest.Inngest(
    app_id="quickstart",
    is_production=False,
    api_base_url=engine.url,
    event_api_base_url=engine.url,
)


@client.create_function(
    fn_id="process-order",
    trigger=inngest.TriggerEvent(event="shop/order.created"),
)
def process_order(ctx: inngest.ContextSync) -> dict[str, object]:
    order = ctx.event.data
    total = ctx.step.run("price-order", lambda: sum(item["price"] for item in order["items"]))
    ctx.step.sleep("wait-for-fraud-window", datetime.timedelta(seconds=1))
    receipt, shipment = ctx.group.parallel(
        (
            lambda: ctx.step.run("email-receipt", lambda: f"receipt sent to {order['email']}"),
            lambda: ctx.step.run("book-shipment", lambda: {"carrier": "post", "days": 2}),
        )
    )
    return {"total": total, "receipt": receipt, "shipment": shipment}


TRACE = """
query Trace($runID: String!) {
  run(runID: $runID) { status output trace { childrenSpans { name status stepOp outputID } } }
}"""
OUTPUT = """
query Output($outputID: String!) { runTraceSpanOutputByID(outputID: $outputID) { data } }
"""
RUNS = """
query Runs($eventID: ID!) { event(query: {eventId: $eventID}) { functionRuns { id } } }
"""


def graphql(query: str, **variables: object) -> dict[str, typing.Any]:
    payload = json.dumps({"query": query, "variables": variables}).encode()
    response = http.request("POST", f"{engine.url}/v0/gql", body=payload,
                            headers={"content-type": "application/json"})
    body = json.loads(response.data)
    return {} if body.get("errors") else dict(body["data"])


def wait_for_run_id(event_id: str) -> str:
    while True:
        event = graphql(RUNS, eventID=event_id).get("event")
        runs = event["functionRuns"] if isinstance(event, dict) else []
        if runs:
            return str(runs[0]["id"])
        time.sleep(0.05)


def follow(run_id: str) -> dict[str, object]:
    """Print every step once the engine has recorded it; return the finished run."""
    shown: set[str] = set()
    while True:
        run = graphql(TRACE, runID=run_id).get("run")
        if not isinstance(run, dict):
            time.sleep(0.05)
            continue
        for span in run["trace"]["childrenSpans"]:
            # Step spans only: the run's own end ("function success") has no step op.
            if span["stepOp"] and span["outputID"] and span["name"] not in shown:
                shown.add(span["name"])
                data = graphql(OUTPUT, outputID=span["outputID"])["runTraceSpanOutputByID"]
                print(f"  step {span['name']!r}: {span['status'].lower()} -> {data['data']}")
        if run["status"] not in ("QUEUED", "RUNNING"):
            return run
        time.sleep(0.05)


def main() -> int:
    server = inngest.http_server.serve(client, [process_order], port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sync = http.request("PUT", server.url)
        print(f"engine at {engine.url}, app at {server.url}, synced: {sync.status == 200}")
        [event_id] = client.send_sync(
            inngest.Event(
                name="shop/order.created",
                data={"email": "ada@example.com", "items": [{"price": 30}, {"price": 12}]},
            )
        )
        run_id = wait_for_run_id(event_id)
        print(f"event {event_id} started run {run_id}")
        run = follow(run_id)
        print(f"run {str(run['status']).lower()}: {run['output']}")
        if "--keep" in sys.argv[1:]:
            print(f"console: {engine.url}/#/runs/{run_id} (Ctrl-C stops)", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
        return 0 if run["status"] == "COMPLETED" else 1
    finally:
        server.shutdown()
        server.server_close()
        engine.stop()


if __name__ == "__main__":
    sys.exit(main())
