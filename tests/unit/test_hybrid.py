"""Hybrid search over a real embedded index with the real default model.

The fused scores are checked against rankings fetched straight from the index, so the test
holds whatever order the model happens to produce.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Literal

import pytest
import pytest_asyncio

from embeddings.base import Embedder
from embeddings.factory import open_embedder
from embeddings.hybrid import (
    COLLECTION_SPEC,
    HybridSearcher,
    SearchHit,
    collection_spec,
    document_point,
)
from embeddings.index.base import CollectionSpec, ScoredPoint, VectorFilter
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.errors import ConfigError
from kg.model import Attrs, Document, EntityKind

# One index for the module (tests only read it), so one event loop for the module too.
module_loop = pytest.mark.asyncio(loop_scope="module")

EQUAL = {"semantic": 1.0, "lexical": 1.0}
F, C, K = EntityKind.FUNCTION, EntityKind.CLASS, EntityKind.COMMIT
# (id, repo, kind, path, language, author, day of 2024-03, text, embedded?)
DOCS: list[tuple[str, str, EntityKind, str, str, str, int, str, bool]] = [
    (
        "sort",
        "r1",
        F,
        "src/util/sorting.py",
        "python",
        "ann",
        1,
        'def sort_items(items):\n    """Sort a list of items."""\n    return sorted(items)',
        True,
    ),
    (
        "socket",
        "r1",
        F,
        "src/net/client.py",
        "python",
        "bob",
        2,
        "def open_socket(host, port):\n    sock = socket.socket()\n    sock.connect((host, port))",
        True,
    ),
    (
        "config",
        "r1",
        F,
        "src/config/load.py",
        "python",
        "ann",
        3,
        'def parse_config(path):\n    """Read a YAML config file into a dict."""',
        True,
    ),
    (
        "server",
        "r1",
        C,
        "src/net/server.py",
        "python",
        "cat",
        4,
        'class HttpServer:\n    """Serve HTTP requests on a port."""',
        True,
    ),
    (
        "qsort",
        "r1",
        F,
        "src/algo/quicksort.rs",
        "rust",
        "bob",
        5,
        "fn quicksort(v: &mut Vec<i32>) { /* partition around a pivot and sort */ }",
        True,
    ),
    (
        "user",
        "r1",
        F,
        "src/users/names.py",
        "python",
        "cat",
        6,
        "def getUserName(user):\n    return user.name",
        True,
    ),
    ("commit", "r1", K, "", "", "ann", 7, "Fix sorting of user names in the admin list", True),
    (
        "other",
        "r2",
        F,
        "lib/sorting.py",
        "python",
        "dan",
        8,
        "def sort_items(items):\n    return sorted(items)",
        True,
    ),
    (
        "legacy",
        "r1",
        F,
        "src/util/legacy.py",
        "python",
        "ann",
        9,
        "def legacy_sort_helper(rows): pass",
        False,
    ),
]


def document(
    eid: str, repo: str, kind: EntityKind, path: str, lang: str, author: str, day: int, text: str
) -> Document:
    payload: Attrs = {
        "name": eid.split(":")[-1],
        "authors": [author],
        "time": datetime(2024, 3, day, tzinfo=UTC).isoformat(),
    }
    if path:
        payload = {**payload, "path": path, "language": lang}
    vector: Literal["code", "text"] = "text" if kind is K else "code"
    return Document(eid, repo, kind, text, payload, vector)


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return open_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="module")
def doc_vectors(minilm: Embedder) -> dict[str, list[float]]:
    return dict(zip([d[0] for d in DOCS], minilm.embed([d[7] for d in DOCS]), strict=True))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def index(
    tmp_path_factory: pytest.TempPathFactory, doc_vectors: dict[str, list[float]]
) -> AsyncIterator[EdgeVectorIndex]:
    idx = EdgeVectorIndex(tmp_path_factory.mktemp("hybrid") / "vectors")
    await idx.ensure(collection_spec(384))
    enc = SparseEncoder()
    points = []
    for eid, repo, kind, path, lang, author, day, text, embedded in DOCS:
        doc = document(eid, repo, kind, path, lang, author, day, text)
        dense = doc_vectors[eid] if embedded else None
        points.append(document_point(doc, dense, enc.encode_document(doc.text)))
    await idx.upsert(points)
    yield idx
    await idx.close()


async def signal_lists(
    index: EdgeVectorIndex,
    minilm: Embedder,
    query: str,
    depth: int,
    flt: VectorFilter | None = None,
) -> dict[str, list[ScoredPoint]]:
    """Each signal's ranking, fetched straight from the index."""
    (qvec,) = minilm.embed([query], role="query")
    dense = [
        p
        for name in ("code", "text")
        for p in await index.search(name, qvec, limit=depth, filter=flt)
    ]
    dense.sort(key=lambda p: -p.score)
    lexical = await index.search(
        "lexical", SparseEncoder().encode_query(query), limit=depth, filter=flt
    )
    return {"semantic": dense[:depth], "lexical": lexical}


def check_explanation(hit: SearchHit, k: float) -> None:
    for s in hit.signals:
        expected = 0.0 if s.rank is None else s.weight / (k + s.rank)
        assert s.contribution == pytest.approx(expected)
        assert (s.rank is None) == (s.score is None)
    assert hit.score == pytest.approx(sum(s.contribution for s in hit.signals))


@module_loop
async def test_hybrid_score_is_weighted_rrf_of_each_signal_rank(
    index: EdgeVectorIndex, minilm: Embedder
) -> None:
    k, depth, weights = 10.0, 5, {"semantic": 1.0, "lexical": 0.5}
    searcher = HybridSearcher(
        index, minilm, SparseEncoder(), fusion="rrf", k=k, weights=weights, depth=depth
    )
    query = "sort a list of items"
    hits = await searcher.search(query, limit=depth)
    lists = await signal_lists(index, minilm, query, depth)
    expected: dict[str, float] = {}
    for signal, ranked in lists.items():
        for rank, p in enumerate(ranked, start=1):
            expected[p.id] = expected.get(p.id, 0.0) + weights[signal] / (k + rank)
    best = sorted(expected.values(), reverse=True)[:depth]
    assert [h.score for h in hits] == pytest.approx(best)
    assert all(h.score == pytest.approx(expected[h.id]) for h in hits)
    for hit in hits:
        check_explanation(hit, k)
        assert [s.signal for s in hit.signals] == ["semantic", "lexical"]
        for s in hit.signals:
            order = [p.id for p in lists[s.signal]]
            assert s.rank == (order.index(hit.id) + 1 if hit.id in order else None)
            assert s.weight == weights[s.signal]


@module_loop
async def test_a_point_found_by_one_signal_is_explained(
    index: EdgeVectorIndex, minilm: Embedder
) -> None:
    searcher = HybridSearcher(index, minilm, SparseEncoder(), fusion="rrf", k=60.0, weights=EQUAL)
    hits = await searcher.search("legacy_sort_helper", limit=20)
    legacy = next(h for h in hits if h.id == "legacy")  # it has no dense vector
    semantic, lexical = legacy.signals
    assert (semantic.rank, semantic.score, semantic.contribution) == (None, None, 0.0)
    assert lexical.rank == 1
    assert legacy.score == pytest.approx(1.0 / 61.0)
    socket = next(h for h in hits if h.id == "socket")  # shares no token with the query
    assert socket.signals[1].rank is None
    assert socket.signals[0].rank is not None


@module_loop
async def test_modes_use_one_signal_each(index: EdgeVectorIndex, minilm: Embedder) -> None:
    searcher = HybridSearcher(index, minilm, SparseEncoder(), fusion="rrf", k=60.0, weights=EQUAL)
    semantic = await searcher.search("open a network connection", mode="semantic", limit=4)
    assert semantic[0].id == "socket"
    assert [h.signals[0].rank for h in semantic] == [1, 2, 3, 4]
    lexical = await searcher.search("getUserName", mode="lexical")
    assert lexical[0].id == "user"
    assert all(h.id != "socket" for h in lexical)  # no shared token, not retrieved
    for hit in semantic + lexical:
        assert len(hit.signals) == 1
        assert hit.score == pytest.approx(1.0 / (60.0 + hit.signals[0].rank))  # type: ignore[operator]
        check_explanation(hit, 60.0)
    assert {h.signals[0].signal for h in semantic} == {"semantic"}
    assert {h.signals[0].signal for h in lexical} == {"lexical"}
    hybrid = await searcher.search("getUserName", limit=3)
    assert hybrid[0].id == "user"


@module_loop
async def test_zero_weight_silences_a_signal(index: EdgeVectorIndex, minilm: Embedder) -> None:
    muted = HybridSearcher(index, minilm, SparseEncoder(), weights={"lexical": 0.0})
    plain = HybridSearcher(index, minilm, SparseEncoder())
    query = "parse a yaml file"
    hits = await muted.search(query, limit=5)
    semantic = await plain.search(query, mode="semantic", limit=5)
    assert [h.id for h in hits] == [h.id for h in semantic]
    assert all(h.signals[1].contribution == 0.0 for h in hits)


@module_loop
@pytest.mark.parametrize(
    ("flt", "allowed"),
    [
        (VectorFilter(repo="r2"), {"other"}),
        (VectorFilter(kinds=["Commit"]), {"commit"}),
        (VectorFilter(kinds=["Class", "Commit"]), {"server", "commit"}),
        (VectorFilter(languages=["rust"]), {"qsort"}),
        (VectorFilter(path_prefix="src/net"), {"socket", "server"}),
        (VectorFilter(authors=["bob"]), {"socket", "qsort"}),
        (
            VectorFilter(since=datetime(2024, 3, 5, tzinfo=UTC), until=datetime(2024, 3, 7)),
            {"qsort", "user", "commit"},
        ),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "semantic", "lexical"])
async def test_filters_narrow_every_mode(
    index: EdgeVectorIndex, minilm: Embedder, flt: VectorFilter, allowed: set[str], mode: str
) -> None:
    searcher = HybridSearcher(index, minilm, SparseEncoder())
    hits = await searcher.search(
        "sort user names list socket server",
        mode=mode,  # type: ignore[arg-type]
        filter=flt,
        limit=20,
    )
    assert hits
    assert {h.id for h in hits} <= allowed
    if mode == "semantic":  # every embedded point matching the filter is a dense candidate
        assert {h.id for h in hits} == allowed - {"legacy"}


@module_loop
async def test_limits_blank_queries_and_depth(index: EdgeVectorIndex, minilm: Embedder) -> None:
    searcher = HybridSearcher(index, minilm, SparseEncoder(), depth=2)
    assert len(await searcher.search("sort", limit=2)) == 2
    assert await searcher.search("   ") == []
    assert await searcher.search("sort", limit=0) == []
    # limit above depth widens each signal's list so the limit can be met.
    assert len(await searcher.search("sort", mode="semantic", limit=6)) == 6


@module_loop
async def test_without_an_embedder_search_is_lexical(index: EdgeVectorIndex) -> None:
    searcher = HybridSearcher(index, None, SparseEncoder())
    hits = await searcher.search("sort_items")
    assert {h.id for h in hits[:2]} == {"sort", "other"}
    assert all([s.signal for s in h.signals] == ["lexical"] for h in hits)
    with pytest.raises(ConfigError, match="embedding model"):
        await searcher.search("sort", mode="semantic")


def test_bad_settings_are_refused(index: EdgeVectorIndex) -> None:
    with pytest.raises(ConfigError, match="unknown search signal"):
        HybridSearcher(index, None, SparseEncoder(), weights={"graph": 1.0})
    with pytest.raises(ConfigError, match="k >= 0"):
        HybridSearcher(index, None, SparseEncoder(), k=-1)
    with pytest.raises(ConfigError, match="weights >= 0"):
        HybridSearcher(index, None, SparseEncoder(), weights={"lexical": -1.0})


def test_document_point_builds_the_payload_filters_use() -> None:
    doc = document("Function:abc", "r1", F, "src/kg/model.py", "python", "ann", 1, "def f(): pass")
    enc = SparseEncoder()
    point = document_point(doc, [0.5] * 4, enc.encode_document(doc.text))
    assert point.id == "Function:abc"
    assert point.dense == {"code": [0.5] * 4}
    assert point.sparse["lexical"] == enc.encode_document(doc.text)
    p = point.payload
    assert (p["eid"], p["repo"], p["kind"], p["hash"]) == (
        "Function:abc",
        "r1",
        "Function",
        doc.hash,
    )
    assert (p["path"], p["language"], p["name"]) == ("src/kg/model.py", "python", "abc")
    assert p["path_prefixes"] == ["src", "src/kg", "src/kg/model.py"]
    assert (p["authors"], p["time"]) == (["ann"], "2024-03-01T00:00:00+00:00")
    commit = document("c1", "r1", K, "", "", "ann", 1, "   ")
    bare = document_point(commit, None, enc.encode_document(commit.text))
    assert (bare.dense, bare.sparse) == ({}, {})
    assert bare.payload["path"] is None
    assert "path_prefixes" not in bare.payload


def test_collection_spec() -> None:
    spec = CollectionSpec(dense={"code": 384, "text": 384}, sparse=("lexical",))
    assert COLLECTION_SPEC(384) == spec
    assert collection_spec(0).dense == {}


@module_loop
async def test_document_point_accepts_extractor_payload_shapes(index: EdgeVectorIndex) -> None:
    enc = SparseEncoder()
    shapes: list[tuple[str, Attrs, str | None]] = [
        (
            "c-iso",
            {"kind": "commit", "author": "Eve", "time": "2024-03-01T10:00:00+01:00"},
            "2024-03-01T10:00:00+01:00",
        ),
        ("c-epoch", {"author": "Eve", "time": 1709287200}, "2024-03-01T10:00:00+00:00"),
        ("c-bad", {"author": "Eve", "time": "yesterday"}, None),
    ]
    points = []
    for eid, payload, expected_time in shapes:
        doc = Document(eid, "r9", K, "merge the release branch", payload, "text")
        point = document_point(doc, None, enc.encode_document(doc.text))
        assert point.payload["kind"] == "Commit"
        assert point.payload["authors"] == ["Eve"]
        assert point.payload.get("time") == expected_time
        points.append(point)
    await index.upsert(points)
    try:
        flt = VectorFilter(repo="r9", authors=["Eve"], since=datetime(2024, 3, 1, tzinfo=UTC))
        assert await index.count(flt) == 2
    finally:
        await index.delete([eid for eid, _, _ in shapes])
