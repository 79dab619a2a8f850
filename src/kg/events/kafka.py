"""The Kafka EventBus (aiokafka): one topic per event type, keyed (partitioned) by repository.

Two ways to read, for two kinds of reader:

* ``KafkaBus.subscribe`` — fan-out for API replicas. Each bus owns ONE consumer with manual
  partition assignment and no group, so every replica receives every event of the types its
  subscribers want, and dispatches locally to bounded drop-oldest queues (the same
  ``MemorySubscription`` as the in-process bus). A subscription sees only events published
  after ``subscribe`` returned: partitions are added at their end offset before this bus
  publishes again, and events this bus sent earlier are filtered by offset.
* ``KafkaBus.group_source(group)`` — a consumer group for workers (``kg.events.source``):
  each source event is handled by one worker of the group, offsets are committed only when
  the worker says its effects are stored, and poison records go to the dead-letter topic.

Envelopes travel as JSON (``Event.model_dump_json``), keyed by ``repo`` so one repository's
events stay ordered on one partition::

    bus = KafkaBus("127.0.0.1:9092", topic_prefix="kg.")
    await bus.start()
    sub = bus.subscribe(["graph.delta", "insight"])
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from pydantic import ValidationError

from kg.errors import InvalidInput, KGError, StoreUnavailable
from kg.events.base import Event
from kg.events.kafka_group import KafkaGroupSource
from kg.events.memory import WILDCARD, MemorySubscription

log = logging.getLogger(__name__)

_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
FETCH_MAX_RECORDS = 5000
DISCOVERY_SECONDS = 1.0  # how often a wildcard subscriber looks for topics made elsewhere


@dataclass(frozen=True, slots=True)
class KafkaConfig:
    bootstrap: str
    topic_prefix: str = "kg."
    partitions: int = 4
    client_id: str = "codekg"

    def topic(self, event_type: str) -> str:
        name = self.topic_prefix + event_type
        if not _TOPIC.match(name):
            raise InvalidInput(
                f"event type {event_type!r} cannot name a Kafka topic ({name!r}); use letters, "
                "digits, '.', '_' and '-' only"
            )
        return name


class KafkaSubscription(MemorySubscription):
    """A local queue plus, per partition, the offset below which events predate it."""

    def __init__(self, types: frozenset[str], queue_size: int, bus: KafkaBus) -> None:
        super().__init__(types, queue_size, bus._remove)
        self.floors: dict[TopicPartition, int | asyncio.Future[int]] = {}


@dataclass(slots=True)
class _Wanted:
    """Topic additions waiting for the consumer loop, each with its completion future."""

    topics: dict[str, bool] = field(default_factory=dict)  # topic -> from subscribe time
    waiters: list[asyncio.Future[None]] = field(default_factory=list)


class KafkaBus:
    """``EventBus`` over Kafka. ``start`` connects (raises ``StoreUnavailable`` naming the
    bootstrap servers when the broker cannot be reached)."""

    def __init__(
        self,
        bootstrap: str,
        *,
        topic_prefix: str = "kg.",
        partitions: int = 4,
        client_id: str = "codekg",
    ) -> None:
        self.config = KafkaConfig(bootstrap, topic_prefix, partitions, client_id)
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._by_type: dict[str, set[KafkaSubscription]] = {}
        self._known: set[str] = set()  # topics that exist (created or seen)
        self._assigned: set[str] = set()
        self._next: dict[TopicPartition, int] = {}  # next offset to read per partition
        self._last_sent: dict[TopicPartition, asyncio.Future[int]] = {}
        self._partition_count: dict[str, int] = {}
        self._wanted = _Wanted()
        self._extending = _Wanted()  # what the consumer loop is assigning right now
        self._wake = asyncio.Event()
        self._wildcard_since: float | None = None
        self._closed = False
        self.publish_errors = 0
        self.dispatched = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._producer is not None:
            return
        cfg = self.config
        try:
            self._admin = AIOKafkaAdminClient(bootstrap_servers=cfg.bootstrap)
            await self._admin.start()
            self._producer = AIOKafkaProducer(
                bootstrap_servers=cfg.bootstrap, client_id=cfg.client_id, linger_ms=1
            )
            await self._producer.start()
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=cfg.bootstrap,
                client_id=cfg.client_id,
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="latest",
                fetch_max_wait_ms=50,
            )
            await self._consumer.start()
        except KafkaError as exc:
            await self._shutdown_clients()
            raise StoreUnavailable(
                f"Kafka at {cfg.bootstrap!r} is not reachable ({exc}); start the broker or fix "
                "KG_KAFKA_BOOTSTRAP"
            ) from exc
        self._loop_task = asyncio.create_task(self._consume_loop())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        everyone = {sub for subs in self._by_type.values() for sub in subs}
        self._by_type.clear()
        for sub in everyone:
            sub.end(discard=False)
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        for waiter in self._wanted.waiters + self._extending.waiters:
            if not waiter.done():
                waiter.cancel()
        await self._shutdown_clients()

    async def _shutdown_clients(self) -> None:
        for client in (self._consumer, self._producer, self._admin):
            if client is not None:
                with contextlib.suppress(KafkaError, asyncio.CancelledError):
                    await client.close() if isinstance(
                        client, AIOKafkaAdminClient
                    ) else await client.stop()

    # -- publish --------------------------------------------------------------------------

    async def publish(self, event: Event) -> None:
        """Hand the event to the producer; never waits for any subscriber."""
        if self._closed or self._producer is None:
            raise KGError(
                f"cannot publish {event.type!r}: the Kafka bus is "
                + ("closed" if self._closed else "not started (call start() first)")
            )
        topic = self.config.topic(event.type)
        if topic not in self._known:
            await self.ensure_topics([topic])
        if topic not in self._assigned and self._wants(event.type):
            self._request(topic, from_subscribe=True)
        pending = self._wanted.waiters + self._extending.waiters
        if pending:  # subscriptions made before this publish must be in place first
            await asyncio.gather(*pending)
        partition = await self.partition_for(topic, event.repo)
        sent = await self._producer.send(
            topic, event.model_dump_json().encode(), key=event.repo.encode(), partition=partition
        )
        offset: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        sent.add_done_callback(lambda f: self._sent(f, offset, topic))
        self._last_sent[TopicPartition(topic, partition)] = offset

    async def partition_for(self, topic: str, repo: str) -> int:
        """The partition of a repository's events: stable across processes (crc32 of repo)."""
        count = self._partition_count.get(topic)
        if count is None:
            count = len(await self._partitions(topic))
            self._partition_count[topic] = count
        return zlib.crc32(repo.encode()) % count

    def _sent(
        self, sent: asyncio.Future[RecordMetadata], offset: asyncio.Future[int], topic: str
    ) -> None:
        if sent.cancelled() or sent.exception() is not None:
            self.publish_errors += 1
            why = "cancelled" if sent.cancelled() else sent.exception()
            log.warning("publish to %s failed: %s", topic, why)
            offset.set_result(-1)
        else:
            offset.set_result(sent.result().offset)

    async def flush(self) -> None:
        """Wait until everything published so far is acknowledged by the broker."""
        if self._producer is not None:
            await self._producer.flush()

    async def ensure_topics(self, topics: Sequence[str]) -> None:
        missing = [t for t in topics if t not in self._known]
        if not missing or self._admin is None:
            return
        new = [NewTopic(t, self.config.partitions, 1) for t in missing]
        with contextlib.suppress(TopicAlreadyExistsError):
            await self._admin.create_topics(new)
        self._known.update(missing)

    # -- subscribe ------------------------------------------------------------------------

    def subscribe(self, types: Sequence[str], *, queue_size: int = 256) -> KafkaSubscription:
        if isinstance(types, str):
            raise InvalidInput(f"subscribe takes a list of event types, not the string {types!r}")
        if not types:
            raise InvalidInput("subscribe needs at least one event type (or '*' for all)")
        if queue_size < 1:
            raise InvalidInput(f"queue_size must be at least 1, got {queue_size}")
        wanted = frozenset({WILDCARD}) if WILDCARD in types else frozenset(types)
        sub = KafkaSubscription(wanted, queue_size, self)
        if self._closed:
            sub.end(discard=True)
            return sub
        # Events this bus already sent are older than the subscription: remember where.
        sub.floors = dict(self._last_sent)
        for key in wanted:
            self._by_type.setdefault(key, set()).add(sub)
        if WILDCARD in wanted:
            if self._wildcard_since is None:
                self._wildcard_since = time.time()
            for topic in self._known:
                if topic.startswith(self.config.topic_prefix):
                    self._request(topic, from_subscribe=True)
            self._wake.set()
        else:
            for type_ in wanted:
                self._request(self.config.topic(type_), from_subscribe=True)
        return sub

    def _wants(self, event_type: str) -> bool:
        return bool(self._by_type.get(event_type) or self._by_type.get(WILDCARD))

    def _request(self, topic: str, *, from_subscribe: bool) -> None:
        if topic in self._assigned or topic in self._wanted.topics:
            return
        self._wanted.topics[topic] = from_subscribe
        self._wanted.waiters.append(asyncio.get_running_loop().create_future())
        self._wake.set()

    def _remove(self, sub: MemorySubscription) -> None:
        for key in sub.types:
            subs = self._by_type.get(key)
            if subs is not None:
                subs.discard(sub)

    # -- the fan-out consumer -------------------------------------------------------------

    async def _consume_loop(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        last_discovery = 0.0
        while not self._closed:
            if self._wanted.topics:
                await self._extend_assignment(consumer)
            if self._wildcard_since is not None and time.monotonic() - last_discovery > 1.0:
                last_discovery = time.monotonic()
                await self._discover(consumer)
            if not self._assigned:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), DISCOVERY_SECONDS)
                continue
            try:
                batch = await consumer.getmany(timeout_ms=50, max_records=FETCH_MAX_RECORDS)
            except KafkaError as exc:
                log.warning("Kafka fetch failed (%s); retrying", exc)
                await asyncio.sleep(0.5)
                continue
            if batch:
                await self._dispatch(batch)

    async def _extend_assignment(self, consumer: AIOKafkaConsumer) -> None:
        wanted, self._wanted = self._wanted, _Wanted()
        self._extending = wanted
        try:
            await self.ensure_topics(list(wanted.topics))
            added: list[TopicPartition] = []
            for topic in wanted.topics:
                parts = await self._partitions(topic)
                added += [TopicPartition(topic, p) for p in parts]
            ends = await consumer.end_offsets(added) if added else {}
            for tp in added:
                self._next[tp] = ends[tp]
            self._assigned.update(wanted.topics)
            consumer.assign(list(self._next))
            for tp, offset in self._next.items():
                consumer.seek(tp, offset)
        except KafkaError as exc:
            log.warning("could not assign %s (%s); will retry", sorted(wanted.topics), exc)
            self._wanted.topics.update(wanted.topics)
            self._wanted.waiters += wanted.waiters
            self._extending = _Wanted()
            await asyncio.sleep(0.2)
            return
        self._extending = _Wanted()
        for waiter in wanted.waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _partitions(self, topic: str) -> list[int]:
        assert self._producer is not None
        parts = await self._producer.partitions_for(topic)
        return sorted(parts)

    async def _discover(self, consumer: AIOKafkaConsumer) -> None:
        """Topics created by other processes after a wildcard subscription: read them from
        the subscription time on."""
        try:
            topics = await consumer.topics()
        except KafkaError:
            return
        prefix = self.config.topic_prefix
        fresh = [t for t in topics if t.startswith(prefix) and t not in self._assigned]
        fresh = [t for t in fresh if t not in self._wanted.topics]
        if not fresh or self._wildcard_since is None:
            return
        self._known.update(fresh)
        tps = [TopicPartition(t, p) for t in fresh for p in await self._partitions(t)]
        since = int(self._wildcard_since * 1000)
        found = await consumer.offsets_for_times({tp: since for tp in tps})
        ends = await consumer.end_offsets(tps)
        for tp in tps:
            hit = found.get(tp)
            self._next[tp] = hit.offset if hit is not None else ends[tp]
        self._assigned.update(fresh)
        consumer.assign(list(self._next))
        for tp, offset in self._next.items():
            consumer.seek(tp, offset)

    async def _dispatch(
        self, batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
    ) -> None:
        records: list[tuple[Event, TopicPartition, int]] = []
        for tp, recs in batch.items():
            for rec in recs:
                self._next[tp] = rec.offset + 1
                try:
                    event = Event.model_validate_json(rec.value or b"")
                except ValidationError as exc:
                    log.warning("skipping undecodable record %s@%d: %s", tp, rec.offset, exc)
                    continue
                records.append((event, tp, rec.offset))
        if len(batch) > 1:
            # Several topics in one fetch: restore publication order across them.
            records.sort(key=lambda r: r[0].time)
        targets: dict[str, list[KafkaSubscription]] = {}  # per type, for this batch
        for event, tp, offset in records:
            subs = targets.get(event.type)
            if subs is None:
                both = self._by_type.get(event.type, set()) | self._by_type.get(WILDCARD, set())
                subs = targets[event.type] = list(both)
            for sub in subs:
                floor = sub.floors.get(tp) if sub.floors else None
                if floor is not None:
                    value = floor if isinstance(floor, int) else await floor
                    if offset <= value:
                        continue
                    del sub.floors[tp]
                sub.offer(event)
            self.dispatched += 1

    # -- worker groups --------------------------------------------------------------------

    def group_source(
        self, group: str, types: Sequence[str] | None = None, *, max_poll_records: int = 1000
    ) -> KafkaGroupSource:
        """A consumer-group ``EventSource`` over the source-event topics (or ``types``)."""
        return KafkaGroupSource(self.config, group, types, max_poll_records=max_poll_records)
