"""The worker on real Kafka: consumer groups, dead letters, fan-out, and crash recovery.

The crash test runs ``kg worker`` as a subprocess, kills it with SIGKILL while it is applying
a stream of file events, restarts it, and proves that every event's effect is applied exactly
once: the events applied by the first run (recorded in the store) plus those applied by the
second add up to the total, redelivered ones are recognised and skipped, and the graph holds
exactly one file, one function and one processed-id entry per event.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from kg.events.base import Event
from kg.events.kafka import KafkaBus
from kg.events.kafka_group import KafkaGroupSource
from kg.events.schema import DEAD_LETTER, DeadLetter
from kg.events.source import Delivery
from kg.model import EntityKind
from kg.runtime import open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery
from kg.stores.sqlite import SqliteGraphStore
from kg.worker import EVENT_STATE, assemble

pytestmark = pytest.mark.kafka
REPO = "kafkarepo"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / REPO
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text("def core(x):\n    return x\n")
    return root


@pytest.fixture
def settings(tmp_path: Path, kafka_bootstrap: str) -> Settings:
    return Settings(
        graph_url=f"sqlite:///{tmp_path}/kg/graph.db",
        embed=False,
        history=False,
        kafka_bootstrap=kafka_bootstrap,
        kafka_topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        kafka_partitions=2,
    )


def changed(i: int) -> Event:
    content = f"def f_{i}():\n    return {i}\n"
    return Event.of(
        "file.changed", repo=REPO, payload={"path": f"gen/f_{i}.py", "content": content}
    )


async def test_worker_group_applies_dead_letters_and_fans_out(
    settings: Settings, repo: Path
) -> None:
    async with open_runtime(settings) as rt:
        await rt.indexer().index(repo, REPO)
        assert isinstance(rt.bus, KafkaBus)
        source = rt.bus.group_source("g1")
        await source.start()
        deltas = rt.bus.subscribe(["graph.delta"])
        dead = rt.bus.subscribe([DEAD_LETTER])
        worker = assemble(rt, source, fetch_wait=0.1)
        poison = Event(type="file.changed", version=7, repo=REPO, payload={"path": "x.py"})
        await rt.bus.publish(poison)
        for i in range(5):
            await rt.bus.publish(changed(i))
        async with asyncio.timeout(30):
            while worker.stats.applied < 5:
                await worker.step()
            delta = await anext(aiter(deltas))
            letter = DeadLetter.model_validate((await anext(aiter(dead))).payload)
        await source.close()
        assert delta.payload["repo"] == REPO and delta.payload["added"]
        assert "v7" in letter.error and letter.event is not None
        assert letter.event["id"] == poison.id and letter.topic.endswith("file.changed")
        found = await rt.store.count(EntityQuery(repo=REPO, kinds=[EntityKind.FUNCTION]))
        assert found == 6  # core + f_0..f_4


async def test_undecodable_record_goes_to_dead_letter(settings: Settings, repo: Path) -> None:
    async with open_runtime(settings) as rt:
        await rt.indexer().index(repo, REPO)
        assert isinstance(rt.bus, KafkaBus)
        source = rt.bus.group_source("g2")
        await source.start()
        dead = rt.bus.subscribe([DEAD_LETTER])
        producer = rt.bus._producer  # a raw record that no bus would publish
        assert producer is not None
        await producer.send_and_wait(source.topics[0], b"{not json", key=b"x")
        await rt.bus.publish(changed(1))
        worker = assemble(rt, source, fetch_wait=0.1)
        async with asyncio.timeout(30):
            while worker.stats.applied < 1:
                await worker.step()
            letter = DeadLetter.model_validate((await anext(aiter(dead))).payload)
        await source.close()
        assert letter.raw == "{not json" and "not an event envelope" in letter.error


# -- crash recovery ------------------------------------------------------------------------

N_EVENTS = 400


def start_worker(settings: Settings, cwd: Path, group: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "KG_GRAPH_URL": settings.graph_url,
        "KG_EMBED": "false",
        "KG_HISTORY": "false",
        "KG_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "KG_KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
        "KG_KAFKA_PARTITIONS": str(settings.kafka_partitions),
    }
    cmd = [
        sys.executable,
        "-c",
        "from kg.cli import main; main()",
        "worker",
        "--group",
        group,
        "--max-batch",
        "25",
        "--no-insights",
    ]
    return subprocess.Popen(cmd, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)


async def marks(store: SqliteGraphStore) -> int:
    return len(await store.states(REPO, EVENT_STATE))


async def until_marked(store: SqliteGraphStore, count: int, seconds: float) -> None:
    """Poll the store another process writes to (no event to await across processes)."""
    async with asyncio.timeout(seconds):
        for _ in itertools.count():
            if await marks(store) >= count:
                return
            await asyncio.sleep(0.01)


async def committed(settings: Settings, group: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        total = 0
        for p in range(settings.kafka_partitions):
            total += await consumer.committed(TopicPartition(topic, p)) or 0
        return total
    finally:
        await consumer.stop()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteGraphStore]:
    (tmp_path / "kg").mkdir(exist_ok=True)
    s = SqliteGraphStore(tmp_path / "kg" / "graph.db")
    await s.start()
    yield s
    await s.close()


async def test_killed_worker_restarts_and_applies_every_event_exactly_once(
    settings: Settings, repo: Path, tmp_path: Path, store: SqliteGraphStore
) -> None:
    async with open_runtime(settings.model_copy(update={"kafka_bootstrap": ""})) as rt:
        await rt.indexer().index(repo, REPO)  # the repository is known before events arrive
    group = f"crash-{uuid.uuid4().hex[:6]}"
    bus = KafkaBus(
        settings.kafka_bootstrap,
        topic_prefix=settings.kafka_topic_prefix,
        partitions=settings.kafka_partitions,
    )
    await bus.start()
    topic = bus.config.topic("file.changed")
    try:
        for i in range(N_EVENTS):
            await bus.publish(changed(i))
        await bus.flush()
    finally:
        await bus.close()

    first = start_worker(settings, tmp_path, group)
    await until_marked(store, N_EVENTS // 4, 60)
    first.send_signal(signal.SIGKILL)  # mid-stream: no clean shutdown, no final commit
    first.wait(10)
    assert first.stderr is not None
    first.stderr.close()
    marked_at_kill = await marks(store)
    committed_at_kill = await committed(settings, group, topic)
    files_at_kill = await store.count(
        EntityQuery(repo=REPO, kinds=[EntityKind.FILE], path_prefix="gen/")
    )
    assert 0 < marked_at_kill < N_EVENTS, "the kill must land mid-stream"
    assert committed_at_kill <= marked_at_kill  # offsets are committed only after the marks

    second = start_worker(settings, tmp_path, group)
    await until_marked(store, N_EVENTS, 90)
    second.send_signal(signal.SIGINT)
    _, err = second.communicate(timeout=30)
    stats = re.search(r"applied (\d+), duplicates (\d+)", err)
    assert stats is not None, err
    applied, duplicates = int(stats[1]), int(stats[2])

    # Each event was applied by exactly one run; redeliveries of applied ones were skipped.
    assert marked_at_kill + applied == N_EVENTS
    assert duplicates == marked_at_kill - committed_at_kill
    assert await committed(settings, group, topic) == N_EVENTS
    files = await store.count(EntityQuery(repo=REPO, kinds=[EntityKind.FILE], path_prefix="gen/"))
    funcs = await store.count(
        EntityQuery(repo=REPO, kinds=[EntityKind.FUNCTION], path_prefix="gen/")
    )
    assert (files, funcs, await marks(store)) == (N_EVENTS, N_EVENTS, N_EVENTS)
    stats_now = await store.stats(REPO)
    assert stats_now["DEFINES"] >= N_EVENTS and stats_now["CONTAINS"] >= N_EVENTS
    print(
        f"crash test: files stored at kill {files_at_kill}, marked {marked_at_kill}, "
        f"committed {committed_at_kill}; second run applied {applied}, skipped {duplicates}"
    )


class CrashBeforeCommit(KafkaGroupSource):
    """The real group source, except that the process "dies" right before committing."""

    async def commit(self, deliveries: Sequence[Delivery]) -> None:
        raise asyncio.CancelledError


async def test_cancelled_before_commit_redelivers_and_skips_applied(
    settings: Settings, repo: Path
) -> None:
    async with open_runtime(settings) as rt:
        await rt.indexer().index(repo, REPO)
        assert isinstance(rt.bus, KafkaBus)
        for i in range(10):
            await rt.bus.publish(changed(i))
        await rt.bus.flush()
        crashing = CrashBeforeCommit(rt.bus.config, "cancel-group")
        await crashing.start()
        first = assemble(rt, crashing, insights=False, fetch_wait=0.2)
        try:
            async with asyncio.timeout(30):
                while first.stats.applied < 10:
                    with contextlib.suppress(asyncio.CancelledError):
                        await first.step()
        finally:
            await crashing.close()
        restarted = rt.bus.group_source("cancel-group")
        await restarted.start()
        second = assemble(rt, restarted, insights=False, fetch_wait=0.2)
        try:
            async with asyncio.timeout(30):
                while second.stats.duplicates < 10:
                    await second.step()
        finally:
            await restarted.close()
        assert (first.stats.applied, second.stats.applied, second.stats.duplicates) == (10, 0, 10)
        funcs = await rt.store.count(
            EntityQuery(repo=REPO, kinds=[EntityKind.FUNCTION], path_prefix="gen/")
        )
        assert funcs == 10
