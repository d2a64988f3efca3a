"""The broadcaster: which connection listens to which topic, and the hand-off of each
published message to them, in the order messages are published. Nothing is kept for a
subscriber that connects later, as on the dev server."""

from __future__ import annotations

import queue
import threading
import typing

from inngest._engine.realtime import tokens

# What a subscriber's connection writes; None ends it.
Outgoing = typing.Union["Delivery", None]


class Delivery(typing.NamedTuple):
    """What to write: a ``message`` (framed as the connection frames messages), ``raw``
    bytes (sent to ``/v1/realtime/publish/tee``), or what a connection itself adds."""

    payload: bytes
    kind: str = "message"


class Subscriber:
    """One connection's queue of what to write to it."""

    def __init__(self) -> None:
        self.outbox: queue.Queue[Outgoing] = queue.Queue()
        self.keys: set[tuple[str, ...]] = set()

    def deliver(self, delivery: Delivery) -> None:
        self.outbox.put(delivery)

    def end(self) -> None:
        self.outbox.put(None)


class Hub:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._topics: dict[tuple[str, ...], list[Subscriber]] = {}

    def subscribe(self, subscriber: Subscriber, topics: typing.Iterable[tokens.Topic]) -> None:
        with self._lock:
            for topic in topics:
                if topic.key not in subscriber.keys:
                    subscriber.keys.add(topic.key)
                    self._topics.setdefault(topic.key, []).append(subscriber)

    def unsubscribe(self, subscriber: Subscriber,
                    keys: typing.Iterable[tuple[str, ...]] | None = None) -> None:
        """Stop sending ``keys`` (all of its topics if None) to ``subscriber``."""
        with self._lock:
            for key in list(subscriber.keys if keys is None else keys):
                if key not in subscriber.keys:
                    continue
                subscriber.keys.discard(key)
                listeners = self._topics[key]
                listeners.remove(subscriber)
                if not listeners:
                    del self._topics[key]

    def publish(self, key: tuple[str, ...], delivery: Delivery) -> int:
        """Hand ``delivery`` to the subscribers of ``key``; how many there were."""
        with self._lock:
            listeners = list(self._topics.get(key, ()))
            for subscriber in listeners:
                subscriber.deliver(delivery)
        return len(listeners)
