"""Applying a stream of batches with several writes in flight and the results in order.

A server store (Neo4j) runs each ``apply`` transaction on one server thread, so a bulk load
that waits for every commit before sending the next batch leaves the server's other cores
idle. ``apply_in_order`` keeps up to ``GraphStore.concurrent_applies`` batches in flight (1 for
the embedded store: plain sequential applies), each still one atomic ``apply``, and hands the
deltas back in batch order::

    deltas = await apply_in_order(store.apply, store.concurrent_applies, batches, then=count)

The batches must not depend on each other's writes (disjoint replace scopes, relations that
point at entities committed before the stream started): then any commit order gives the same
graph as applying them one after another.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable

from kg.model import Batch, GraphDelta

log = logging.getLogger(__name__)

Apply = Callable[[Batch], Awaitable[GraphDelta]]
Then = Callable[[Batch, GraphDelta], Awaitable[None]]


async def apply_in_order(
    apply: Apply,
    window: int,
    batches: Iterable[Batch] | AsyncIterable[Batch],
    then: Then | None = None,
) -> list[GraphDelta]:
    """``apply`` every batch with at most ``window`` in flight; the deltas in batch order.
    ``batches`` may be produced asynchronously (while earlier ones are being written).

    ``then(batch, delta)`` runs for each batch in batch order, one at a time, while later
    batches are being written. When an apply fails no further batch is started, the ones
    already in flight finish and every one of them that was applied still gets its ``then``
    (its writes are committed); then the first error is raised. Cancellation cancels the
    writes in flight (each rolls back or commits whole).
    """
    deltas: list[GraphDelta] = []
    if window <= 1:
        async for batch in _each(batches):
            delta = await apply(batch)
            if then is not None:
                await then(batch, delta)
            deltas.append(delta)
        return deltas
    inflight: deque[tuple[Batch, asyncio.Future[GraphDelta]]] = deque()

    async def settle(batch: Batch, write: asyncio.Future[GraphDelta]) -> None:
        delta = await write
        if then is not None:
            await then(batch, delta)
        deltas.append(delta)

    try:
        async for batch in _each(batches):
            inflight.append((batch, asyncio.ensure_future(apply(batch))))
            if len(inflight) >= window:
                await settle(*inflight.popleft())
        while inflight:
            await settle(*inflight.popleft())
    except Exception:
        await _finish(inflight, settle)
        raise
    except BaseException:
        for _, write in inflight:
            write.cancel()
        await asyncio.gather(*(write for _, write in inflight), return_exceptions=True)
        raise
    return deltas


async def _each(batches: Iterable[Batch] | AsyncIterable[Batch]) -> AsyncIterator[Batch]:
    if isinstance(batches, AsyncIterable):
        async for batch in batches:
            yield batch
    else:
        for batch in batches:
            yield batch


async def _finish(
    inflight: deque[tuple[Batch, asyncio.Future[GraphDelta]]],
    settle: Callable[[Batch, asyncio.Future[GraphDelta]], Awaitable[None]],
) -> None:
    """Let the writes still in flight end; settle those that were applied. Their own errors
    are logged: the caller raises the first one."""
    while inflight:
        batch, write = inflight.popleft()
        try:
            await settle(batch, write)
        except Exception:
            log.warning("a concurrent apply of %s also failed", batch.repo, exc_info=True)
