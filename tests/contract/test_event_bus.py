"""The EventBus contract, run unchanged over every implementation in ``BUS_FACTORIES``.

Written against ``kg.events.base`` only. A new bus joins by adding a ``pytest.param`` whose
value is a zero-argument callable returning an un-started bus (e.g. the Kafka bus, marked
``pytest.mark.kafka``).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from kg.events.base import Event, EventBus, Subscription
from kg.events.kafka import KafkaBus
from kg.events.memory import InProcessBus

BusFactory = Callable[[], EventBus]


def kafka_bus() -> KafkaBus:
    # The `kafka` mark checks KG_TEST_KAFKA_BOOTSTRAP first (fails in CI when it is missing);
    # a fresh topic prefix per test keeps tests from seeing each other's events.
    prefix = f"contract-{uuid.uuid4().hex[:10]}."
    return KafkaBus(os.environ["KG_TEST_KAFKA_BOOTSTRAP"], topic_prefix=prefix, partitions=2)


BUS_FACTORIES = [
    pytest.param(InProcessBus, id="in-process"),
    pytest.param(kafka_bus, id="kafka", marks=pytest.mark.kafka),
]

REPO = "contract"
WAIT = 10.0  # seconds; generous for a broker, instant in process


@pytest.fixture(params=BUS_FACTORIES)
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[EventBus]:
    factory: BusFactory = request.param
    instance = factory()
    await instance.start()
    yield instance
    await instance.close()  # after tests that closed it already: close must be idempotent


def ev(type_: str, n: int) -> Event:
    return Event.of(type_, repo=REPO, payload={"n": n})


class Reader:
    """Keeps one iterator per subscription, so events are never re-read or skipped."""

    def __init__(self, sub: Subscription) -> None:
        self.sub = sub
        self._it = aiter(sub)

    async def take(self, count: int) -> list[Event]:
        async with asyncio.timeout(WAIT):
            return [await anext(self._it) for _ in range(count)]

    async def until(self, type_: str) -> list[Event]:
        """Events up to and including the first of ``type_``."""
        out: list[Event] = []
        async with asyncio.timeout(WAIT):
            while not out or out[-1].type != type_:
                out.append(await anext(self._it))
        return out


async def eventually(condition: Callable[[], bool]) -> None:
    """Wait until a counter the Protocol exposes (no event to await) reaches a value."""
    for _ in range(int(WAIT / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"condition still false after {WAIT}s")


def numbers(events: list[Event]) -> list[int]:
    return [e.payload["n"] for e in events]


async def test_is_an_event_bus(bus: EventBus) -> None:
    assert isinstance(bus, EventBus)
    assert isinstance(bus.subscribe(["t"]), Subscription)


async def test_order_is_kept_per_subscriber(bus: EventBus) -> None:
    reader = Reader(bus.subscribe(["t"]))
    sent = [ev("t", i) for i in range(50)]
    for event in sent[:20]:
        await bus.publish(event)
    first = await reader.take(10)
    for event in sent[20:]:
        await bus.publish(event)
    rest = await reader.take(40)
    assert numbers(first + rest) == list(range(50))
    assert [e.id for e in first + rest] == [e.id for e in sent]
    assert reader.sub.dropped == 0


async def test_only_events_after_subscribe_are_delivered(bus: EventBus) -> None:
    await bus.publish(ev("t", 0))
    reader = Reader(bus.subscribe(["t"]))
    await bus.publish(ev("t", 1))
    assert numbers(await reader.take(1)) == [1]


async def test_fan_out_to_every_subscriber(bus: EventBus) -> None:
    readers = [Reader(bus.subscribe(["t"])) for _ in range(5)]
    sent = [ev("t", i) for i in range(20)]
    for event in sent:
        await bus.publish(event)
    got = await asyncio.gather(*(r.take(20) for r in readers))
    for events in got:
        assert events == sent  # same envelope: id, type, version, repo, time, payload


async def test_type_filter_and_wildcard(bus: EventBus) -> None:
    only_a = Reader(bus.subscribe(["a", "end"]))
    b_or_c = Reader(bus.subscribe(["b", "c", "end"]))
    everything = Reader(bus.subscribe(["*"]))
    for i, type_ in enumerate(["a", "b", "c", "d", "a", "end"]):
        await bus.publish(ev(type_, i))
    assert [e.type for e in await only_a.until("end")] == ["a", "a", "end"]
    assert [e.type for e in await b_or_c.until("end")] == ["b", "c", "end"]
    assert [e.type for e in await everything.until("end")] == ["a", "b", "c", "d", "a", "end"]


async def test_slow_subscriber_drops_oldest_and_never_blocks_a_fast_one(bus: EventBus) -> None:
    slow = Reader(bus.subscribe(["t"], queue_size=4))
    fast = Reader(bus.subscribe(["t"], queue_size=1000))
    total = 100
    fast_task = asyncio.create_task(fast.take(total))
    async with asyncio.timeout(WAIT):  # publish must not wait for the slow reader
        for i in range(total):
            await bus.publish(ev("t", i))
            await asyncio.sleep(0)  # let the fast reader run between events
    assert numbers(await fast_task) == list(range(total))
    assert fast.sub.dropped == 0

    await eventually(lambda: slow.sub.dropped >= total - 4)  # a broker may still be fetching
    received: list[int] = []
    while not received or received[-1] != total - 1:
        received += numbers(await slow.take(1))
    assert received == sorted(set(received))  # still in order, no repeats
    assert len(received) + slow.sub.dropped == total  # every event read or counted
    assert len(received) <= 4
    assert received[0] >= total - 4  # the oldest were dropped, the newest kept


async def test_publish_never_waits_even_when_nobody_reads(bus: EventBus) -> None:
    sub = bus.subscribe(["t"], queue_size=1)
    async with asyncio.timeout(WAIT):
        for i in range(5000):
            await bus.publish(ev("t", i))
    await eventually(lambda: sub.dropped >= 4999)
    assert numbers(await Reader(sub).take(1)) == [4999]


async def test_closing_a_subscription_ends_its_iteration(bus: EventBus) -> None:
    sub = bus.subscribe(["t"])
    other = Reader(bus.subscribe(["t"]))
    seen: list[Event] = []
    first_seen = asyncio.Event()

    async def consume() -> None:
        async for event in sub:
            seen.append(event)
            first_seen.set()

    task = asyncio.create_task(consume())
    await bus.publish(ev("t", 0))
    async with asyncio.timeout(WAIT):
        await first_seen.wait()
    await sub.close()
    async with asyncio.timeout(WAIT):
        await task  # the blocked `async for` ends
    await bus.publish(ev("t", 1))
    assert numbers(await other.take(2)) == [0, 1]  # others are unaffected
    assert numbers(seen) == [0]
    assert [e async for e in sub] == []  # a closed subscription stays ended
    await sub.close()  # idempotent


async def test_closing_the_bus_ends_every_iteration(bus: EventBus) -> None:
    subs = [bus.subscribe(["*"]) for _ in range(3)]

    async def drain(sub: Subscription) -> int:
        return len([e async for e in sub])

    tasks = [asyncio.create_task(drain(s)) for s in subs]
    await asyncio.sleep(0)
    await bus.close()
    async with asyncio.timeout(WAIT):
        counts = await asyncio.gather(*tasks)
    assert all(c == 0 for c in counts)


async def test_a_thousand_subscribers_each_receive_the_event(bus: EventBus) -> None:
    readers = [Reader(bus.subscribe(["t"], queue_size=8)) for _ in range(1000)]
    sent = ev("t", 7)
    await bus.publish(sent)
    got = await asyncio.gather(*(r.take(1) for r in readers))
    assert all(events == [sent] for events in got)
    assert sum(r.sub.dropped for r in readers) == 0
