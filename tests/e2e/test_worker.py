"""The worker end to end on the in-process bus: real git repo, real SQLite, real extractors."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kg.events.base import Event
from kg.events.schema import DEAD_LETTER, DeadLetter, Insight, is_source_event
from kg.events.source import SubscriptionSource
from kg.model import EntityKind
from kg.runtime import Runtime, open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery
from kg.worker import EVENT_STATE, Worker, assemble

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}
REPO = "live"
CALLERS = 12  # functions calling util.core (blast radius >= 10)

UTIL = "def core(x):\n    return x + 1\n"


def app_source(n: int) -> str:
    lines = ["from pkg.util import core\n"]
    lines += [f"\ndef use_{i}(v):\n    return core(v) + {i}\n" for i in range(n)]
    return "".join(lines)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / REPO
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "util.py").write_text(UTIL)
    (root / "pkg" / "app.py").write_text(app_source(CALLERS))
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "first"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=GIT_ENV, capture_output=True)
    return root


@pytest.fixture
async def rt(tmp_path: Path, repo: Path) -> AsyncIterator[Runtime]:
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/kg/graph.db", embed=False)
    async with open_runtime(settings) as runtime:
        await runtime.indexer().index(repo, REPO)
        yield runtime


@pytest.fixture
async def worker(rt: Runtime) -> AsyncIterator[Worker]:
    source = SubscriptionSource(rt.bus, ["*"], accept=is_source_event)
    await source.start()
    w = assemble(rt, source, max_batch=2000, fetch_wait=0.05)
    yield w
    await source.close()


def changed(path: str, content: str | None = None, repo: str = REPO, **extra: object) -> Event:
    payload: dict[str, object] = {"path": path, **extra}
    if content is not None:
        payload["content"] = content
    return Event.of("file.changed", repo=repo, payload=payload)


async def drain(w: Worker) -> None:
    while await w.step():
        pass


async def functions(rt: Runtime, path: str) -> set[str]:
    found = await rt.store.find(EntityQuery(repo=REPO, path=path, kinds=[EntityKind.FUNCTION]))
    return {e.name for e in found}


async def test_file_event_updates_graph_and_publishes_delta(rt: Runtime, worker: Worker) -> None:
    deltas = rt.bus.subscribe(["graph.delta"])
    await rt.bus.publish(changed("pkg/util.py", UTIL + "\ndef extra():\n    return 2\n"))
    await drain(worker)
    assert await functions(rt, "pkg/util.py") == {"core", "extra"}
    async with asyncio.timeout(5):
        delta = await anext(aiter(deltas))
    assert delta.payload["paths"] == ["pkg/util.py"] and delta.payload["added"]
    assert worker.stats.applied == 1


async def test_redelivered_event_is_skipped_and_ids_are_recorded(
    rt: Runtime, worker: Worker
) -> None:
    event = changed("pkg/util.py", UTIL + "\ndef again():\n    return 3\n")
    await rt.bus.publish(event)
    await drain(worker)
    await rt.bus.publish(event)  # the same id again: at-least-once delivery
    await drain(worker)
    assert (worker.stats.applied, worker.stats.duplicates) == (1, 1)
    assert await rt.store.get_state(REPO, EVENT_STATE + event.id) is not None


async def test_poison_events_go_to_dead_letter_and_do_not_block(
    rt: Runtime, worker: Worker
) -> None:
    dead = rt.bus.subscribe([DEAD_LETTER])
    bad = [
        Event.of("file.changed", repo=REPO, payload={"content": "x"}),  # no path
        Event(type="file.changed", version=9, repo=REPO, payload={"path": "a.py"}),
        changed("../../etc/passwd"),
        Event.of("commit.pushed", repo=REPO, payload={"after": 42, "bogus": True}),
    ]
    for event in bad:
        await rt.bus.publish(event)
    await rt.bus.publish(changed("pkg/util.py", UTIL + "\ndef after_poison():\n    pass\n"))
    await drain(worker)
    assert "after_poison" in await functions(rt, "pkg/util.py")
    assert worker.stats.dead_lettered == 4
    async with asyncio.timeout(5):
        letters = [DeadLetter.model_validate((await anext(aiter(dead))).payload) for _ in bad]
    errors = [letter.error for letter in letters]
    assert "field 'path'" in errors[0] and "v9" in errors[1]
    assert "without '..'" in errors[2] and "after" in errors[3]
    assert letters[1].event is not None and letters[1].event["id"] == bad[1].id


async def test_unknown_repository_is_recorded_not_crashed(rt: Runtime, worker: Worker) -> None:
    dead = rt.bus.subscribe([DEAD_LETTER])
    await rt.bus.publish(changed("a.py", "x = 1\n", repo="nowhere"))
    await rt.bus.publish(changed("pkg/util.py", UTIL + "\ndef fine():\n    pass\n"))
    await drain(worker)
    assert worker.stats.unknown_repo == {"nowhere": 1}
    assert "fine" in await functions(rt, "pkg/util.py")
    async with asyncio.timeout(5):
        letter = DeadLetter.model_validate((await anext(aiter(dead))).payload)
    assert "unknown repository 'nowhere'" in letter.error


async def test_burst_of_ten_thousand_saves_is_coalesced(rt: Runtime, worker: Worker) -> None:
    paths = [f"pkg/gen_{i}.py" for i in range(10)]
    for n in range(1000):
        for path in paths:
            await rt.bus.publish(changed(path, f"def f_{n}():\n    return {n}\n"))
    await drain(worker)
    s = worker.stats
    assert s.received == 10_000 and s.applied == 10_000
    assert s.coalesced >= 10_000 - 10 * s.batches  # at most one update per path per batch
    assert s.batches <= 10  # 2,000 events per batch: bounded in-flight work
    for path in paths:
        assert await functions(rt, path) == {"f_999"}  # latest wins


async def test_store_outage_degrades_then_recovers(rt: Runtime, worker: Worker) -> None:
    await rt.store.close()  # the backend goes away
    await rt.bus.publish(changed("pkg/util.py", UTIL + "\ndef later():\n    pass\n"))
    task = asyncio.create_task(worker.step())
    for _ in range(400):
        if "circuit open" in worker.stats.last_error:
            break
        await asyncio.sleep(0.02)
    assert worker.stats.degraded and not task.done()  # waiting, not crashed
    assert "graph store backend is unavailable (circuit open" in worker.stats.last_error
    await rt.store.start()  # the backend is back
    async with asyncio.timeout(15):
        assert await task == 1
    assert not worker.stats.degraded
    assert "later" in await functions(rt, "pkg/util.py")


async def test_change_to_widely_called_function_pushes_insight(rt: Runtime, worker: Worker) -> None:
    insights = rt.bus.subscribe(["insight"])
    body = "def core(x):\n    if x:\n        return x + 1\n    return 0\n"
    await rt.bus.publish(changed("pkg/util.py", body))
    await drain(worker)
    await asyncio.sleep(0.15)
    await worker.step()  # flushes held (non-critical) insights after the batch window
    async with asyncio.timeout(5):
        got = Insight.model_validate((await anext(aiter(insights))).payload)
    assert got.rule == "blast-radius" and got.repo == REPO
    assert got.evidence.numbers["callers"] == CALLERS
    stored = await rt.store.find(EntityQuery(repo=REPO, kinds=[EntityKind.INSIGHT]))
    assert [e.id for e in stored] == [got.id]
    assert stored[0].attrs["rule"] == "blast-radius" and stored[0].owner == f"insights:{REPO}"
