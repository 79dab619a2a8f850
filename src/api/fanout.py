"""Shared subscription execution: one execution and one JSON encoding per event, however many
clients run the same subscription.

Strawberry runs a subscription once per client: with 1,000 IDE windows following
``graphChanged(repo: "x")`` every event was executed and serialised 1,000 times. The hub keys a
subscription by what decides its results — document text, operation name, variables and the
caller's auth scope — and runs one ``SharedStream`` per key. Each result is encoded once into a
``Payload``; every subscriber (``Member``) gets the same object and its WebSocket frame is built
around the already-encoded text (once per operation id, not per subscriber)::

    hub = FanoutHub(schema, shareable=frozenset({"graphChanged"}), queue_size=256)
    key = hub.key(query, operation_name, variables, scope="authorized")
    if key is not None:
        member = hub.join(key, lambda: make_context(...))
        try:
            async for item in member: ...   # Payload (send its frame) or Rejected (send errors)
        finally:
            hub.leave(member)

Backpressure is per member: the stream never waits for a client; a member whose client reads
slowly keeps only its newest ``queue_size`` results (oldest dropped, counted in ``dropped``).
Validation, limits and auth run in the shared execution, before anything executes; a rejected
operation reaches every member as ``Rejected``. Identical keys validate identically, so a member
joining a running stream has passed the same checks.

Only root fields named in ``shareable`` are shared: a subscription that yields per-subscriber
state when it starts (``ingestProgress`` sends the job's state first) must run per client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from graphql import FieldNode, GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.error import GraphQLFormattedError
from strawberry.schema.base import BaseSchema
from strawberry.types.execution import ExecutionResult, PreExecutionError

log = logging.getLogger(__name__)

# the operation ids clients use are few ("1", uuids per window); frames are cached per payload
FRAME_CACHE_LIMIT = 64


@dataclass(frozen=True)
class StreamKey:
    """What makes two subscriptions' results identical."""

    query: str
    operation_name: str | None
    variables: str  # canonical JSON
    scope: str  # the caller's auth scope: results may one day depend on it


class Payload:
    """One execution's result (``{"data", "errors", "extensions"}``), JSON-encoded once."""

    __slots__ = ("_frames", "text")

    def __init__(self, result: ExecutionResult) -> None:
        body: dict[str, object] = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        if result.extensions:
            body["extensions"] = result.extensions
        self.text = json.dumps(body, separators=(",", ":"))
        self._frames: dict[tuple[str, str], str] = {}

    def frame(self, kind: str, op_id: str) -> str:
        """The protocol message carrying this payload: ``kind`` is ``next``
        (graphql-transport-ws) or ``data`` (legacy graphql-ws)."""
        cache_key = (kind, op_id)
        found = self._frames.get(cache_key)
        if found is None:
            found = f'{{"id":{json.dumps(op_id)},"type":"{kind}","payload":{self.text}}}'
            if len(self._frames) < FRAME_CACHE_LIMIT:
                self._frames[cache_key] = found
        return found


@dataclass(frozen=True)
class Rejected:
    """The operation failed before executing (validation, limits, auth): these errors, no data."""

    errors: list[GraphQLFormattedError]


Item = Payload | Rejected


class Member:
    """One subscriber's bounded queue of shared results; an async iterator that ends when the
    stream ends (queued results are still delivered first)."""

    def __init__(self, key: StreamKey, queue_size: int) -> None:
        self.key = key
        self._queue: deque[Item] = deque()
        self._size = queue_size
        self._ended = False
        self._wakeup = asyncio.Event()
        self.dropped = 0

    def offer(self, item: Item) -> None:
        """Queue without ever waiting; the oldest result makes room when full."""
        if self._ended:
            return
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(item)
        self._wakeup.set()

    def end(self) -> None:
        self._ended = True
        self._wakeup.set()

    def __aiter__(self) -> Member:
        return self

    async def __anext__(self) -> Item:
        while True:
            if self._queue:
                return self._queue.popleft()
            if self._ended:
                raise StopAsyncIteration
            self._wakeup.clear()
            await self._wakeup.wait()


class SharedStream:
    """One execution of a subscription whose every result goes to all its members."""

    def __init__(self, hub: FanoutHub, key: StreamKey) -> None:
        self.key = key
        self.members: set[Member] = set()
        self.executions = 0
        self.task: asyncio.Task[None] | None = None
        self._hub = hub
        self._retired = False

    def start(self, context: object) -> None:
        self.task = asyncio.create_task(self._run(context), name=f"fanout:{self.key.query[:40]}")

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _run(self, context: object) -> None:
        k = self.key
        try:
            source = await self._hub.schema.subscribe(
                k.query,
                variable_values=json.loads(k.variables),
                context_value=context,
                operation_name=k.operation_name,
            )
            try:
                await self._pump(source)
            finally:
                self._retire()  # before aclose awaits: nobody joins a stream that is ending
                await source.aclose()
        except Exception:
            # strawberry catches resolver errors into results; this is a bug in the pump itself
            log.exception("shared subscription stream failed: %s", k.query[:200])
        finally:
            self._retire()

    async def _pump(self, source: AsyncGenerator[ExecutionResult, None]) -> None:
        first = True
        async for result in source:
            if first and isinstance(result, PreExecutionError):
                self._broadcast(Rejected([e.formatted for e in result.errors or []]))
                return
            first = False
            self.executions += 1
            self._hub.executions += 1
            self._broadcast(Payload(result))

    def _broadcast(self, item: Item) -> None:
        for member in self.members:
            member.offer(item)

    def _retire(self) -> None:
        if self._retired:
            return
        self._retired = True
        self._hub.forget(self)
        for member in self.members:
            self._hub.dropped_by_gone += member.dropped
            member.end()


class FanoutHub:
    """Shared subscription streams by ``StreamKey``: started by the first member, stopped when
    the last one leaves."""

    def __init__(self, schema: BaseSchema, *, shareable: frozenset[str], queue_size: int) -> None:
        self.schema = schema
        self.shareable = shareable
        self.queue_size = queue_size
        self.executions = 0  # results executed by shared streams, all streams together
        self.dropped_by_gone = 0  # results dropped for slow members that have since left
        self._streams: dict[StreamKey, SharedStream] = {}

    @property
    def stream_count(self) -> int:
        return len(self._streams)

    @property
    def member_count(self) -> int:
        return sum(len(s.members) for s in self._streams.values())

    @property
    def dropped(self) -> int:
        """Results dropped for slow members (drop-oldest), all members ever."""
        live = sum(m.dropped for s in self._streams.values() for m in s.members)
        return self.dropped_by_gone + live

    def key(
        self,
        query: str,
        operation_name: str | None,
        variables: Mapping[str, object] | None,
        *,
        scope: str,
    ) -> StreamKey | None:
        """The sharing key, or None when this operation must run on its own (not a
        subscription to a shareable field, or a document strawberry should reject itself)."""
        if _root_field(query, operation_name) not in self.shareable:
            return None
        try:
            canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError):
            return None
        return StreamKey(query, operation_name, canonical, scope)

    def join(self, key: StreamKey, context: Callable[[], object]) -> Member:
        """A new member of ``key``'s stream (started, with ``context()``, if none runs)."""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = SharedStream(self, key)
            stream.start(context())
        member = Member(key, self.queue_size)
        stream.members.add(member)
        return member

    def leave(self, member: Member) -> None:
        member.end()
        stream = self._streams.get(member.key)
        if stream is None or member not in stream.members:
            return
        stream.members.discard(member)
        self.dropped_by_gone += member.dropped
        if member.dropped:
            log.info("a slow subscriber left having missed %d results", member.dropped)
        if not stream.members:
            # stop now (not when the task notices), so a new join starts a fresh stream
            self.forget(stream)
            stream.stop()

    def forget(self, stream: SharedStream) -> None:
        if self._streams.get(stream.key) is stream:
            del self._streams[stream.key]


@lru_cache(maxsize=512)
def _root_field(query: str, operation_name: str | None) -> str | None:
    """The single root field of the named (or only) subscription operation, else None."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        ops = [o for o in ops if o.name is not None and o.name.value == operation_name]
    if len(ops) != 1 or ops[0].operation is not OperationType.SUBSCRIPTION:
        return None
    selections = ops[0].selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field: FieldNode = selections[0]
    return field.name.value


__all__ = ["FanoutHub", "Member", "Payload", "Rejected", "StreamKey"]
