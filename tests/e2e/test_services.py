"""The test services of `make test` answer: Neo4j over Bolt, Kafka as a real broker."""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from neo4j import AsyncGraphDatabase

from kg.errors import StoreUnavailable
from kg.stores.neo4j import Neo4jGraphStore


async def test_neo4j_answers_a_bolt_query(neo4j_url: str) -> None:
    async with AsyncGraphDatabase.driver(neo4j_url, auth=None) as driver:
        records, _, _ = await driver.execute_query("RETURN 1 AS one")
        assert records[0]["one"] == 1
        info = await driver.get_server_info()
        assert info.agent.startswith("Neo4j/5.26")


async def test_kafka_round_trips_a_message_on_a_fresh_topic(kafka_bootstrap: str) -> None:
    topic = f"kg-test-{uuid.uuid4().hex[:12]}"
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        # The first send creates the topic (auto.create.topics.enable) and waits for the ack.
        meta = await producer.send_and_wait(topic, b"hello", key=b"k")
    finally:
        await producer.stop()
    assert meta.topic == topic

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"kg-test-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        msg = await asyncio.wait_for(consumer.getone(), timeout=30)
    finally:
        await consumer.stop()
    assert (msg.key, msg.value, msg.offset) == (b"k", b"hello", meta.offset)


async def test_an_unreachable_neo4j_names_its_url() -> None:
    url = "bolt://127.0.0.1:9"  # the discard port: nothing listens there
    with pytest.raises(StoreUnavailable, match=re.escape(url)):
        await Neo4jGraphStore(url).start()
