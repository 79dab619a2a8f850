"""A Kafka consumer group as an ``EventSource``: the worker side of the Kafka bus.

Each source event is consumed by one member of the group (Kafka assigns partitions, so one
repository's events stay ordered on one worker). Offsets are committed only by ``commit``,
which the worker calls after the events' effects are stored; a worker killed before that
leaves them to be delivered again. Records that are not an ``Event`` envelope come back as
``Delivery(event=None, error=...)`` and ``dead_letter`` parks them on ``<prefix>event.dead``.
"""

from __future__ import annotations

import contextlib
import logging
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, KafkaError, TopicAlreadyExistsError
from pydantic import ValidationError

from kg.errors import StoreUnavailable
from kg.events.base import Event
from kg.events.schema import DEAD_LETTER, DISCUSSION_PREFIX, SOURCE_TYPES
from kg.events.source import Delivery, dead_letter_event

if TYPE_CHECKING:
    from kg.events.kafka import KafkaConfig

log = logging.getLogger(__name__)


class KafkaGroupSource:
    """``EventSource`` over a consumer group. ``types`` defaults to every source event type
    (``file.changed``, ``commit.pushed``, ``ingest.requested`` and any ``discussion.*``)."""

    def __init__(
        self,
        config: KafkaConfig,
        group: str,
        types: Sequence[str] | None = None,
        *,
        max_poll_records: int = 1000,
    ) -> None:
        self.config = config
        self.group = group
        self._types = list(types) if types is not None else None
        self._max_poll = max_poll_records
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self.rebalances = 0

    @property
    def topics(self) -> list[str]:
        return [self.config.topic(t) for t in (self._types or SOURCE_TYPES)]

    @property
    def dead_letter_topic(self) -> str:
        return self.config.topic(DEAD_LETTER)

    async def start(self) -> None:
        cfg = self.config
        try:
            await self._create_topics([*self.topics, self.dead_letter_topic])
            self._producer = AIOKafkaProducer(bootstrap_servers=cfg.bootstrap, acks="all")
            await self._producer.start()
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=cfg.bootstrap,
                group_id=self.group,
                client_id=f"{cfg.client_id}-worker",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                metadata_max_age_ms=5000,
                max_poll_records=self._max_poll,
                fetch_max_wait_ms=50,
                # an update that re-resolves many dependents can take a while; the group must
                # not evict a worker that is busy applying (redelivery would redo the work)
                session_timeout_ms=45_000,
                heartbeat_interval_ms=3_000,
                max_poll_interval_ms=600_000,
            )
            if self._types is None:
                # discussion.<name> topics appear as webhooks of new kinds arrive
                names = "|".join(re.escape(t) for t in SOURCE_TYPES)
                prefix = re.escape(cfg.topic_prefix)
                disc = re.escape(DISCUSSION_PREFIX)
                self._consumer.subscribe(pattern=f"^{prefix}({names}|{disc}[A-Za-z0-9._-]+)$")
            else:
                self._consumer.subscribe(topics=self.topics)
            await self._consumer.start()
        except KafkaError as exc:
            await self.close()
            raise StoreUnavailable(
                f"Kafka at {cfg.bootstrap!r} is not reachable for worker group {self.group!r} "
                f"({exc}); start the broker or fix KG_KAFKA_BOOTSTRAP"
            ) from exc

    async def _create_topics(self, topics: list[str]) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.bootstrap)
        await admin.start()
        try:
            for topic in topics:
                with contextlib.suppress(TopicAlreadyExistsError):
                    await admin.create_topics([NewTopic(topic, self.config.partitions, 1)])
        finally:
            await admin.close()

    async def close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                with contextlib.suppress(KafkaError):
                    await client.stop()
        self._consumer = self._producer = None

    async def fetch(self, max_events: int, wait: float) -> list[Delivery]:
        assert self._consumer is not None, "start() the source first"
        batch = await self._consumer.getmany(timeout_ms=int(wait * 1000), max_records=max_events)
        out: list[Delivery] = []
        for tp, records in batch.items():
            for rec in records:
                raw = rec.value or b""
                where = {"topic": tp.topic, "partition": tp.partition, "offset": rec.offset}
                try:
                    out.append(Delivery(Event.model_validate_json(raw), raw=b"", **where))
                except ValidationError as exc:
                    error = f"not an event envelope: {exc.errors()[0]['msg']}"
                    out.append(Delivery(None, error=error, raw=raw, **where))
        return out

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        """Commit past these deliveries. A lost partition (rebalance) is not an error: its
        new owner receives the events again and skips the ones already applied."""
        if self._consumer is None or not deliveries:
            return
        offsets: dict[TopicPartition, int] = {}
        for d in deliveries:
            tp = TopicPartition(d.topic, d.partition)
            offsets[tp] = max(offsets.get(tp, 0), d.offset + 1)
        try:
            await self._consumer.commit(offsets)
        except CommitFailedError as exc:
            self.rebalances += 1
            log.warning("offset commit lost to a rebalance (%s); events will be redelivered", exc)

    async def dead_letter(self, delivery: Delivery, error: str) -> None:
        assert self._producer is not None, "start() the source first"
        event = dead_letter_event(delivery, error, f"kafka:{self.group}")
        count = len(await self._producer.partitions_for(self.dead_letter_topic))
        await self._producer.send_and_wait(
            self.dead_letter_topic,
            event.model_dump_json().encode(),
            key=event.repo.encode(),
            partition=zlib.crc32(event.repo.encode()) % count,
        )

    async def committed(self) -> dict[TopicPartition, int]:
        """The group's committed offsets of its assigned partitions (for tests and status)."""
        assert self._consumer is not None
        out: dict[TopicPartition, int] = {}
        for tp in self._consumer.assignment():
            offset = await self._consumer.committed(tp)
            out[tp] = offset if offset is not None else 0
        return out
