"""A Neo4j that dies mid-run: bounded retries, a clean failure, nothing half-applied.

Runs a Neo4j of its own (``scripts/services.sh private-neo4j``, the same build as the shared
test service) because it kills the server; the shared one is never touched. The server is killed
with SIGKILL while an ``apply`` transaction is open, then restarted on the same data directory:
crash recovery must show the earlier file complete and the file in flight entirely absent.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from neo4j import AsyncGraphDatabase

from kg.errors import StoreUnavailable
from kg.model import Batch, Entity, EntityKind, Relation, RelationKind, file_scope
from kg.stores.base import EntityQuery
from kg.stores.neo4j import Neo4jGraphStore

ROOT = Path(__file__).resolve().parents[2]
REPO = "outage"
RETRY_SECONDS = 3.0

pytestmark = pytest.mark.neo4j


def launch(home: Path, port: int | None = None) -> tuple[int, str]:
    cmd = ["bash", str(ROOT / "scripts" / "services.sh"), "private-neo4j", str(home)]
    done = subprocess.run(
        [*cmd, str(port)] if port else cmd,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    pid, url = done.stdout.split()
    return int(pid), url


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except ChildProcessError:  # not our child (started by the script): poll until gone
        while Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
    except ProcessLookupError:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[Path, list[int], str]]:
    """(home, [pid] (the test may replace it), url); killed at the end whatever happens."""
    home = tmp_path / "neo4j"
    pid, url = launch(home)
    pids = [pid]
    try:
        yield home, pids, url
    finally:
        for p in pids:
            kill(p)


def file_batch(path: str, functions: int) -> Batch:
    scope = file_scope(REPO, path)
    f = Entity.make(EntityKind.FILE, REPO, path, name=path, path=path, owner=scope)
    funcs = [
        Entity.make(
            EntityKind.FUNCTION, REPO, f"{path}::f{i}", name=f"f{i}", path=path, owner=scope
        )
        for i in range(functions)
    ]
    rels = [Relation(RelationKind.CONTAINS, f.id, g.id, owner=scope) for g in funcs]
    return Batch(
        REPO, [f, *funcs], rels, replace_scopes={scope}, state={f"hash:{path}": f"h-{path}"}
    )


async def wait_for_open_write(url: str) -> None:
    """Until the server runs a transaction besides the one asking (the apply in flight)."""
    deadline = time.monotonic() + 60
    async with AsyncGraphDatabase.driver(url, notifications_min_severity="OFF") as driver:
        while time.monotonic() < deadline:
            records, _, _ = await driver.execute_query(
                "SHOW TRANSACTIONS YIELD currentQuery WHERE NOT currentQuery STARTS WITH 'SHOW'"
                " RETURN count(*) AS n"
            )
            if records[0]["n"] > 0:
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the apply transaction never showed up on the server")


async def count_of(store: Neo4jGraphStore, path: str) -> int:
    return await store.count(EntityQuery(repo=REPO, path=path))


async def test_server_killed_mid_apply_fails_cleanly_and_leaves_nothing_half_applied(
    server: tuple[Path, list[int], str],
) -> None:
    home, pids, url = server
    store = Neo4jGraphStore(url, retry_seconds=RETRY_SECONDS)
    await store.start()
    try:
        await store.apply(file_batch("a.py", 50))
        in_flight = asyncio.create_task(store.apply(file_batch("b.py", 2000)))
        await wait_for_open_write(url)
        assert not in_flight.done()
        kill(pids[0])
        killed = time.monotonic()
        with pytest.raises(StoreUnavailable, match=re.escape(url)):
            await in_flight
        # Bounded: the driver's retry budget plus one connection attempt, not forever.
        assert time.monotonic() - killed < RETRY_SECONDS + 10

        # Between applies: the next unit of work fails the same way, just as fast.
        t0 = time.monotonic()
        with pytest.raises(StoreUnavailable, match=re.escape(url)):
            await store.apply(file_batch("c.py", 5))
        assert time.monotonic() - t0 < RETRY_SECONDS + 10
    finally:
        await store.close()

    port = int(url.rsplit(":", 1)[1])
    pids[0], url = launch(home, port)  # same data: crash recovery replays committed work only
    store = Neo4jGraphStore(url)
    await store.start()
    try:
        assert await count_of(store, "a.py") == 51
        assert await store.get_state(REPO, "hash:a.py") == "h-a.py"
        assert await count_of(store, "b.py") == 0
        assert await store.get_state(REPO, "hash:b.py") is None
        assert await count_of(store, "c.py") == 0
        stats = await store.stats(REPO)
        assert stats[RelationKind.CONTAINS.value] == 50
        # And the store works again: the failed file can simply be applied once more.
        delta = await store.apply(file_batch("b.py", 2000))
        assert len(delta.added) == 2001
    finally:
        await store.close()
