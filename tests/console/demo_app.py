"""A real app served by this SDK, with one function per thing the console must show."""

from __future__ import annotations

import datetime
import threading
import typing

import urllib3

import inngest
import inngest.http_server
from inngest.dev import DevServer


class PaymentDeclined(Exception):
    """What the failing function's step raises, so its name shows in the console."""


def make_client(engine_url: str) -> inngest.Inngest:
    return inngest.Inngest(app_id="shop", is_production=False, api_base_url=engine_url,
                           event_api_base_url=engine_url)


def functions(client: inngest.Inngest,
              executed: list[tuple[str, str]]) -> list[inngest.Function[typing.Any]]:
    """The app's functions; ``fulfil-order`` appends ``(run id, step)`` to ``executed`` each
    time it runs a step's code."""
    @client.create_function(fn_id="process-order", name="Process order",
                            trigger=inngest.TriggerEvent(event="shop/order.created"),
                            concurrency=[inngest.Concurrency(limit=5)])
    def process_order(ctx: inngest.ContextSync) -> dict[str, object]:
        items = ctx.event.data.get("items") or [{"sku": "tea", "price": 4}]
        total = ctx.step.run("price-order", lambda: sum(item["price"] for item in items))
        ctx.step.sleep("wait-for-fraud-window", datetime.timedelta(milliseconds=300))
        receipt, shipment = ctx.group.parallel((
            lambda: ctx.step.run("email-receipt", lambda: f"receipt for {total}"),
            lambda: ctx.step.run("book-shipment", lambda: {"carrier": "post", "days": 2}),
        ))
        return {"total": total, "receipt": receipt, "shipment": shipment,
                "catalogue": [{"sku": f"item-{n}", "price": n} for n in range(60)]}

    @client.create_function(fn_id="charge-card", name="Charge card", retries=2,
                            trigger=inngest.TriggerEvent(event="shop/card.charge"))
    def charge_card(ctx: inngest.ContextSync) -> None:
        def charge() -> None:
            raise PaymentDeclined(f"card declined for {ctx.event.data.get('amount')}")

        ctx.step.run("charge", charge)

    @client.create_function(fn_id="remind-later", name="Remind later",
                            trigger=inngest.TriggerEvent(event="shop/remind"))
    def remind_later(ctx: inngest.ContextSync) -> str:
        ctx.step.sleep("sleep-a-day", datetime.timedelta(days=1))
        return "reminded"

    @client.create_function(fn_id="greet", name="Greet",
                            trigger=inngest.TriggerEvent(event="shop/greet"))
    def greet(ctx: inngest.ContextSync) -> str:
        return f"hello {ctx.event.data.get('who', 'nobody')}"

    @client.create_function(fn_id="welcome", name="Welcome",
                            trigger=inngest.TriggerEvent(event="shop/signup"))
    def welcome(ctx: inngest.ContextSync) -> object:
        return ctx.step.invoke("call-greet", function=greet, data={"who": "new user"})

    @client.create_function(fn_id="await-approval", name="Await approval",
                            trigger=inngest.TriggerEvent(event="shop/approval.requested"))
    def await_approval(ctx: inngest.ContextSync) -> bool:
        approval = ctx.step.wait_for_event(
            "wait-for-approval", event="shop/approved",
            if_exp="async.data.order == event.data.order", timeout=datetime.timedelta(hours=1))
        return approval is not None

    @client.create_function(fn_id="nap-twice", name="Nap twice",
                            trigger=inngest.TriggerEvent(event="shop/nap"))
    def nap_twice(ctx: inngest.ContextSync) -> None:
        # Two steps with the same name: the console tells them apart by span.
        ctx.step.sleep("nap", datetime.timedelta(seconds=1))
        ctx.step.sleep("nap", datetime.timedelta(hours=2))

    @client.create_function(fn_id="fulfil-order", name="Fulfil order",
                            trigger=inngest.TriggerEvent(event="shop/order.paid"))
    def fulfil_order(ctx: inngest.ContextSync) -> dict[str, object]:
        def step(name: str, value: object) -> object:
            def body() -> object:
                executed.append((ctx.run_id, name))
                return value
            return ctx.step.run(name, body)

        stock = step("reserve-stock", {"shelf": "B4"})
        box = step("pack-box", {"box": "small"})
        label = step("print-label", "label-0042")
        return {"stock": stock, "box": box, "label": label}

    @client.create_function(fn_id="stocktake", name="Stocktake",
                            trigger=inngest.TriggerEvent(event="shop/stocktake"),
                            singleton=inngest.Singleton(mode="skip"))
    def stocktake(ctx: inngest.ContextSync) -> str:
        # One at a time: a stocktake asked for while one is counting is skipped.
        ctx.step.sleep("count-shelves", datetime.timedelta(hours=1))
        return "counted"

    return [process_order, charge_card, remind_later, greet, welcome, await_approval, nap_twice,
            fulfil_order, stocktake]


class Demo:
    """The engine (in process, on a free port) and the shop app, synced."""

    def __init__(self) -> None:
        self.engine = DevServer(port=0, poll=False, retry_interval=0.05)
        self.engine.start()
        self.client = make_client(self.engine.url)
        # The steps fulfil-order ran, as (run id, step name), in order.
        self.executed: list[tuple[str, str]] = []
        self.app = inngest.http_server.serve(self.client, functions(self.client, self.executed),
                                             port=0)
        self._thread = threading.Thread(target=self.app.serve_forever, daemon=True)
        self._thread.start()
        sync = urllib3.PoolManager().request("PUT", self.app.url)
        if sync.status != 200:
            raise RuntimeError(f"app sync failed: {sync.status} {sync.data[:200]!r}")

    @property
    def url(self) -> str:
        return self.engine.url

    def send(self, name: str, data: dict[str, object]) -> str:
        [event_id] = self.client.send_sync(inngest.Event(name=name, data=data))
        return event_id

    def close(self) -> None:
        self.app.shutdown()
        self.app.server_close()
        self.engine.stop()
