"""Where a worker reads source events from, with explicit acknowledgement.

A fan-out ``Subscription`` suits API replicas (every replica sees every event, nobody commits);
a worker needs the opposite: each event handled by one worker of a group, and acknowledged
(``commit``) only after its effects are stored, so a crash re-delivers it. ``EventSource`` is
that contract; ``SubscriptionSource`` adapts any ``EventBus`` (in-process: commit is a no-op)
and ``kg.events.kafka.KafkaGroupSource`` is the Kafka consumer-group implementation.

    source = SubscriptionSource(bus, ["file.changed"])
    await source.start()
    deliveries = await source.fetch(max_events=500, timeout=0.5)
    ...apply...
    await source.commit(deliveries)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kg.events.base import Event, EventBus, Subscription
from kg.events.schema import DEAD_LETTER, DeadLetter


@dataclass(frozen=True, slots=True)
class Delivery:
    """One received record: its event, or (``event is None``) why it could not be decoded."""

    event: Event | None
    error: str | None = None
    raw: bytes = b""
    topic: str = ""
    partition: int = -1
    offset: int = -1


@runtime_checkable
class EventSource(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def fetch(self, max_events: int, wait: float) -> list[Delivery]:
        """Up to ``max_events`` deliveries; waits at most ``wait`` s for the first one."""
        ...

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        """Acknowledge these deliveries (and everything fetched before them)."""
        ...

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        """Park a poison delivery, with the error, where it never blocks the stream again."""
        ...


def dead_letter_event(delivery: Delivery, error: str, source: str) -> Event:
    event = delivery.event
    letter = DeadLetter(
        error=error,
        source=source,
        event=event.model_dump(mode="json") if event is not None else None,
        raw=None if event is not None else delivery.raw.decode("utf-8", "replace"),
        topic=delivery.topic,
        partition=delivery.partition,
        offset=delivery.offset,
    )
    repo = event.repo if event is not None else ""
    return Event.of(DEAD_LETTER, repo=repo, payload=letter.model_dump(mode="json"))


class SubscriptionSource:
    """An ``EventSource`` over a bus subscription (no persistence: commit does nothing).

    The subscription's bounded queue is the backpressure: a producer far ahead of the worker
    loses the oldest events, counted in ``dropped``.
    """

    def __init__(
        self,
        bus: EventBus,
        types: Sequence[str],
        *,
        queue_size: int = 100_000,
        accept: Callable[[Event], bool] | None = None,
    ) -> None:
        self._bus = bus
        self._accept = accept
        self._types = list(types)
        self._queue_size = queue_size
        self._sub: Subscription | None = None
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=queue_size)
        self._pump: asyncio.Task[None] | None = None
        self._ended = False

    @property
    def dropped(self) -> int:
        return self._sub.dropped if self._sub is not None else 0

    async def start(self) -> None:
        if self._sub is None:
            self._sub = self._bus.subscribe(self._types, queue_size=self._queue_size)
            self._pump = asyncio.create_task(self._run(self._sub))

    async def _run(self, sub: Subscription) -> None:
        # Waits while the worker is behind: the bus queue then drops its oldest (counted).
        async for event in sub:
            if self._accept is None or self._accept(event):
                await self._queue.put(event)
        await self._queue.put(None)

    async def close(self) -> None:
        if self._sub is not None:
            await self._sub.close()
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pump

    async def fetch(self, max_events: int, wait: float) -> list[Delivery]:
        if self._ended:
            await asyncio.sleep(wait)
            return []
        try:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can drop an item it already got
            async with asyncio.timeout(wait):
                first = await self._queue.get()
        except TimeoutError:
            return []
        if first is None:
            self._ended = True
            return []
        out = [Delivery(first)]
        while len(out) < max_events and not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._ended = True
                break
            out.append(Delivery(item))
        return out

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        return None

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        await self._bus.publish(dead_letter_event(delivery, error, "in-process"))
