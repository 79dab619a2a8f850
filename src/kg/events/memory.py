"""The in-process EventBus: asyncio fan-out to bounded per-subscriber queues.

``publish`` never waits for a consumer: it appends to each matching subscriber's deque and
wakes it. A subscriber that falls behind loses its OLDEST events (``dropped`` counts them), so
what it reads next is as fresh as possible. Use from the event loop's thread::

    bus = InProcessBus()
    await bus.start()
    sub = bus.subscribe(["graph.delta"], queue_size=256)
    await bus.publish(Event.of("graph.delta", repo="r", payload={}))
    async for event in sub:
        ...

``Subscription.close()`` ends its iteration at once (queued events are discarded);
``InProcessBus.close()`` ends every iteration after the events already queued are read.
The bus holds subscriptions weakly: one dropped without ``close`` simply disappears.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import Callable, Sequence

from kg.errors import InvalidInput, KGError
from kg.events.base import Event

WILDCARD = "*"


class MemorySubscription:
    """One subscriber's bounded queue; an async iterator of events."""

    def __init__(
        self,
        types: frozenset[str],
        queue_size: int,
        on_close: Callable[[MemorySubscription], None] | None = None,
    ) -> None:
        self.types = types
        self._on_close = on_close
        self._queue: deque[Event] = deque()
        self._size = queue_size
        self._dropped = 0
        self._closed = False  # no new events are accepted
        self._discard = False  # iteration stops even if events are still queued
        self._wakeup = asyncio.Event()

    @property
    def dropped(self) -> int:
        return self._dropped

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, event: Event) -> None:
        """Queue an event without ever blocking; the oldest one makes room when full."""
        if self._closed:
            return
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self._dropped += 1
        self._queue.append(event)
        self._wakeup.set()

    def __aiter__(self) -> MemorySubscription:
        return self

    async def __anext__(self) -> Event:
        while True:
            if self._discard:
                raise StopAsyncIteration
            if self._queue:
                return self._queue.popleft()
            if self._closed:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()

    async def close(self) -> None:
        self.end(discard=True)

    def end(self, *, discard: bool) -> None:
        """Stop accepting events; ``discard`` also drops what is queued."""
        self._closed = True
        if discard:
            self._discard = True
            self._queue.clear()
        self._wakeup.set()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close(self)


class InProcessBus:
    """``EventBus`` for one process: no broker, no persistence, no cross-process delivery."""

    def __init__(self) -> None:
        self._by_type: dict[str, weakref.WeakSet[MemorySubscription]] = {}
        self._started = False
        self._closed = False

    async def start(self) -> None:
        self._started = True

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        everyone = {sub for subs in self._by_type.values() for sub in subs}
        self._by_type.clear()
        for sub in everyone:
            sub.end(discard=False)

    async def publish(self, event: Event) -> None:
        if self._closed:
            raise KGError(
                f"cannot publish {event.type!r}: the event bus is closed; publish before "
                "close() or start a new bus"
            )
        targets: set[MemorySubscription] = set()
        for key in (event.type, WILDCARD):
            subs = self._by_type.get(key)
            if subs is not None:
                targets.update(subs)
        for sub in targets:
            sub.offer(event)

    def subscribe(self, types: Sequence[str], *, queue_size: int = 256) -> MemorySubscription:
        if isinstance(types, str):
            raise InvalidInput(f"subscribe takes a list of event types, not the string {types!r}")
        if not types:
            raise InvalidInput("subscribe needs at least one event type (or '*' for all)")
        if queue_size < 1:
            raise InvalidInput(f"queue_size must be at least 1, got {queue_size}")
        wanted = frozenset({WILDCARD}) if WILDCARD in types else frozenset(types)
        sub = MemorySubscription(wanted, queue_size, self._remove)
        if self._closed:
            sub.end(discard=True)  # a closed bus delivers nothing: iteration ends at once
            return sub
        for key in wanted:
            self._by_type.setdefault(key, weakref.WeakSet()).add(sub)
        return sub

    @property
    def subscriber_count(self) -> int:
        """Live subscriptions (closed and garbage-collected ones are not counted)."""
        live: set[MemorySubscription] = set()
        for subs in self._by_type.values():
            live.update(subs)
        return len(live)

    def _remove(self, sub: MemorySubscription) -> None:
        for key in sub.types:
            subs = self._by_type.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._by_type[key]
