"""``open_graph_store`` picks the SQLite store by URL and explains bad URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import ConfigError, StoreUnavailable
from kg.model import Batch, Entity, EntityKind
from kg.stores.factory import open_graph_store
from kg.stores.neo4j import Neo4jGraphStore
from kg.stores.sqlite import SqliteGraphStore


async def _round_trip(url: str) -> None:
    store = open_graph_store(url)
    assert isinstance(store, SqliteGraphStore)
    await store.start()
    try:
        e = Entity.make(EntityKind.FILE, "r", "a.py", name="a.py", path="a.py")
        await store.apply(Batch("r", entities=[e]))
        assert await store.get([e.id]) == [e]
    finally:
        await store.close()


async def test_relative_sqlite_url_creates_parent_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    await _round_trip("sqlite:///.kg/deep/graph.db")
    assert (tmp_path / ".kg" / "deep" / "graph.db").is_file()


async def test_absolute_sqlite_url(tmp_path: Path) -> None:
    await _round_trip(f"sqlite:///{tmp_path}/abs/graph.db")
    assert (tmp_path / "abs" / "graph.db").is_file()


async def test_in_memory_sqlite_url() -> None:
    await _round_trip("sqlite:///:memory:")


@pytest.mark.parametrize("url", ["postgres://db/kg", "graph.db", "sqlite://"])
def test_bad_urls_are_config_errors_naming_the_fix(url: str) -> None:
    with pytest.raises(ConfigError, match="sqlite:///"):
        open_graph_store(url)


async def test_unopenable_path_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    store = open_graph_store(f"sqlite:///{tmp_path}/dir.db")
    with pytest.raises(StoreUnavailable, match=r"dir\.db"):
        await store.start()


@pytest.mark.parametrize("url", ["neo4j://127.0.0.1:7687", "bolt://127.0.0.1:7687"])
def test_neo4j_urls_pick_the_neo4j_store_without_connecting(url: str) -> None:
    store = open_graph_store(url, user="neo4j", password="secret")
    assert isinstance(store, Neo4jGraphStore)
