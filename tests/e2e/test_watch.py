"""The tree watcher on a real directory, and `kg watch` applying saves in one process."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kg.events.memory import InProcessBus
from kg.events.schema import FileChanged, is_source_event
from kg.events.source import SubscriptionSource
from kg.model import EntityKind
from kg.runtime import open_runtime
from kg.settings import Settings
from kg.stores.base import EntityQuery
from kg.watch import TreeWatcher, scan_tree, watch
from kg.worker import assemble


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("def a():\n    return 1\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref")
    (root / "node_modules").mkdir()
    (root / "node_modules" / "x.js").write_text("x")


def test_scan_skips_hidden_and_build_directories(tmp_path: Path) -> None:
    tree(tmp_path)
    assert list(scan_tree(tmp_path)) == ["pkg/a.py"]


async def test_changes_are_debounced_until_the_file_settles(tmp_path: Path) -> None:
    tree(tmp_path)
    clock = Clock()
    watcher = TreeWatcher(tmp_path, debounce=0.5, clock=clock)
    assert await watcher.poll() == []  # baseline
    (tmp_path / "pkg" / "a.py").write_text("def a():\n    return 2\n")
    (tmp_path / "pkg" / "b.py").write_text("def b():\n    return 1\n")
    assert await watcher.poll() == []  # seen, not settled yet
    clock.t = 0.3
    (tmp_path / "pkg" / "b.py").write_text("def b():\n    return 22\n")  # still being written
    assert await watcher.poll() == []
    clock.t = 0.6
    got = await watcher.poll()
    assert [c.path for c in got] == ["pkg/a.py"]  # b changed again at 0.3: not settled
    clock.t = 0.9
    assert [c.path for c in await watcher.poll()] == ["pkg/b.py"]
    (tmp_path / "pkg" / "a.py").unlink()
    await watcher.poll()
    clock.t = 2.0
    (gone,) = await watcher.poll()
    assert gone == FileChanged(path="pkg/a.py", deleted=True, root=str(tmp_path.resolve()))
    assert await watcher.poll() == []  # each change reported once


async def test_next_poll_comes_when_a_pending_change_settles(tmp_path: Path) -> None:
    tree(tmp_path)
    clock = Clock()
    watcher = TreeWatcher(tmp_path, interval=0.1, debounce=0.04, clock=clock)
    await watcher.poll()
    assert watcher.next_wait() == 0.1  # nothing pending: the regular interval
    clock.t = 1.0
    (tmp_path / "pkg" / "a.py").write_text("def a():\n    return 3\n")
    assert await watcher.poll() == []
    assert watcher.next_wait() == pytest.approx(0.04)  # not a whole interval
    clock.t = 1.04
    assert watcher.next_wait() == 0.0
    assert [c.path for c in await watcher.poll()] == ["pkg/a.py"]
    assert watcher.next_wait() == 0.1


async def test_watch_publishes_file_changed_events(tmp_path: Path) -> None:
    tree(tmp_path)
    bus = InProcessBus()
    sub = bus.subscribe(["file.changed"])
    stop = asyncio.Event()
    watcher = TreeWatcher(tmp_path, interval=0.02, debounce=0.02)
    task = asyncio.create_task(watch(watcher, bus, "w", stop))
    await asyncio.sleep(0.1)
    (tmp_path / "pkg" / "a.py").write_text("def a():\n    return 3\n")
    async with asyncio.timeout(5):
        event = await anext(aiter(sub))
    stop.set()
    assert await task == 1
    assert event.repo == "w" and FileChanged.model_validate(event.payload).path == "pkg/a.py"


async def test_saves_follow_into_the_graph_in_one_process(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    tree(root)
    settings = Settings(graph_url=f"sqlite:///{tmp_path}/graph.db", embed=False, history=False)
    async with open_runtime(settings) as rt:
        await rt.indexer().index(root, "proj")
        source = SubscriptionSource(rt.bus, ["*"], accept=is_source_event)
        await source.start()
        worker = assemble(rt, source, fetch_wait=0.05)
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(worker.run()),
            asyncio.create_task(
                watch(TreeWatcher(root, interval=0.02, debounce=0.02), rt.bus, "proj", stop)
            ),
        ]
        deltas = rt.bus.subscribe(["graph.delta"])
        await asyncio.sleep(0.1)
        (root / "pkg" / "a.py").write_text("def a():\n    return 1\n\n\ndef saved():\n    pass\n")
        async with asyncio.timeout(10):
            delta = await anext(aiter(deltas))
        stop.set()
        worker.stop()
        await asyncio.gather(*tasks)
        await source.close()
        names = {
            e.name
            for e in await rt.store.find(EntityQuery(repo="proj", kinds=[EntityKind.FUNCTION]))
        }
        assert names == {"a", "saved"} and delta.payload["paths"] == ["pkg/a.py"]
