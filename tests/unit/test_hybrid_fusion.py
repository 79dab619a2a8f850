"""Fusion of signal lists: the normalised score blend (default) and weighted RRF."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.hybrid import (
    DEFAULT_WEIGHTS,
    HybridSearcher,
    SearchHit,
    collection_spec,
    document_point,
)
from embeddings.index.base import ScoredPoint
from embeddings.index.edge import EdgeVectorIndex
from embeddings.sparse import SparseEncoder
from kg.errors import ConfigError
from kg.model import Document, EntityKind


def pts(*pairs: tuple[str, float]) -> list[ScoredPoint]:
    return [ScoredPoint(eid, s, {"eid": eid}) for eid, s in pairs]


LISTS = {
    "semantic": pts(("a", 0.8), ("b", 0.6), ("c", 0.4)),
    "lexical": pts(("c", 12.0), ("d", 6.0), ("a", 3.0)),
}


def searcher(tmp_path: Path, **kw: object) -> HybridSearcher:
    return HybridSearcher(EdgeVectorIndex(tmp_path), None, SparseEncoder(), **kw)  # type: ignore[arg-type]


def by_id(hits: list[SearchHit]) -> dict[str, SearchHit]:
    return {h.id: h for h in hits}


def test_score_blend_normalises_each_list_by_its_top(tmp_path: Path) -> None:
    s = searcher(tmp_path, weights={"semantic": 1.0, "lexical": 0.5})
    assert s.fusion == "score"
    hits = by_id(s.fuse(LISTS))
    assert hits["a"].score == pytest.approx(1.0 + 0.5 * 3 / 12)
    assert hits["b"].score == pytest.approx(0.6 / 0.8)
    assert hits["c"].score == pytest.approx(0.4 / 0.8 + 0.5)
    assert hits["d"].score == pytest.approx(0.5 * 6 / 12)
    assert [h.id for h in s.fuse(LISTS)] == ["a", "c", "b", "d"]
    for h in hits.values():
        assert h.score == pytest.approx(sum(p.contribution for p in h.signals))
        assert [p.signal for p in h.signals] == ["semantic", "lexical"]
    sem, lex = hits["d"].signals
    assert (sem.rank, sem.score, sem.contribution) == (None, None, 0.0)
    assert (lex.rank, lex.score, lex.weight) == (2, 6.0, 0.5)


def test_weight_moves_the_balance(tmp_path: Path) -> None:
    dense_first = searcher(tmp_path, weights={"lexical": 0.1}).fuse(LISTS)
    lexical_first = searcher(tmp_path, weights={"semantic": 0.1}).fuse(LISTS)
    assert dense_first[0].id == "a"
    assert lexical_first[0].id == "c"


def test_negative_scores_add_nothing_and_empty_lists_are_fine(tmp_path: Path) -> None:
    s = searcher(tmp_path)
    hits = by_id(s.fuse({"semantic": pts(("a", 0.5), ("b", -0.2)), "lexical": []}))
    assert hits["b"].score == 0.0 and hits["a"].score == pytest.approx(1.0)
    assert s.fuse({"semantic": [], "lexical": []}) == []


def test_rrf_is_still_available(tmp_path: Path) -> None:
    s = searcher(tmp_path, fusion="rrf", k=2.0, weights={"semantic": 1.0, "lexical": 1.0})
    hits = by_id(s.fuse(LISTS))
    assert hits["a"].score == pytest.approx(1 / 3 + 1 / 5)
    assert hits["c"].score == pytest.approx(1 / 5 + 1 / 3)
    assert hits["d"].score == pytest.approx(1 / 4)


def test_defaults_and_bad_settings(tmp_path: Path) -> None:
    assert searcher(tmp_path).weights == DEFAULT_WEIGHTS
    with pytest.raises(ConfigError, match="unknown fusion"):
        searcher(tmp_path, fusion="max")


async def test_search_is_retrieve_then_fuse(tmp_path: Path) -> None:
    index = EdgeVectorIndex(tmp_path / "v")
    await index.ensure(collection_spec(0))
    enc = SparseEncoder()
    docs = [
        Document(f"f{i}", "r", EntityKind.FUNCTION, text, {"path": f"m{i}.py"})
        for i, text in enumerate(["parse config", "parse the config file", "load config", "x"])
    ]
    await index.upsert([document_point(d, None, enc.encode_document(d.text)) for d in docs])
    s = HybridSearcher(index, None, enc)
    lists = await s.retrieve("parse config file", depth=10)
    assert list(lists) == ["lexical"] and len(lists["lexical"]) == 3
    assert await s.search("parse config file", limit=10) == s.fuse(lists)
    assert (await s.search("parse config file"))[0].id == "f1"
    await index.close()
