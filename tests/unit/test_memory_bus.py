"""InProcessBus behaviour beyond the shared contract: lifetimes, validation, drain on close."""

from __future__ import annotations

import gc

import pytest

from kg.errors import InvalidInput, KGError
from kg.events.base import Event
from kg.events.memory import InProcessBus


def ev(n: int, type_: str = "t") -> Event:
    return Event.of(type_, repo="r", payload={"n": n})


async def test_subscriptions_leave_on_close_and_on_garbage_collection() -> None:
    bus = InProcessBus()
    kept = bus.subscribe(["a", "b"])
    closed = bus.subscribe(["*"])
    forgotten = bus.subscribe(["a"])
    assert bus.subscriber_count == 3
    await closed.close()
    assert bus.subscriber_count == 2
    del forgotten
    gc.collect()
    assert bus.subscriber_count == 1
    await bus.publish(ev(1, "b"))
    assert (await anext(aiter(kept))).payload["n"] == 1


async def test_drop_oldest_counts_exactly() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(["t"], queue_size=3)
    for i in range(10):
        await bus.publish(ev(i))
    assert sub.dropped == 7
    await bus.close()
    assert [e.payload["n"] async for e in sub] == [7, 8, 9]  # bus close drains, then ends


async def test_subscription_close_discards_queued_events() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(["t"])
    await bus.publish(ev(1))
    await sub.close()
    assert [e async for e in sub] == []


async def test_closed_bus_refuses_publish_and_ends_new_subscriptions() -> None:
    bus = InProcessBus()
    await bus.start()
    await bus.close()
    with pytest.raises(KGError, match="event bus is closed"):
        await bus.publish(ev(1))
    assert [e async for e in bus.subscribe(["t"])] == []
    assert bus.subscriber_count == 0


@pytest.mark.parametrize(
    ("types", "size", "message"),
    [([], 8, "at least one event type"), (["t"], 0, "queue_size"), ("t", 8, "not the string")],
)
def test_subscribe_rejects_bad_arguments(types: list[str], size: int, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        InProcessBus().subscribe(types, queue_size=size)
