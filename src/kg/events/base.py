"""The EventBus seam: versioned events fanned out to subscribers.

Implementations: ``kg.events.memory.InProcessBus`` (embedded default) and, later, a Kafka bus
via aiokafka. Both pass ``tests/contract/test_event_bus.py``.

A subscriber that falls behind never blocks the publisher or other subscribers: its queue is
bounded and the oldest events are dropped (and counted in ``Subscription.dropped``)::

    sub = bus.subscribe(["graph.delta"], queue_size=256)
    await bus.publish(Event.of("graph.delta", repo="r", payload=delta.model_dump()))
    async for event in sub: ...
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

EVENT_VERSION = 1


class Event(BaseModel):
    """The envelope of every event: id (for idempotent apply), type, schema version, repo."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    type: str
    version: int = EVENT_VERSION
    repo: str
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    payload: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, type: str, *, repo: str, payload: dict[str, Any]) -> Event:
        return cls(type=type, repo=repo, payload=payload)


@runtime_checkable
class Subscription(Protocol):
    """An async iterator of events with a drop counter; ``close`` ends the iteration."""

    @property
    def dropped(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def close(self) -> None: ...


@runtime_checkable
class EventBus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, event: Event) -> None: ...

    def subscribe(self, types: Sequence[str], *, queue_size: int = 256) -> Subscription:
        """Events of the given types published after this call (``"*"`` means all types)."""
        ...
