"""The VectorIndex contract, run unchanged on every implementation.

Implementations: the embedded Qdrant engine (``EdgeVectorIndex``) and qdrant-client's local
mode behind ``QdrantVectorIndex`` (the same code that talks to a Qdrant server).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from embeddings.index.base import (
    CollectionSpec,
    ScoredPoint,
    SparseVector,
    VectorFilter,
    VectorIndex,
    VectorPoint,
)
from embeddings.index.edge import EdgeVectorIndex
from embeddings.index.factory import open_vector_index
from embeddings.index.qdrant import QdrantVectorIndex
from kg.errors import ConfigError, InvalidInput, StoreError
from kg.model import AttrValue, EntityKind

SPEC = CollectionSpec(dense={"code": 4, "text": 4}, sparse=("lexical",))
Factory = Callable[[], VectorIndex]


@pytest.fixture(params=["edge", "qdrant-local"])
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    """Opens an index on the same storage each time it is called (for reopen tests)."""
    if request.param == "edge":
        return lambda: EdgeVectorIndex(tmp_path / "edge")
    return lambda: QdrantVectorIndex("", "contract", location=str(tmp_path / "qdrant"))


@pytest.fixture
async def index(make_index: Factory) -> AsyncIterator[VectorIndex]:
    idx = make_index()
    await idx.ensure(SPEC)
    yield idx
    await idx.close()


def point(
    eid: str,
    dense: list[float] | None = None,
    terms: dict[int, float] | None = None,
    **payload: AttrValue,
) -> VectorPoint:
    sparse = {}
    if terms is not None:
        idx = sorted(terms)
        sparse = {"lexical": SparseVector(idx, [terms[i] for i in idx])}
    body: dict[str, AttrValue] = {"repo": "r1", "kind": "Function", "hash": f"h-{eid}"}
    body.update(payload)
    return VectorPoint(eid, {"code": dense} if dense is not None else {}, sparse, body)


def ids(hits: Sequence[ScoredPoint]) -> list[str]:
    return [h.id for h in hits]


async def test_ensure_is_idempotent_and_keeps_points(index: VectorIndex) -> None:
    await index.ensure(SPEC)
    await index.upsert([point("a", [1, 0, 0, 0])])
    await index.ensure(SPEC)
    assert await index.count() == 1


async def test_upsert_overwrites_by_entity_id(index: VectorIndex) -> None:
    await index.upsert([point("Function:x", [1, 0, 0, 0], hash="old", name="before")])
    await index.upsert([point("Function:x", [0, 1, 0, 0], hash="new", name="after")])
    assert await index.count() == 1
    assert await index.hashes(["Function:x"]) == {"Function:x": "new"}
    hits = await index.search("code", [0.0, 1.0, 0.0, 0.0], limit=5)
    assert ids(hits) == ["Function:x"]
    assert hits[0].payload["name"] == "after"
    assert hits[0].payload["eid"] == "Function:x"
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)


async def test_delete_removes_points_and_ignores_unknown(index: VectorIndex) -> None:
    await index.upsert([point("a", [1, 0, 0, 0]), point("b", [0, 1, 0, 0])])
    await index.delete(["a", "never-stored"])
    assert await index.count() == 1
    assert await index.hashes(["a", "b"]) == {"b": "h-b"}
    assert ids(await index.search("code", [1.0, 0.0, 0.0, 0.0])) == ["b"]
    await index.delete([])


async def test_dense_search_ranks_by_cosine(index: VectorIndex) -> None:
    angles = {"near": 0.1, "mid": 0.8, "far": 1.5}
    await index.upsert(
        [point(k, [math.cos(a), math.sin(a), 0.0, 0.0]) for k, a in angles.items()]
        + [point("lexical-only", None, {7: 1.0})]
    )
    hits = await index.search("code", [1.0, 0.0, 0.0, 0.0], limit=10)
    assert ids(hits) == ["near", "mid", "far"]
    for hit in hits:
        assert hit.score == pytest.approx(math.cos(angles[hit.id]), abs=1e-4)
    assert ids(await index.search("code", [1.0, 0.0, 0.0, 0.0], limit=2)) == ["near", "mid"]
    # A query vector need not be normalised: cosine ignores its length.
    assert ids(await index.search("code", [5.0, 0.1, 0.0, 0.0], limit=1)) == ["near"]


async def test_dense_vectors_are_separate_by_name(index: VectorIndex) -> None:
    text_point = VectorPoint("t", {"text": [0.0, 0.0, 1.0, 0.0]}, {}, {"hash": "x"})
    await index.upsert([text_point, point("c", [0, 0, 1, 0])])
    assert ids(await index.search("text", [0.0, 0.0, 1.0, 0.0])) == ["t"]
    assert ids(await index.search("code", [0.0, 0.0, 1.0, 0.0])) == ["c"]


async def test_sparse_search_weighs_rare_terms_by_idf(index: VectorIndex) -> None:
    common, rare = 11, 22
    await index.upsert(
        [
            point("d1", None, {common: 1.0, rare: 1.0}),
            point("d2", None, {common: 1.5}),
            point("d3", None, {common: 1.0}),
            point("d4", None, {common: 1.0}),
            point("d5", None, {99: 1.0}),
        ]
    )
    hits = await index.search("lexical", SparseVector([common, rare], [1.0, 1.0]), limit=10)
    assert ids(hits)[0] == "d1"
    assert set(ids(hits)) == {"d1", "d2", "d3", "d4"}
    n = 5

    def idf(df: int) -> float:
        return math.log((n - df + 0.5) / (df + 0.5) + 1.0)

    by_id = {h.id: h.score for h in hits}
    assert by_id["d1"] == pytest.approx(idf(4) + idf(1), rel=1e-3)
    assert by_id["d2"] == pytest.approx(1.5 * idf(4), rel=1e-3)
    # The rare term alone outranks the common term weighted 1.5.
    assert idf(1) > 1.5 * idf(4)
    assert await index.search("lexical", SparseVector([], [])) == []


async def _filtered(index: VectorIndex, flt: VectorFilter) -> tuple[set[str], int]:
    hits = await index.search("code", [1.0, 1.0, 1.0, 1.0], filter=flt, limit=50)
    return set(ids(hits)), await index.count(flt)


@pytest.fixture
async def corpus(index: VectorIndex) -> VectorIndex:
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    rows: list[tuple[str, str, str, str, str, list[str], int]] = [
        ("f1", "r1", "Function", "python", "src/kg/model.py", ["ann", "bob"], 0),
        ("f2", "r1", "Class", "python", "src/kg/stores/sqlite.py", ["bob"], 30),
        ("f3", "r1", "Function", "rust", "src/kgx/lib.rs", ["cat"], 60),
        ("f4", "r2", "Commit", "python", "tests/test_a.py", ["ann"], 90),
        ("f5", "r2", "File", "go", "main.go", [], 120),
    ]
    pts = [
        point(
            eid,
            [1.0, 0.1 * i, 0.0, 0.0],
            repo=repo,
            kind=kind,
            language=lang,
            path=path,
            authors=authors,
            time=(t0 + timedelta(days=days)).isoformat(),
        )
        for i, (eid, repo, kind, lang, path, authors, days) in enumerate(rows)
    ]
    await index.upsert(pts)
    return index


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (VectorFilter(), {"f1", "f2", "f3", "f4", "f5"}),
        (VectorFilter(repo="r2"), {"f4", "f5"}),
        (VectorFilter(kinds=["Function", "Commit"]), {"f1", "f3", "f4"}),
        (VectorFilter(kinds=[]), set()),
        (VectorFilter(kinds=[EntityKind.CLASS]), {"f2"}),
        (VectorFilter(languages=["python"]), {"f1", "f2", "f4"}),
        (VectorFilter(path_prefix="src/kg"), {"f1", "f2"}),
        (VectorFilter(path_prefix="src/kg/"), {"f1", "f2"}),
        (VectorFilter(path_prefix="src/kg/model.py"), {"f1"}),
        (VectorFilter(path_prefix="src"), {"f1", "f2", "f3"}),
        (VectorFilter(authors=["bob"]), {"f1", "f2"}),
        (VectorFilter(authors=["ann", "cat"]), {"f1", "f3", "f4"}),
        (VectorFilter(since=datetime(2024, 2, 1, tzinfo=UTC)), {"f3", "f4", "f5"}),
        (VectorFilter(until=datetime(2024, 1, 31)), {"f1", "f2"}),
        (
            VectorFilter(
                since=datetime(2024, 1, 31, 1, 0, tzinfo=timezone(timedelta(hours=2))),
                until=datetime(2024, 3, 31, tzinfo=UTC),
            ),
            {"f2", "f3", "f4"},
        ),
        (VectorFilter(repo="r1", languages=["python"], path_prefix="src/kg/stores"), {"f2"}),
        (VectorFilter(repo="r3"), set()),
    ],
)
async def test_every_filter_field_narrows_search_and_count(
    corpus: VectorIndex, flt: VectorFilter, expected: set[str]
) -> None:
    found, count = await _filtered(corpus, flt)
    assert found == expected
    assert count == len(expected)


async def test_filters_apply_to_sparse_search(corpus: VectorIndex) -> None:
    await corpus.upsert(
        [point("s1", None, {5: 1.0}, repo="r1"), point("s2", None, {5: 1.0}, repo="r2")]
    )
    hits = await corpus.search("lexical", SparseVector([5], [1.0]), filter=VectorFilter(repo="r2"))
    assert ids(hits) == ["s2"]


async def test_hashes_return_only_existing_ids(index: VectorIndex) -> None:
    await index.upsert([point("a", [1, 0, 0, 0], hash="ha"), point("b", None, {1: 1.0}, hash="hb")])
    assert await index.hashes(["a", "b", "zz"]) == {"a": "ha", "b": "hb"}
    assert await index.hashes([]) == {}


async def test_reopen_keeps_points_and_serves_reads_before_ensure(make_index: Factory) -> None:
    first = make_index()
    await first.ensure(SPEC)
    await first.upsert([point("a", [1, 0, 0, 0], path="src/a.py"), point("b", None, {3: 1.0})])
    await first.close()

    second = make_index()
    try:
        assert await second.count() == 2
        assert await second.hashes(["a"]) == {"a": "h-a"}
        assert ids(await second.search("lexical", SparseVector([3], [1.0]))) == ["b"]
        await second.ensure(SPEC)
        assert await second.count(VectorFilter(path_prefix="src")) == 1
        await second.upsert([point("c", [0, 1, 0, 0])])
        assert await second.count() == 3
    finally:
        await second.close()


async def test_reopen_with_other_dimensions_is_refused(make_index: Factory) -> None:
    first = make_index()
    await first.ensure(SPEC)
    await first.close()
    second = make_index()
    try:
        with pytest.raises(StoreError, match="embedding model"):
            await second.ensure(CollectionSpec(dense={"code": 8, "text": 8}))
    finally:
        await second.close()


async def test_missing_collection_reads_empty_and_refuses_writes(make_index: Factory) -> None:
    idx = make_index()
    try:
        assert await idx.count() == 0
        assert await idx.search("code", [1.0, 0.0, 0.0, 0.0]) == []
        assert await idx.hashes(["a"]) == {}
        await idx.delete(["a"])
        with pytest.raises(StoreError, match="ensure"):
            await idx.upsert([point("a", [1, 0, 0, 0])])
    finally:
        await idx.close()


async def test_bad_points_are_rejected_before_any_write(index: VectorIndex) -> None:
    good = point("good", [1, 0, 0, 0])
    with pytest.raises(InvalidInput, match="4"):
        await index.upsert([good, point("bad", [1, 0, 0])])
    with pytest.raises(InvalidInput, match="unknown dense vector"):
        await index.upsert([good, VectorPoint("x", {"nope": [1.0, 0, 0, 0]})])
    with pytest.raises(InvalidInput, match="time"):
        await index.upsert([good, point("t", [1, 0, 0, 0], time="last tuesday")])
    assert await index.count() == 0
    with pytest.raises(InvalidInput):
        await index.search("code", [1.0, 0.0])


async def test_concurrent_searches_agree(index: VectorIndex) -> None:
    await index.upsert([point(f"p{i}", [1.0, i / 10, 0.0, 0.0], {i: 1.0}) for i in range(20)])
    dense = [index.search("code", [1.0, 0.0, 0.0, 0.0], limit=3) for _ in range(6)]
    sparse = [index.search("lexical", SparseVector([4], [1.0])) for _ in range(6)]
    results = await asyncio.gather(*dense, *sparse)
    assert all(ids(r) == ["p0", "p1", "p2"] for r in results[:6])
    assert all(ids(r) == ["p4"] for r in results[6:])


async def test_factory_picks_implementation_by_url(tmp_path: Path) -> None:
    edge = open_vector_index(f"edge:///{tmp_path}/v")
    assert isinstance(edge, EdgeVectorIndex)
    assert edge.path == tmp_path / "v"
    assert isinstance(open_vector_index("edge:///.kg/vectors"), EdgeVectorIndex)
    assert isinstance(open_vector_index("https://q.example:6333", "c", "key"), QdrantVectorIndex)
    mem = open_vector_index("memory://", "c")
    assert isinstance(mem, QdrantVectorIndex)
    await mem.ensure(SPEC)
    await mem.upsert([point("m", [0, 0, 0, 1])])
    assert await mem.count() == 1
    await mem.close()
    with pytest.raises(ConfigError, match="edge, memory, http, https"):
        open_vector_index("redis://localhost")
    with pytest.raises(ConfigError, match="names no directory"):
        open_vector_index("edge://")


async def test_edge_index_serves_filters_from_payload_indexes(tmp_path: Path) -> None:
    # Not part of the Protocol: the embedded engine must index every filtered field, or a
    # filter on 100k points scans payloads. (qdrant-client's local mode has no payload
    # indexes at all; against a server QdrantVectorIndex creates the same ones.)
    from embeddings.index import payload as pl

    idx = EdgeVectorIndex(tmp_path / "edge")
    await idx.ensure(SPEC)
    shard = idx._get()
    assert shard is not None
    schema = shard.info().payload_schema
    assert set(pl.INDEXED_FIELDS) <= set(schema)
    await idx.ensure(SPEC)  # idempotent: nothing re-created, nothing lost
    assert set(idx._get().info().payload_schema) == set(schema)  # type: ignore[union-attr]
    await idx.close()
